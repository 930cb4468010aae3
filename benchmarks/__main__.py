"""`python -m benchmarks [name ...]`: run the named benchmarks (default: all) on the benchmark database."""

import importlib
import sys

from .common import setup_django

# name -> module with run(out=None); each writes bench-results/<name>.json.
BENCHMARKS = {"ledger": "benchmarks.ledger"}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(BENCHMARKS)}", file=sys.stderr
        )
        return 2
    setup_django()
    for name in names:
        importlib.import_module(BENCHMARKS[name]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
