"""`python -m benchmarks [name ...]`: run the named benchmarks (default: all but the opt-in ones) on the
benchmark database."""

import importlib
import sys

from .common import setup_django

# name -> module with run(out=None), or "module:function"; each writes bench-results/<name>.json.
# ledger_import runs its steps in child processes on its own database (BENCH_IMPORT_DATABASE_URL).
BENCHMARKS = {
    "ledger": "benchmarks.ledger",
    "ledger_import": "benchmarks.ledger_import",
    "ledger_export": "benchmarks.ledger_export",  # no database: constructed rows
    "map": "benchmarks.map",
    "rules": "benchmarks.rules",
    "signs": "benchmarks.signs",
    "spatial": "benchmarks.spatial",  # in a child process on its own database (BENCH_SPATIAL_DATABASE_URL)
    "monitoring_eval": "benchmarks.monitoring:run_eval",
    "hj212_ingest": "benchmarks.monitoring:run_ingest",
    "impact": "benchmarks.monitoring:run_impact",
}
# Run only when named (`python -m benchmarks scale`): it needs PostgreSQL and builds a million outfalls.
OPT_IN = {
    "scale": "benchmarks.scale",  # children on its own PostgreSQL database (BENCH_SCALE_DATABASE_URL)
}
ALIASES = {"import": "ledger_import", "export": "ledger_export"}


def main(argv):
    names = [ALIASES.get(n, n) for n in argv] or list(BENCHMARKS)
    available = {**BENCHMARKS, **OPT_IN}
    unknown = [n for n in names if n not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr
        )
        return 2
    setup_django()
    for name in names:
        module, _, function = available[name].partition(":")
        getattr(importlib.import_module(module), function or "run")()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
