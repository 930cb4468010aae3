"""Helpers every benchmark shares: Django set-up on the benchmark database, timing, percentiles, reports.

Nothing here imports Django models at module level, so `setup_django()` can run first.
"""

import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench-results"
DEFAULT_DATABASE_URL = "sqlite:///var/bench.sqlite3"


# Environment -----------------------------------------------------------------------------------------
def env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def setup_django():
    """Point Django at the benchmark database (BENCH_DATABASE_URL or var/bench.sqlite3) and set it up.

    The benchmark never touches the development database (DATABASE_URL is overridden), and runs with
    DEBUG off as production does: DEBUG would log every query and slow every page.
    """
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outfalls.settings")
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django
    from django.conf import settings

    # WhiteNoise warns once that STATIC_ROOT does not exist (no collectstatic here): not a finding.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    if settings.DEBUG:
        raise RuntimeError("benchmarks must run with DEBUG off")


def migrate():
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def environment():
    """What the figures were measured on, for the JSON report."""
    import django
    from django.db import connection

    info = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SELECT version()")
        info["database_version"] = cursor.fetchone()[0]
    try:
        info["git_commit"] = _git("rev-parse", "--short", "HEAD")
        # Files changed since that commit (the figures measure the working tree, not the commit).
        info["git_changed_files"] = [line[3:] for line in _git("status", "--porcelain").splitlines()]
    except (OSError, subprocess.CalledProcessError):
        info["git_commit"] = None
    return info


def _git(*args):
    return subprocess.run(
        ["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.rstrip()  # keep leading spaces: porcelain status lines start with one


# Timing ----------------------------------------------------------------------------------------------
def percentile(samples, p):
    """The p-th percentile (0–100) of samples, linearly interpolated between the closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Timing:
    """Wall-clock samples of one operation, in seconds; db_samples: its time inside SQL statements."""

    samples: list = field(default_factory=list)
    db_samples: list = field(default_factory=list)

    @property
    def p50(self):
        return percentile(self.samples, 50)

    @property
    def p95(self):
        return percentile(self.samples, 95)

    @property
    def mean(self):
        return sum(self.samples) / len(self.samples)

    @property
    def db_p50(self):
        return percentile(self.db_samples, 50) if self.db_samples else None

    def summary_ms(self):
        summary = {
            "n": len(self.samples),
            "p50_ms": round(self.p50 * 1000, 3),
            "p95_ms": round(self.p95 * 1000, 3),
            "mean_ms": round(self.mean * 1000, 3),
            "min_ms": round(min(self.samples) * 1000, 3),
            "max_ms": round(max(self.samples) * 1000, 3),
        }
        if self.db_samples:
            summary["db_p50_ms"] = round(self.db_p50 * 1000, 3)
        return summary


class QueryTimer:
    """A connection.execute_wrapper that adds up the time spent executing statements.

    Rows fetched after execute() (SQLite steps through LIMITed results while Django reads them) are not
    counted, so this slightly underestimates the database's share on SQLite.
    """

    def __init__(self):
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def time_calls(fn, *, repeat, warmup=3, track_db=False):
    """Call fn() warmup times untimed, then repeat times timed; returns a Timing.

    With track_db, each call's time inside SQL statements is recorded too (Timing.db_samples).
    """
    from django.db import connection

    for _ in range(warmup):
        fn()
    gc.collect()
    timing = Timing()
    timer = QueryTimer()
    for _ in range(repeat):
        if track_db:
            before = timer.seconds
            with connection.execute_wrapper(timer):
                start = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - start
            timing.db_samples.append(timer.seconds - before)
        else:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
        timing.samples.append(elapsed)
    return timing


def capture_queries(fn):
    """Run fn() once, recording its SQL: (result, [{"sql", "time"}...]). Works with DEBUG off."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        result = fn()
    return result, list(context.captured_queries)


def profile_calls(fn, *, repeat=10, sort="cumulative", limit=30):
    """cProfile over repeat calls of fn(); returns the pstats report as text."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def ms(seconds):
    return seconds * 1000


# Memory and child processes ------------------------------------------------------------------------------
MIB = 1024 * 1024


def peak_mib():
    """This process's peak resident set size (ru_maxrss) in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (MIB if sys.platform == "darwin" else 1024)


def rss_mib():
    """This process's current resident set size in MiB (Linux /proc; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        return peak_mib()


def run_child(module, step, args=(), *, env, result_path):
    """Run `python -m module --step step --result result_path args...` in a fresh interpreter (so its
    ru_maxrss is its own) and return the JSON it wrote. Its log lines go to stderr."""
    result_path = Path(result_path)
    result_path.unlink(missing_ok=True)
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BASE_DIR), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", module, "--step", step, "--result", str(result_path), *map(str, args)]
    completed = subprocess.run(command, cwd=BASE_DIR, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark step {module} {step!r} failed (exit {completed.returncode})")
    return json.loads(result_path.read_text(encoding="utf-8"))


def child_cli(module, description, steps, child_main, run, argv=None):
    """The command line of a benchmark whose steps run in children (run_child): `--step NAME --result PATH
    args...` runs child_main(step, result path, args) in this process; no --step runs the whole benchmark."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--step", choices=sorted(steps), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        child_main(args.step, args.result, args.arguments)
    else:
        run()
    return 0


def load_average():
    """The 1-, 5- and 15-minute load averages (what else the shared machine was doing)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# Reports ---------------------------------------------------------------------------------------------
def _width(text):
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) >= 0x1100 and not 0x2000 <= ord(ch) < 0x2E80 else 1 for ch in str(text))


def format_table(headers, rows, *, right=None):
    """A plain-text table; columns named in `right` (default: all but the first two) are right-aligned."""
    right = set(range(2, len(headers))) if right is None else set(right)
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return " | ".join(parts).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *[line(row) for row in cells[1:]]])


def write_json(name, data):
    """Write bench-results/<name>.json (the directory is git-ignored) and return its path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def log(message, stdout=None):
    print(message, file=stdout or sys.stdout, flush=True)
