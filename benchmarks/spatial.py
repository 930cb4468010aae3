"""The spatial checks over 100,000 outfalls and 5,000 protected-area polygons, against brute force.

The issue: "`make bench` adds these figures, for 100,000 outfalls against 5,000 protected-area polygons:
the whole spatial check; ... each against a brute-force baseline measured in the same run."

It runs in a child process (`python -m benchmarks.spatial --child`) on its own database,
BENCH_SPATIAL_DATABASE_URL (default sqlite:///var/bench-spatial.sqlite3), so the ledger benchmark's
database is never written:

1. prepare: when that database holds fewer than BENCH_OUTFALLS outfalls, it is rebuilt: copied with
   SQLite's backup API from the ledger benchmark's database when that is SQLite and already holds them
   (var/bench.sqlite3), else migrated, loaded with the demo data and topped up with the ledger benchmark's
   generator (benchmarks/ledger.py). Then the generated protected areas are replaced by BENCH_AREAS (5,000)
   random small polygons (5–16 vertices, 100 m–1 km across, all kinds) over the counties' bounding box,
   seeded, bulk-inserted without history.
2. indexed: `checks.compute()` over every outfall (read everything, STRtrees, vectorised shapely, no
   writes), BENCH_SPATIAL_REPEAT (3) times, median; then `checks.check_outfalls()` (compute + write +
   fill empty section intervals) the same number of times in each of two states, median:
   - every finding written: the stored digests are wiped first, so no stored finding is kept (a first
     check, or the first after the messages changed);
   - again with the ledger unchanged: nothing is to be written.
   Then, in a transaction rolled back, BENCH_SPATIAL_MOVED (1,000) outfalls are moved (a third by metres,
   a third by kilometres, a third to another water body) and checked: only they (as an import does), and,
   from the same state, every outfall (timed). After every kind of run, the stored findings (all but ids
   and times) are compared with those a full rewrite of the same computation stores (delete everything,
   insert everything, rolled back): writing only the difference must leave exactly the same rows.
3. brute force, on a seeded sample of BENCH_SPATIAL_SAMPLE (2,000) outfalls, extrapolated linearly to all
   outfalls (the work per outfall does not depend on the others' number, except for duplicates, where it
   grows with it: each sampled outfall is compared with all 100,000): for each outfall,
   - protected areas: shapely.contains of every polygon (unprepared, no index) with the point;
   - counties: shapely.contains of every county boundary (unprepared);
   - rivers: the distance to every water body, the projection onto its declared river, a linear scan of
     that river's sections;
   - duplicates: the distance to every other outfall (numpy, the same formula as the check).
   The geometry is parsed once beforehand and not timed; the indexed figures per check exclude reading
   the database too, so both sides time the same work. The sample's results are compared with the
   indexed run's (they must agree).

Settings (environment): BENCH_OUTFALLS (100000), BENCH_AREAS (5000), BENCH_SPATIAL_SAMPLE (2000),
BENCH_SPATIAL_REPEAT (3), BENCH_SPATIAL_MOVED (1000), BENCH_SPATIAL_DATABASE_URL. Writes
bench-results/spatial.json.
"""

import argparse
import json
import math
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .common import BASE_DIR, DEFAULT_DATABASE_URL, env_int, format_table, log, write_json

NAME = "spatial"
SPATIAL_DATABASE_URL = "sqlite:///var/bench-spatial.sqlite3"
AREA_SOURCE = "benchmark: generated polygon"
SEED = 42
RESULT_FILE = BASE_DIR / "var" / "bench-spatial-result.json"


def database_url():
    return os.environ.get("BENCH_SPATIAL_DATABASE_URL") or SPATIAL_DATABASE_URL


def _sqlite_path(url):
    if not url.startswith("sqlite:"):
        return None
    path = url.split(":///", 1)[1]
    return Path(path) if path.startswith("/") else BASE_DIR / path


# Parent ------------------------------------------------------------------------------------------------
def run(out=None):
    env = dict(os.environ)
    # The ledger benchmark's database, which the child may copy; then setup_django() in the child reads
    # BENCH_DATABASE_URL: point it at this benchmark's own database.
    env["BENCH_LEDGER_DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    env["BENCH_DATABASE_URL"] = database_url()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BASE_DIR), env.get("PYTHONPATH")]))
    RESULT_FILE.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.spatial", "--child", "--result", str(RESULT_FILE)]
    completed = subprocess.run(command, cwd=BASE_DIR, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the spatial benchmark failed (exit {completed.returncode})")
    report = json.loads(RESULT_FILE.read_text(encoding="utf-8"))
    log("", out)
    log(_table(report), out)
    log("", out)
    for line in _notes(report):
        log(line, out)
    path = write_json(NAME, report)
    log(f"\nWrote {path.relative_to(BASE_DIR)}", out)
    return report


def _table(report):
    n = report["outfalls"]
    rows = []
    for row in report["rows"]:
        brute = row.get("brute_s")
        rows.append(
            [
                row["label"],
                f"{row['indexed_s']:.2f}",
                f"{n / row['indexed_s']:,.0f}" if row["indexed_s"] else "—",
                f"{brute:,.1f}" if brute is not None else "—",
                f"{brute / row['indexed_s']:,.0f}×" if brute is not None and row["indexed_s"] else "—",
            ]
        )
    sample = report["sample"]
    return format_table(
        [
            "check",
            f"indexed s ({n:,})",
            "outfalls/s",
            f"brute force s (from {sample:,}, extrapolated)",
            "speed-up",
        ],
        rows,
        right=[1, 2, 3, 4],
    )


def _notes(report):
    counts = ", ".join(f"{k} {v:,}" for k, v in report["findings"].items())
    return [
        f"{report['outfalls']:,} outfalls, {report['areas']:,} protected-area polygons "
        f"({report['generated_areas']:,} generated), {report['waters']} water bodies, {report['sections']} sections; "
        f"database {report['environment']['database']}.",
        f"Findings: {counts}."
        + (
            f" The first compute + write run also filled {report['first_run_filled_intervals']:,} empty"
            " 断面区间 (with history)."
            if report["first_run_filled_intervals"]
            else ""
        ),
        f"Brute force agrees with the indexed run on the {report['sample']:,}-outfall sample: "
        f"{'yes' if report['agree'] else 'NO'} ({report['agreement']}).",
        "Writing only the difference stores exactly what a full rewrite stores: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in report["difference_equals_rewrite"].items())
        + ".",
        "Rows written: every finding {}; again, ledger unchanged {}; after the moves, every outfall {}.".format(
            report["write_runs_written"][0], report["rerun_runs_written"][0], report["moved"]["all_written"]
        ),
        f"Checking only the {report['moved']['outfalls']:,} moved outfalls (as an import or a save does): "
        f"{report['moved']['moved_s']:.2f} s, {report['moved']['moved_written']}.",
        f"One outfall, as on a save (check_outfalls([id])): p50 {report['save']['p50_ms']:.1f} ms, "
        f"p95 {report['save']['p95_ms']:.1f} ms over {report['save']['n']} outfalls (counties and rivers "
        f"parsed again for each: p50 {report['save']['cold_p50_ms']:.1f} ms, "
        f"p95 {report['save']['cold_p95_ms']:.1f} ms).",
        f"Filling 断面区间 of {report['fill']['outfalls']:,} outfalls with history (rolled back): "
        f"{report['fill']['seconds']:.1f} s, of which writing {report['fill']['write_s']:.1f} s.",
        f"Peak memory: {report['peak_compute_mib']:,.0f} MiB after the compute runs, "
        f"{report['peak_mib']:,.0f} MiB at the end (brute force included).",
    ]


# Child -------------------------------------------------------------------------------------------------
def child(result_path):
    from .common import environment, setup_django

    setup_django()
    out = sys.stderr
    target = env_int("BENCH_OUTFALLS", 100_000)
    n_areas = env_int("BENCH_AREAS", 5_000)
    sample_size = env_int("BENCH_SPATIAL_SAMPLE", 2_000)
    repeat = env_int("BENCH_SPATIAL_REPEAT", 3)
    prepare(target, n_areas, out)

    from outfalls.registry import checks
    from outfalls.registry.models import Outfall, ProtectedArea, Section, SpatialFinding, WaterBody

    log(f"Indexed: compute only, {repeat} runs ...", out)
    compute_runs, computation = [], None
    for _ in range(repeat):
        computation = None  # one computation in memory at a time
        start = time.perf_counter()
        computation = checks.compute()
        compute_runs.append((time.perf_counter() - start, computation.timings))
        log(f"  {compute_runs[-1][0]:.2f} s", out)
    compute_s, timings = sorted(compute_runs, key=lambda run: run[0])[len(compute_runs) // 2]
    peak_compute = _peak_mib()
    log(
        f"Indexed: compute + write, every finding written (stored digests wiped first), {repeat} runs ...",
        out,
    )
    write_runs, counts, first_filled, same = [], {}, None, {}
    for n in range(repeat):
        SpatialFinding.objects.update(digest=None)  # as if written by another version: nothing is kept
        reference = _full_rewrite(checks) if n == 0 else None
        report = checks.check_outfalls()
        write_runs.append((report.seconds, report.timings.get("write", 0.0), report.written))
        counts = {str(kind): n for (kind, _), n in sorted(report.counts.items())}
        if first_filled is None:
            first_filled = sum(1 for v in report.filled.values() if v)
            same["first run"] = _stored_findings() == reference
        log(f"  {report.seconds:.2f} s (write {write_runs[-1][1]:.2f} s) {report.written}", out)
    write_s, write_only_s, _ = sorted(write_runs, key=lambda run: run[0])[len(write_runs) // 2]
    log(f"Indexed: compute + write again, ledger unchanged, {repeat} runs ...", out)
    # A run that filled 断面区间 leaves findings saying so; the next one finds them filled (another message,
    # rewritten once). One untimed check settles that, so that the timed runs meet an unchanged ledger.
    checks.check_outfalls()
    reference = _full_rewrite(checks)
    rerun_runs = []
    for _ in range(repeat):
        report = checks.check_outfalls()
        rerun_runs.append((report.seconds, report.timings.get("write", 0.0), report.written))
        log(f"  {report.seconds:.2f} s (write {rerun_runs[-1][1]:.2f} s) {report.written}", out)
    same["re-run"] = _stored_findings() == reference and not any(
        run[2]["inserted"] or run[2]["deleted"] for run in rerun_runs
    )
    rerun_s, rerun_write_s, _ = sorted(rerun_runs, key=lambda run: run[0])[len(rerun_runs) // 2]
    moved = _moved(checks, env_int("BENCH_SPATIAL_MOVED", 1_000), same, out)
    fill = _fill(checks, env_int("BENCH_SPATIAL_FILL", 10_000), out)
    save = _saves(checks, env_int("BENCH_SPATIAL_SAVES", 30), out)

    log(f"Brute force on {sample_size:,} outfalls ...", out)
    brute = Brute(sample_size)
    brute_times = brute.run()
    agreement = brute.compare(computation)
    n = computation.checked
    scale = n / len(brute.sample)

    def step(*names):
        return sum(timings.get(name, 0.0) for name in names)

    brute_total = sum(brute_times.values()) * scale
    loads = step(*LOAD_STEPS)
    rows = [
        {
            "label": f"protected areas ({brute.n_areas:,} polygons)",
            "indexed_s": step("protected areas"),
            "brute_s": brute_times["areas"] * scale,
        },
        {
            "label": "county boundaries",
            "indexed_s": step("county boundaries"),
            "brute_s": brute_times["counties"] * scale,
        },
        {
            "label": "rivers: distance, nearest, section interval",
            "indexed_s": step("rivers and section intervals"),
            "brute_s": brute_times["rivers"] * scale,
        },
        {
            "label": "duplicates (30 m)",
            "indexed_s": step("duplicates"),
            "brute_s": brute_times["duplicates"] * scale,
        },
        {"label": "reading outfalls and reference data", "indexed_s": loads, "brute_s": None},
        {"label": "whole check, compute only", "indexed_s": compute_s, "brute_s": brute_total + loads},
        {
            "label": "whole check, compute + write every finding",
            "indexed_s": write_s,
            "brute_s": brute_total + loads + write_only_s,
        },
        {
            "label": "whole check again, ledger unchanged",
            "indexed_s": rerun_s,
            "brute_s": brute_total + loads + rerun_write_s,
        },
        {
            "label": f"whole check after {moved['outfalls']:,} outfalls moved",
            "indexed_s": moved["all_s"],
            "brute_s": brute_total + loads + moved["all_write_s"],
        },
    ]
    result = {
        "environment": environment(),
        "outfalls": n,
        "areas": ProtectedArea.objects.count(),
        "generated_areas": ProtectedArea.objects.filter(source=AREA_SOURCE).count(),
        "waters": WaterBody.objects.exclude(geometry=None).count(),
        "sections": Section.objects.count(),
        "sample": len(brute.sample),
        "repeat": repeat,
        "rows": rows,
        "compute_runs_s": [run[0] for run in compute_runs],
        "write_runs_s": [run[0] for run in write_runs],
        "write_only_s": write_only_s,
        "write_runs_written": [run[2] for run in write_runs],
        "rerun_runs_s": [run[0] for run in rerun_runs],
        "rerun_write_s": rerun_write_s,
        "rerun_runs_written": [run[2] for run in rerun_runs],
        "moved": moved,
        "difference_equals_rewrite": same,
        "indexed_steps_s": timings,
        "brute_sample_s": brute_times,
        "findings": counts,
        "findings_stored": SpatialFinding.objects.count(),
        "first_run_filled_intervals": first_filled,
        "fill": fill,
        "save": save,
        "agree": all(agreement.values()),
        "agreement": ", ".join(f"{k} {'same' if v else 'DIFFERENT'}" for k, v in agreement.items()),
        "peak_compute_mib": peak_compute,
        "peak_mib": _peak_mib(),
        "outfalls_in_database": Outfall.objects.count(),
    }
    Path(result_path).write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )


def _stored_findings():
    """Every stored finding but its id and time, sorted: what two ways of writing must agree on."""
    from outfalls.registry.models import SpatialFinding

    rows = SpatialFinding.objects.order_by().values_list(
        "outfall_id",
        "kind",
        "severity",
        "message",
        "data",
        "protected_area_id",
        "other_outfall_id",
        "filled",
        "digest",
    )
    return sorted(
        (*row[:4], json.dumps(row[4], sort_keys=True), *(-1 if v is None else v for v in row[5:]))
        for row in rows
    )


def _full_rewrite(checks):
    """The findings a full rewrite stores now: every stored finding deleted and every finding inserted, in a
    transaction (a savepoint inside another) that is rolled back."""
    from django.db import transaction

    from outfalls.registry.models import SpatialFinding

    try:
        with transaction.atomic():
            computation = checks.compute()
            SpatialFinding.objects.update(digest=None)  # nothing stored matches: everything is rewritten
            checks.write(computation)
            if computation.written["kept"]:
                raise RuntimeError("a full rewrite kept rows")
            snapshot = _stored_findings()
            raise _Rollback
    except _Rollback:
        return snapshot


def _moved(checks, count, same, out):
    """Move `count` outfalls (a third a few metres, a third a few kilometres, a third to another water body),
    then check them (as an import does) and, from the same state, every outfall; each time compare what is
    stored with a full rewrite. In a transaction that is rolled back."""
    from django.db import transaction

    from outfalls.geo.shapes import metres_per_degree
    from outfalls.registry.models import Outfall, WaterBody

    rng = random.Random(SEED + 2)
    ids = sorted(rng.sample(list(Outfall.objects.values_list("id", flat=True)), count))
    waters = sorted(WaterBody.objects.exclude(geometry=None).values_list("id", flat=True))
    log(f"Moving {count:,} outfalls (rolled back) ...", out)
    result = {"outfalls": count}
    try:
        with transaction.atomic():
            rows = Outfall.objects.filter(id__in=ids).order_by("id").values_list("id", "lon", "lat")
            for n, (pk, lon, lat) in enumerate(list(rows)):
                if n % 3 == 2:
                    Outfall.objects.filter(pk=pk).update(water_body_id=rng.choice(waters))
                    continue
                metres = rng.uniform(5, 40) if n % 3 == 0 else rng.uniform(1_000, 5_000)
                angle = rng.uniform(0, 2 * math.pi)
                per_lon, per_lat = metres_per_degree(lat)
                Outfall.objects.filter(pk=pk).update(
                    lon=lon + metres * math.cos(angle) / per_lon, lat=lat + metres * math.sin(angle) / per_lat
                )
            reference = _full_rewrite(checks)
            savepoint = transaction.savepoint()
            report = checks.check_outfalls(ids)
            result.update(moved_s=report.seconds, moved_written=report.written)
            same[f"{count:,} moved, their check"] = _stored_findings() == reference
            log(f"  checking the moved: {report.seconds:.2f} s {report.written}", out)
            transaction.savepoint_rollback(savepoint)
            report = checks.check_outfalls()
            result.update(
                all_s=report.seconds, all_write_s=report.timings.get("write", 0.0), all_written=report.written
            )
            same[f"{count:,} moved, every outfall's check"] = _stored_findings() == reference
            log(f"  checking every outfall: {report.seconds:.2f} s {report.written}", out)
            raise _Rollback
    except _Rollback:
        pass
    return result


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Rollback(Exception):
    pass


def _fill(checks, size, out):
    """check_outfalls on `size` outfalls whose 断面区间 was emptied: it fills them, with history rows.

    Inside a transaction that is rolled back, so the database (and its history) stays as it was.
    """
    from django.db import transaction

    from outfalls.registry.models import Outfall

    ids = sorted(random.Random(SEED).sample(list(Outfall.objects.values_list("id", flat=True)), size))
    log(f"Filling 断面区间 of {size:,} outfalls (rolled back) ...", out)
    result = {}
    try:
        with transaction.atomic():
            for start in range(0, len(ids), 2000):
                Outfall.objects.filter(id__in=ids[start : start + 2000]).update(section_interval="")
            report = checks.check_outfalls(ids)
            result = {
                "outfalls": size,
                "seconds": report.seconds,
                "write_s": report.timings.get("write", 0.0),
                "filled": sum(1 for v in report.filled.values() if v),
            }
            raise _Rollback
    except _Rollback:
        pass
    log(f"  {result['seconds']:.2f} s, {result['filled']:,} filled", out)
    return result


def _saves(checks, count, out):
    """check_outfalls([id]) as on a save: p50 and p95 over `count` random outfalls, with the parsed counties
    and rivers kept from the save before (a running server) and, "cold", parsed again for each (the first
    save after a change of the reference data, or in a new process)."""
    from outfalls.registry.models import Outfall

    from .common import percentile

    ids = random.Random(SEED + 1).sample(list(Outfall.objects.values_list("id", flat=True)), count)
    result = {"n": count}
    for mode in ("cold", "warm"):
        samples = []
        checks.check_outfalls([ids[0]])  # warm: parsed once before the timed saves
        for pk in ids:
            if mode == "cold":
                checks.forget_reference()
            start = time.perf_counter()
            checks.check_outfalls([pk])
            samples.append(time.perf_counter() - start)
        prefix = "" if mode == "warm" else "cold_"
        result[f"{prefix}p50_ms"] = percentile(samples, 50) * 1000
        result[f"{prefix}p95_ms"] = percentile(samples, 95) * 1000
    log(
        f"One outfall (the save hook): p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms; reference "
        f"data parsed again for each: p50 {result['cold_p50_ms']:.1f} ms, p95 {result['cold_p95_ms']:.1f} ms",
        out,
    )
    return result


LOAD_STEPS = (
    "load outfalls, counties and waters",
    "points",
    "load protected areas",
    "load old intervals",
    "load outfalls for duplicates",
)


def prepare(target, n_areas, out):
    from django.db import connection

    from .common import migrate

    if connection.vendor == "sqlite" and _count_outfalls() < target:
        source = _sqlite_path(os.environ.get("BENCH_LEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL)
        own = Path(connection.settings_dict["NAME"])
        if source and source.exists() and source != own and _count_outfalls(source) >= target:
            log(f"Copying {source.relative_to(BASE_DIR)} (the ledger benchmark's) to {own.name} ...", out)
            connection.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{own}{suffix}").unlink(missing_ok=True)
            with sqlite3.connect(source) as src, sqlite3.connect(own) as dst:
                src.backup(dst)
    migrate()
    if _count_outfalls() < target:
        from .ledger import ensure_outfalls, ensure_reference_data

        ensure_reference_data(out)
        ensure_outfalls(target, out)
    _replace_areas(n_areas, out)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _count_outfalls(path=None):
    if path is not None:
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                return db.execute("SELECT COUNT(*) FROM registry_outfall").fetchone()[0]
        except sqlite3.Error:
            return 0
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM registry_outfall")
            return cursor.fetchone()[0]
    except DatabaseError:
        return 0


def _replace_areas(n_areas, out):
    """n_areas random small polygons over the counties' bounding box (seeded), replacing earlier ones."""
    from django.db import transaction

    from outfalls.core.choices import COUNTY_LEVELS
    from outfalls.core.models import Jurisdiction
    from outfalls.geo import shapes
    from outfalls.registry.choices import ProtectedAreaKind
    from outfalls.registry.models import ProtectedArea

    bounds = [
        shapes.shape_of(b).bounds
        for b in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, boundary__isnull=False).values_list(
            "boundary", flat=True
        )
    ]
    if bounds:
        minx, miny = min(b[0] for b in bounds), min(b[1] for b in bounds)
        maxx, maxy = max(b[2] for b in bounds), max(b[3] for b in bounds)
    else:
        minx, miny, maxx, maxy = 112.5, 39.0, 114.6, 40.8
    rng = random.Random(SEED)
    kinds = list(ProtectedAreaKind.values)
    rows = []
    for n in range(n_areas):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        per_lon, per_lat = shapes.metres_per_degree(lat)
        radius = rng.uniform(50, 500)
        sides = rng.randint(5, 16)
        ring = []
        for k in range(sides):
            angle = 2 * math.pi * k / sides
            r = radius * rng.uniform(0.6, 1.0)
            ring.append(
                [round(lon + r * math.cos(angle) / per_lon, 6), round(lat + r * math.sin(angle) / per_lat, 6)]
            )
        ring.append(ring[0])
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        rows.append(
            ProtectedArea(
                name=f"基准测试保护区{n + 1:05d}",
                kind=rng.choice(kinds),
                geometry={"type": "Polygon", "coordinates": [ring]},
                min_lon=min(xs),
                min_lat=min(ys),
                max_lon=max(xs),
                max_lat=max(ys),
                source=AREA_SOURCE,
                approximate=True,
            )
        )
    with transaction.atomic():
        ProtectedArea.objects.filter(source=AREA_SOURCE).delete()
        ProtectedArea.objects.bulk_create(rows, batch_size=2000)
    log(f"{n_areas:,} generated protected-area polygons ({ProtectedArea.objects.count():,} in all)", out)


# The brute-force baseline ------------------------------------------------------------------------------
class Brute:
    """The same checks on a sample of outfalls with no index: every point against every geometry."""

    def __init__(self, sample_size):
        import numpy as np
        import shapely

        from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
        from outfalls.core.models import Jurisdiction
        from outfalls.geo import shapes
        from outfalls.geo.linref import RiverLine
        from outfalls.registry import checks
        from outfalls.registry.models import Outfall, ProtectedArea, Section, WaterBody

        self.np, self.shapely, self.checks = np, shapely, checks
        rows = list(
            Outfall.objects.order_by("id").values_list("id", "lon", "lat", "county_id", "water_body_id")
        )
        self.all_ids = np.array([r[0] for r in rows])
        self.all_lon = np.array([r[1] for r in rows])
        self.all_lat = np.array([r[2] for r in rows])
        rng = random.Random(SEED)
        self.sample = sorted(rng.sample(rows, min(sample_size, len(rows))))
        areas = list(ProtectedArea.objects.order_by("id").values_list("id", "geometry"))
        self.area_ids = [a[0] for a in areas]
        self.areas = np.array([shapes.shape_of(a[1]) for a in areas], dtype=object)  # not prepared
        self.n_areas = len(areas)
        places = Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, boundary__isnull=False).order_by("code")
        self.places = [(p.id, p.level, shapes.shape_of(p.boundary)) for p in places]
        self.place_geoms = np.array([g for _, _, g in self.places], dtype=object)
        self.real = [n for n, (_, level, _) in enumerate(self.places) if level == JurisdictionLevel.COUNTY]
        self.frame = checks._city_frame(
            [checks.Place(pid, "", level, geom, False) for pid, level, geom in self.places], self.all_lat
        )
        sections = {}
        for pk, name, water, lon, lat in Section.objects.values_list(
            "id", "name", "water_body_id", "lon", "lat"
        ):
            sections.setdefault(water, []).append((pk, name, lon, lat))
        self.waters = []
        for pk, geometry in (
            WaterBody.objects.exclude(geometry=None).order_by("id").values_list("id", "geometry")
        ):
            geom = shapes.shape_of(geometry)
            river = RiverLine(geom, sections.get(pk, ())) if geom.geom_type.endswith("LineString") else None
            self.waters.append((pk, self.frame.geometry(geom), river))
        self.water_geoms = np.array([w[1] for w in self.waters], dtype=object)
        self.results = {}

    def run(self):
        times = {}
        for name in ("areas", "counties", "rivers", "duplicates"):
            start = time.perf_counter()
            self.results[name] = getattr(self, f"_{name}")()
            times[name] = time.perf_counter() - start
        return times

    def _areas(self):
        shapely, np = self.shapely, self.np
        hits = set()
        for pk, lon, lat, *_ in self.sample:
            inside = shapely.contains(self.areas, shapely.Point(lon, lat))
            hits.update((pk, self.area_ids[j]) for j in np.nonzero(inside)[0])
        return hits

    def _counties(self):
        shapely = self.shapely
        index = {pid: n for n, (pid, _, _) in enumerate(self.places)}
        flagged = set()
        for pk, lon, lat, county, _ in self.sample:
            inside = shapely.contains(self.place_geoms, shapely.Point(lon, lat))
            if county in index and not inside[index[county]]:
                flagged.add(pk)
        return flagged

    def _rivers(self):
        shapely = self.shapely
        by_id = {w[0]: w for w in self.waters}
        intervals = {}
        for pk, lon, lat, _, water in self.sample:
            point = shapely.Point(*self.frame.xy(lon, lat))
            shapely.distance(self.water_geoms, point)  # the nearest water body: every one of them
            if water in by_id and by_id[water][2] is not None:
                river = by_id[water][2]
                km = river.chainage(lon, lat)
                up = down = None
                for section in river.sections:  # linear scan
                    if section.chainage_km <= km:
                        up = section
                    elif down is None:
                        down = section
                intervals[pk] = self.checks.interval_text(up.name if up else "", down.name if down else "")
        return intervals

    def _duplicates(self):
        from outfalls.geo.shapes import metres_per_degree

        np = self.np
        limit = self.checks.duplicate_m()
        pairs = set()
        for pk, lon, lat, *_ in self.sample:
            per_lon, per_lat = metres_per_degree(0.5 * (lat + self.all_lat))
            d = np.hypot((self.all_lon - lon) * per_lon, (self.all_lat - lat) * per_lat)
            for other in self.all_ids[(d <= limit) & (self.all_ids != pk)]:
                pairs.add((pk, int(other)))
        return pairs

    def compare(self, computation):
        from outfalls.registry.choices import FindingKind

        sample = {r[0] for r in self.sample}
        found = {kind: set() for kind in ("areas", "counties", "duplicates")}
        intervals = {}
        for outfall_id, kind, _message, data, area_id, other_id in computation.findings:
            if outfall_id not in sample:
                continue
            if kind == FindingKind.PROTECTED_AREA:
                found["areas"].add((outfall_id, area_id))
            elif kind == FindingKind.COUNTY_MISMATCH:
                found["counties"].add(outfall_id)
            elif kind == FindingKind.DUPLICATE:
                found["duplicates"].add((outfall_id, other_id))
            elif kind == FindingKind.SECTION_INTERVAL:
                intervals[outfall_id] = data["interval"]
        return {
            "protected areas": found["areas"] == self.results["areas"],
            "counties": found["counties"] == self.results["counties"],
            "section intervals": intervals == self.results["rivers"],
            "duplicates": found["duplicates"] == self.results["duplicates"],
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help="run the measurements (in the child process)")
    parser.add_argument("--result", default=str(RESULT_FILE))
    args = parser.parse_args(argv)
    if args.child:
        child(args.result)
        return 0
    from .common import setup_django

    setup_django()
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
