"""The ledger import over a 100,000-row attachment-1 file: the dry run and the commit against a bare read.

The issue: "`make bench` generates a 100,000-row attachment-1 file and imports it with the dry run and
with the commit. It prints: rows per second; peak memory; the ratio of the whole import to a bare read of
all cells of the same file with the same reader." Issue 17 set the goals it checks now: the dry run within
2x the bare read, the whole import within 5x, peak memory at most 500 MiB.

Each step runs in a fresh child process (`python -m benchmarks.ledger_import --step ...`), so its peak
memory (ru_maxrss) is its own and the ledger benchmark's database is never touched:

1. prepare: recreate the import's own database (var/bench-import.sqlite3 is deleted; another database is
   flushed), migrate, load the demo data, and write the file: title row, two header rows with merged group
   headers and the county typos (tests/ledger_files.make_large_xlsx), BENCH_IMPORT_ROWS rows that all
   resolve against the demo data (its counties, towns, villages and rivers; points near the river each
   row names and inside its county, none within 31 m of another or of a demo outfall; unique names or
   blank ones for the platform to generate; 5,000 discharge units shared by the rows, some the demo's).
2. bare read: `ledger_reader.bare_read`, every cell with the reader the import uses (median of 3).
3. dry run: `run_preview` on a LedgerImport record as the `bureau` user, as the upload page does
   (interpret every row, then store the counts and the per-row report on the record).
4. commit: `commit` on that record (it takes the dry run's kept verdicts, or judges the file again when
   the ledger moved since, then writes the outfalls, units, owner links, status changes and history rows
   in one transaction, and runs the spatial checks); the created rows are counted.

"Whole import" = dry run + commit, the two steps a person goes through; its ratio to the bare read is the
issue's goal. With BENCH_PROFILE=1 two more children profile, with cProfile, the dry run (interpret) and
the commit (rolled back afterwards) over a file of the first BENCH_PROFILE_ROWS (10000) rows; the costs
per row are the same as over the whole file (both steps scale linearly).

Settings (environment): BENCH_IMPORT_ROWS (100000), BENCH_IMPORT_DATABASE_URL (default
sqlite:///var/bench-import.sqlite3; recreated every run), BENCH_PROFILE=1 for the profiles,
BENCH_PROFILE_ROWS (10000) for their file.
Writes bench-results/ledger_import.json.
"""

import datetime
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

from .common import BASE_DIR, child_cli, env_int, format_table, log, peak_mib, rss_mib, run_child, write_json

NAME = "ledger_import"
DEFAULT_DATABASE_URL = "sqlite:///var/bench-import.sqlite3"
WORK_DIR = BASE_DIR / "var" / "bench-import"  # the generated file, the media root, step results
FILE_NAME = "大同市入河排污口信息汇总表-benchmark.xlsx"
GOAL_DRY_RUN_RATIO = 2.0
GOAL_RATIO = 5.0
GOAL_MEMORY_MIB = 500
SEED = 42
UNITS = 5_000  # distinct discharge units named in the file
MIN_SPACING_M = 31.0  # generated points keep this far apart (the import's duplicate distance is 30 m)
FAR_SHARE = 0.03  # points 500-1,500 m from their river (the spatial checks warn beyond 500 m)
PROFILE_LINES = 15
MIB = 1024 * 1024


def database_url():
    return os.environ.get("BENCH_IMPORT_DATABASE_URL") or DEFAULT_DATABASE_URL


# Child processes -----------------------------------------------------------------------------------------
def _child_env():
    env = dict(os.environ)
    # setup_django() reads BENCH_DATABASE_URL: point it at the import's own database.
    env["BENCH_DATABASE_URL"] = database_url()
    env["MEDIA_ROOT"] = str(WORK_DIR / "media")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BASE_DIR), env.get("PYTHONPATH")]))
    return env


def _run_step(step, *args):
    """Run one step in a fresh interpreter; returns the dict it wrote. Its log lines go to stderr."""
    return run_child(
        "benchmarks.ledger_import", step, args, env=_child_env(), result_path=WORK_DIR / f"{step}.json"
    )


_rss_mib, _peak_mib = rss_mib, peak_mib


class _Timed:
    """Wraps a module function to add up the seconds spent in it (to split a step into its parts)."""

    def __init__(self, module, name):
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.original)


def _measure(fn):
    """Run fn() once: (result, seconds, SQL seconds, statements, RSS before in MiB)."""
    import gc

    from django.db import connection

    from .common import QueryTimer

    gc.collect()
    before = _rss_mib()
    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return result, seconds, timer.seconds, timer.count, before


def _profile(fn, *, limit=PROFILE_LINES):
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    texts = {}
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
        # Drop pstats' preamble (the "Ordered by" line and everything above it).
        text = out.getvalue()
        texts[sort] = text[text.find("   ncalls") :].rstrip() if "   ncalls" in text else text
    return texts


# Step: prepare --------------------------------------------------------------------------------------------
def _recreate_database(out):
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from .common import migrate

    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        connection.close()
        path = Path(database["NAME"])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        migrate()
    else:
        migrate()
        call_command("flush", interactive=False, verbosity=0)
    from io import StringIO

    from outfalls.registry.demo import load_demo

    start = time.perf_counter()
    load_demo(stdout=StringIO())
    log(f"  fresh database ({connection.vendor}), demo loaded in {time.perf_counter() - start:.1f} s", out)


# Cell texts the rows are written with: the template's vocabulary and the variants counties use.
SECTIONS = [
    "固定桥-册田水库",
    "孤山-艾庄",
    "观音堂-张家场",
    "小白登-大白登",
    "水神堂泉-广灵",
    "王庄堡镇-南水芦",
]
LANDMARKS = [
    "御河东路",
    "魏都大道",
    "文兴路",
    "迎宾街",
    "北都街",
    "南环路",
    "开源街",
    "同泉路",
    "东沟",
    "西干渠",
]
UNIT_WORDS = "华鑫宏泰恒昌兴隆瑞丰永安金鼎德盛晋同云冈塞北御河文瀛恒通汇源长城新荣东方明珠正大天成嘉禾"
INDUSTRIES = ["化工", "煤业", "焦化", "热电", "建材", "食品", "制药", "机械", "冶金", "酿造", "纺织", "养殖"]
UNIT_SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "厂"]
DESCRIPTIONS = ["", "", "桥下游50米", "闸口东侧", "排干渠入河处", "铁路桥上游", "涵洞出口"]


def _point_texts(rng, lon, lat):
    """The ways people write one point: mostly decimal degrees, some with a full-width comma or DMS."""
    r = rng.random()
    if r < 0.85:
        return f"{lon:.6f},{lat:.6f}"
    if r < 0.95:
        return f"{lon:.6f}，{lat:.6f}"

    def dms(value):
        hundredths = round(value * 360_000)  # whole hundredths of a second, so 59.995″ cannot print as 60.00
        degrees, rest = divmod(hundredths, 360_000)
        minutes, rest = divmod(rest, 6_000)
        return f"{degrees}°{minutes:02d}′{rest / 100:05.2f}″"

    return f"E{dms(lon)}, N{dms(lat)}"


def _place_forms(name, suffixes):
    """The name as written and, now and then, without its suffix (平城区 → 平城), as the import accepts."""
    forms = [name]
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            forms.append(name[: -len(suffix)])
            break
    return forms


def points_beside_rivers(random, lines, lengths, n, kx, ky):
    """n points beside rivers, as outfalls lie: a line drawn by length (lines in metres, x = lon * kx,
    y = lat * ky), a place along it, then 10-450 m to either side (FAR_SHARE of them 500-1,500 m, which the
    spatial checks flag). random: a numpy Generator. Returns (line index, lon, lat) arrays, 6 decimals."""
    import numpy as np
    import shapely

    which = random.choice(len(lines), size=n, p=lengths / lengths.sum())
    along = random.random(n) * lengths[which]
    geoms = np.array([lines[i] for i in which], dtype=object)
    at = shapely.line_interpolate_point(geoms, along)
    ahead = shapely.line_interpolate_point(geoms, np.minimum(along + 5.0, lengths[which]))
    behind = shapely.line_interpolate_point(geoms, np.maximum(along - 5.0, 0.0))
    dx = shapely.get_x(ahead) - shapely.get_x(behind)
    dy = shapely.get_y(ahead) - shapely.get_y(behind)
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    far = random.random(n) < FAR_SHARE
    offset = np.where(far, random.uniform(500, 1500, n), random.uniform(10, 450, n))
    offset *= np.where(random.random(n) < 0.5, -1.0, 1.0)
    lon = np.round((shapely.get_x(at) - dy / norm * offset) / kx, 6)
    lat = np.round((shapely.get_y(at) + dx / norm * offset) / ky, 6)
    return which, lon, lat


class RowMaker:
    """Deterministic attachment-1 rows that resolve against the demo data and are all new outfalls."""

    def __init__(self, rng, count):
        from django.conf import settings
        from shapely.geometry import shape

        from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
        from outfalls.core.models import Jurisdiction
        from outfalls.registry import ledger_values
        from outfalls.registry.choices import (
            Conveyance,
            EntryMode,
            OutletPosition,
            RectificationStatus,
            UnitKind,
        )
        from outfalls.registry.classification import TypeCode, level2_for, level3_for
        from outfalls.registry.models import DischargeUnit, WaterBody
        from outfalls.registry.validators import make_credit_code

        self.rng = rng
        self.count = count
        places = list(Jurisdiction.objects.defer("boundary").order_by("code"))
        self.counties = [j for j in places if j.level in COUNTY_LEVELS]
        self.towns, self.villages = {}, {}
        for j in places:
            if j.level == JurisdictionLevel.TOWN:
                self.towns.setdefault(j.county_id, []).append(j)
            elif j.level == JurisdictionLevel.VILLAGE:
                self.villages.setdefault(j.parent_id, []).append(j)
        city = Jurisdiction.objects.get(code=settings.CITY_CODE)
        self.city_name = city.name
        self.bbox = shape(city.boundary).bounds
        self.waters = [w.name for w in WaterBody.objects.defer("geometry").order_by("code")]
        if not self.counties or not self.waters:
            raise RuntimeError("the demo data has no counties or receiving waters")
        # Classification cells: every level-3, level-2 and level-1 label the import reads, and 暂无法确定.
        self.classifications = []
        for code in TypeCode:
            if code == TypeCode.UNDETERMINED:
                continue
            self.classifications.append(ledger_values.classification_text(code))
            for level2 in level2_for(code):
                self.classifications.append(ledger_values.classification_text(code, level2))
                for level3 in level3_for(level2):
                    self.classifications.append(ledger_values.classification_text(code, level2, level3))
        self.undetermined = ledger_values.classification_text(TypeCode.UNDETERMINED)
        self.entry_modes = [str(c.label) for c in EntryMode]
        self.positions = [str(c.label) for c in OutletPosition]
        self.conveyances = [str(c.label) for c in Conveyance]
        self.rectifications = [str(c.label) for c in RectificationStatus]
        self.unit_kinds = [str(c.label) for c in UnitKind]
        # 5,000 units: most new to the platform (created by the commit), a few the demo's own.
        demo_units = list(DischargeUnit.objects.order_by("pk").values_list("name", flat=True))
        names, seen = [], set(demo_units)
        while len(names) < UNITS - len(demo_units):
            words = rng.choice(UNIT_WORDS) + rng.choice(UNIT_WORDS)
            name = f"大同{words}{rng.choice(INDUSTRIES)}{rng.choice(UNIT_SUFFIXES)}"
            if name not in seen:
                seen.add(name)
                names.append(name)
        self.units = [
            (name, make_credit_code(f"91140200{k:08d}")) for k, name in enumerate(demo_units + names)
        ]
        self.points = self._river_points()

    def _river_points(self):
        """count points [(lon, lat, water name, county)] along the receiving waters, inside a county.

        As outfalls lie: 10-450 m from the river they drain into (FAR_SHARE of them 500-1,500 m, which
        the spatial checks flag), inside the city's bounding box and the boundary of the county they are
        declared in. No two points lie within MIN_SPACING_M of each other or of a demo outfall, so the
        import finds no possible duplicates.
        """
        import numpy as np
        import shapely
        from shapely.geometry import shape

        from outfalls.core.choices import COUNTY_LEVELS
        from outfalls.core.models import Jurisdiction
        from outfalls.registry.models import Outfall, WaterBody

        min_lon, min_lat, max_lon, max_lat = self.bbox
        kx = 111_320.0 * math.cos(math.radians((min_lat + max_lat) / 2))
        ky = 110_574.0
        lines = [
            (w.name, shapely.transform(shape(w.geometry), lambda xy: xy * np.array([kx, ky])))
            for w in WaterBody.objects.exclude(geometry=None).order_by("code")
        ]
        if not lines:
            raise RuntimeError("the demo's receiving waters have no geometry")
        lengths = np.array([line.length for _, line in lines])
        by_pk = {c.pk: c for c in self.counties}
        areas = [
            (by_pk[pk], shape(boundary))
            for pk, boundary in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, pk__in=by_pk)
            .exclude(boundary=None)
            .order_by("code")
            .values_list("pk", "boundary")
        ]
        random = np.random.default_rng(self.rng.getrandbits(64))
        taken = {}  # (x, y) cell of MIN_SPACING_M metres -> points in metres

        def cell(x, y):
            return (int(x // MIN_SPACING_M), int(y // MIN_SPACING_M))

        def free(x, y):
            cx, cy = cell(x, y)
            return all(
                (px - x) ** 2 + (py - y) ** 2 >= MIN_SPACING_M**2
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                for px, py in taken.get((cx + dx, cy + dy), ())
            )

        for lon, lat in Outfall.objects.values_list("lon", "lat"):
            if lon is not None and lat is not None:
                taken.setdefault(cell(lon * kx, lat * ky), []).append((lon * kx, lat * ky))
        points = []
        while len(points) < self.count:
            n = max(1000, (self.count - len(points)) * 2)
            which, lon, lat = points_beside_rivers(random, [line for _, line in lines], lengths, n, kx, ky)
            owner = np.full(n, -1)
            for k, (_, polygon) in enumerate(areas):
                owner[shapely.contains_xy(polygon, lon, lat) & (owner < 0)] = k
            inside = (owner >= 0) & (lon > min_lon) & (lon < max_lon) & (lat > min_lat) & (lat < max_lat)
            for i in np.nonzero(inside)[0].tolist():
                x, y = float(lon[i]) * kx, float(lat[i]) * ky
                if not free(x, y):
                    continue
                taken.setdefault(cell(x, y), []).append((x, y))
                points.append((float(lon[i]), float(lat[i]), lines[which[i]][0], areas[owner[i]][0]))
                if len(points) == self.count:
                    break
        return points

    def rows(self):
        rng = self.rng
        for i, (lon, lat, water, county) in enumerate(self.points):
            towns = self.towns.get(county.pk, [])
            town = rng.choice(towns) if towns and rng.random() < 0.85 else None
            villages = self.villages.get(town.pk, []) if town else []
            village = rng.choice(villages) if villages and rng.random() < 0.4 else None
            undetermined = rng.random() < 0.08
            classification = self.undetermined if undetermined else rng.choice(self.classifications)
            row = {
                "seq": i + 1,
                "water_body": water,
                "section_interval": rng.choice(SECTIONS) if rng.random() < 0.5 else None,
                "county": rng.choice(_place_forms(county.name, ("区", "县"))),
                "town": rng.choice(_place_forms(town.name, ("街道", "镇", "乡"))) if town else None,
                "village": village.name if village else None,
                "location": _point_texts(rng, lon, lat),
                "entry_mode": rng.choice(self.entry_modes),
                "classification": classification,
                "rectification": rng.choice(self.rectifications),
            }
            if rng.random() < 0.7:  # a name as written; otherwise the platform names the outfall
                place = (village or town or county).name
                row["name"] = f"{self.city_name}{county.name}{place}{rng.choice(LANDMARKS)}{i + 1}号排污口"
            description = rng.choice(DESCRIPTIONS)
            position = rng.choice(self.positions)
            row["outlet"] = f"{position}，{description}" if description else position
            if rng.random() < 0.65:  # a responsible unit, shared with other rows
                # Skewed: the first units name many outfalls, the last ones a few.
                name, credit = self.units[int(rng.random() ** 2 * len(self.units))]
                row["responsible_entity"] = name
                row["conveyance"] = rng.choice(self.conveyances)
                unit_lon = round(lon + rng.uniform(-0.004, 0.004), 6)
                unit_lat = round(lat + rng.uniform(-0.004, 0.004), 6)
                row["unit_location"] = _point_texts(rng, unit_lon, unit_lat)
                row["unit_kind"] = rng.choice(self.unit_kinds)
                if rng.random() < 0.4:
                    row["permit_number"] = f"{credit}{rng.randint(1, 999):03d}{rng.choice('PQRUVWXY')}"
            registered = rng.random() < 0.4
            row["registered"] = "是" if registered else "否"
            if registered:
                row["approval_date"] = datetime.date(2018, 1, 1) + datetime.timedelta(
                    days=rng.randrange(2500)
                )
            yield row


def step_prepare(rows, profile_rows):
    start = time.perf_counter()
    _recreate_database(sys.stderr)
    result = write_file(int(rows), int(profile_rows), WORK_DIR)
    result["prepare_seconds"] = round(time.perf_counter() - start, 2)
    return result


def write_file(rows, profile_rows, work_dir, out=sys.stderr):
    """Write the attachment-1 file of `rows` rows (and the profiles' file of the first `profile_rows`) into
    work_dir, against the database as it is (its counties and rivers; points clear of its outfalls)."""
    from outfalls.registry.tests.ledger_files import make_large_xlsx

    from .common import environment

    generating = time.perf_counter()
    maker = RowMaker(random.Random(SEED), rows)
    path = work_dir / FILE_NAME
    first = []  # the first rows again, for the profiles' smaller file

    def keep_first(source):
        for row in source:
            if len(first) < profile_rows:
                first.append(row)
            yield row

    built = make_large_xlsx(path, keep_first(maker.rows()), fast=True, merges=True)
    seconds = time.perf_counter() - generating
    profile_path = None
    if first:
        profile_path = work_dir / f"profile-{len(first)}.xlsx"
        make_large_xlsx(profile_path, first, fast=True, merges=True)
    log(
        f"  wrote {len(built.row_numbers):,} rows ({path.stat().st_size / MIB:.1f} MiB) in {seconds:.1f} s",
        out,
    )
    from outfalls.registry.models import DischargeUnit, Outfall

    return {
        "environment": environment(),
        "file": str(path),
        "profile_file": str(profile_path) if profile_path else None,
        "profile_rows": len(first),
        "file_bytes": path.stat().st_size,
        "rows": len(built.row_numbers),
        "header_rows": built.header_rows,
        "demo_outfalls": Outfall.objects.count(),
        "demo_units": DischargeUnit.objects.count(),
        "generate_seconds": round(seconds, 2),
    }


# Steps: bare read, dry run, commit, profiles ----------------------------------------------------------------
def step_bare(path):
    from outfalls.registry.ledger_reader import bare_read

    before = _rss_mib()
    samples, cells = [], None
    for _ in range(3):
        start = time.perf_counter()
        cells = bare_read(path)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "seconds": samples[1],
        "samples": samples,
        "cells": cells,
        "rss_before_mib": before,
        "peak_mib": _peak_mib(),
    }


def _bureau():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bureau")


def step_dry_run(path):
    from django.core.files import File

    from outfalls.registry import ledger_import
    from outfalls.registry.models import LedgerImport

    user = _bureau()
    with open(path, "rb") as handle:
        record = LedgerImport(created_by=user, filename=Path(path).name, crs="cgcs2000")
        record.file.save(Path(path).name, File(handle), save=False)
    record.save()
    with _Timed(ledger_import, "store_report") as storing:
        preview, seconds, sql, statements, before = _measure(
            lambda: ledger_import.run_preview(record, user=user)
        )
    record.refresh_from_db()
    return {
        "record": record.pk,
        "seconds": seconds,
        "report_seconds": storing.seconds,
        "sql_seconds": sql,
        "statements": statements,
        "rows": preview.counts["rows"],
        "counts": preview.counts,
        "report_rows": record.rows.count(),
        "reader": preview.table.reader,
        "duplicates": [r.number for r in preview.duplicates],
        "errors": [m for r in preview.errors[:10] for m in r.messages],
        "rss_before_mib": before,
        "peak_mib": _peak_mib(),
    }


def _decisions(record):
    """ "new" for every possible duplicate the dry run reported (the generated rows should have none)."""
    return {str(r["row"]): "new" for r in record.report("duplicate")}


def _counts():
    from django.contrib.contenttypes.models import ContentType

    from outfalls.core.models import StatusChange
    from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

    return {
        "outfalls": Outfall.objects.count(),
        "outfall_history": Outfall.history.count(),
        "units": DischargeUnit.objects.count(),
        "links": OutfallUnitLink.objects.count(),
        "status_changes": StatusChange.objects.filter(
            content_type=ContentType.objects.get_for_model(Outfall)
        ).count(),
    }


def step_commit(record_id):
    from contextlib import ExitStack

    from outfalls.registry import ledger_import
    from outfalls.registry.models import LedgerImport

    user = _bureau()
    record = LedgerImport.objects.get(pk=int(record_id))
    decisions = _decisions(record)
    before_counts = _counts()
    with ExitStack() as stack:
        interpret = stack.enter_context(_Timed(ledger_import, "interpret"))
        apply = stack.enter_context(_Timed(ledger_import, "_apply"))
        checks = None
        try:  # the spatial checks of the written outfalls, where the commit runs them
            from outfalls.registry import checks as checks_module
        except ImportError:
            checks_module = None
        if checks_module is not None and hasattr(checks_module, "check_outfalls"):
            checks = stack.enter_context(_Timed(checks_module, "check_outfalls"))
        preview, seconds, sql, statements, before = _measure(
            lambda: ledger_import.commit(record, user, decisions)
        )
    record.refresh_from_db()
    after_counts = _counts()
    return {
        "seconds": seconds,
        "interpret_seconds": interpret.seconds,
        "apply_seconds": apply.seconds,
        # Part of apply_seconds; None when the commit does not run them.
        "checks_seconds": checks.seconds if checks is not None and checks.calls else None,
        "sql_seconds": sql,
        "statements": statements,
        "rows": preview.counts["rows"],
        "decided_new": len(decisions),
        "status": record.status,
        "counts": record.counts,
        "created_outfalls": len(record.created_ids),
        "updated_outfalls": len(record.updated_ids),
        "created_units": len(record.created_unit_ids),
        "added": {k: after_counts[k] - before_counts[k] for k in after_counts},
        "rss_before_mib": before,
        "peak_mib": _peak_mib(),
    }


def step_profile_dry_run(path):
    """cProfile of interpret() (the dry run's work) over the profile file."""
    from outfalls.registry import ledger_import

    user = _bureau()

    def dry_run():
        with open(path, "rb") as handle:
            ledger_import.interpret(handle, filename=Path(path).name, user=user)

    start = time.perf_counter()
    texts = _profile(dry_run)
    return {"seconds_under_profile": time.perf_counter() - start, **texts}


def step_profile_commit(path):
    """cProfile of commit() over the profile file, in a transaction rolled back afterwards."""
    from django.core.files import File
    from django.db import transaction

    from outfalls.registry import ledger_import
    from outfalls.registry.models import LedgerImport

    user = _bureau()
    start = time.perf_counter()
    with transaction.atomic():
        with open(path, "rb") as handle:
            record = LedgerImport(created_by=user, filename=Path(path).name, crs="cgcs2000")
            record.file.save(Path(path).name, File(handle), save=False)
        record.save()
        texts = _profile(lambda: ledger_import.commit(record, user))
        transaction.set_rollback(True)
    return {"seconds_under_profile": time.perf_counter() - start, **texts}


STEPS = {
    "prepare": step_prepare,
    "bare": step_bare,
    "dry_run": step_dry_run,
    "commit": step_commit,
    "profile_dry_run": step_profile_dry_run,
    "profile_commit": step_profile_commit,
}


def child_main(step, result_path, arguments):
    from .common import setup_django

    setup_django()
    result = STEPS[step](*arguments)
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")


# The parent: runs the steps and reports ---------------------------------------------------------------------
def _rate(rows, seconds):
    return rows / seconds if seconds else float("nan")


def report_table(rows_count, bare, dry, commit):
    whole = dry["seconds"] + commit["seconds"]
    headers = [
        "step",
        "what",
        "seconds",
        "rows/s",
        "x bare read",
        "peak RSS MiB",
        "RSS before MiB",
        "SQL s",
        "statements",
    ]
    lines = [
        [
            "bare read",
            f"bare_read(): {bare['cells']:,} cells",
            f"{bare['seconds']:.2f}",
            f"{_rate(rows_count, bare['seconds']):,.0f}",
            "1.0",
            f"{bare['peak_mib']:.0f}",
            f"{bare['rss_before_mib']:.0f}",
            "-",
            "-",
        ],
        [
            "dry run",
            f"run_preview(): report written {dry['report_seconds']:.1f} s",
            f"{dry['seconds']:.2f}",
            f"{_rate(rows_count, dry['seconds']):,.0f}",
            f"{dry['seconds'] / bare['seconds']:.1f}",
            f"{dry['peak_mib']:.0f}",
            f"{dry['rss_before_mib']:.0f}",
            f"{dry['sql_seconds']:.2f}",
            f"{dry['statements']:,}",
        ],
        [
            "commit",
            f"commit(): interpret {commit['interpret_seconds']:.1f} s + write {commit['apply_seconds']:.1f} s"
            + (
                f" (checks {commit['checks_seconds']:.1f} s)"
                if commit.get("checks_seconds") is not None
                else ""
            ),
            f"{commit['seconds']:.2f}",
            f"{_rate(rows_count, commit['seconds']):,.0f}",
            f"{commit['seconds'] / bare['seconds']:.1f}",
            f"{commit['peak_mib']:.0f}",
            f"{commit['rss_before_mib']:.0f}",
            f"{commit['sql_seconds']:.2f}",
            f"{commit['statements']:,}",
        ],
        [
            "whole import",
            "dry run + commit",
            f"{whole:.2f}",
            f"{_rate(rows_count, whole):,.0f}",
            f"{whole / bare['seconds']:.1f}",
            f"{max(dry['peak_mib'], commit['peak_mib']):.0f}",
            "-",
            f"{dry['sql_seconds'] + commit['sql_seconds']:.2f}",
            f"{dry['statements'] + commit['statements']:,}",
        ],
    ]
    return format_table(headers, lines)


def run(out=None):
    out = out or sys.stdout
    rows = env_int("BENCH_IMPORT_ROWS", 100_000)
    profile = bool(env_int("BENCH_PROFILE", 0))
    profile_rows = min(rows, env_int("BENCH_PROFILE_ROWS", 10_000)) if profile else 0
    if WORK_DIR.exists():
        shutil.rmtree(WORK_DIR)
    WORK_DIR.mkdir(parents=True)
    started = time.perf_counter()
    log(f"\nLedger import benchmark: {rows:,} rows, database {database_url()} (recreated)", out)
    prepared = _run_step("prepare", rows, profile_rows)
    path = prepared["file"]
    log("  bare read ...", out)
    bare = _run_step("bare", path)
    log(f"  bare read {bare['seconds']:.2f} s; dry run ...", out)
    dry = _run_step("dry_run", path)
    log(f"  dry run {dry['seconds']:.2f} s: {dry['counts']}", out)
    profiles = {}
    if profile:
        log(
            f"  profiling the dry run and the commit (rolled back) over the first {profile_rows:,} rows ...",
            out,
        )
        profiles["dry_run"] = _run_step("profile_dry_run", prepared["profile_file"])
        profiles["commit"] = _run_step("profile_commit", prepared["profile_file"])
    if dry["errors"] or dry["counts"]["rows"] != prepared["rows"]:
        raise RuntimeError(
            f"the generated file should read as {prepared['rows']:,} good rows; the dry run found "
            f"{dry['counts']}: {dry['errors'][:5]}"
        )
    log("  commit ...", out)
    commit = _run_step("commit", dry["record"])
    log(f"  commit {commit['seconds']:.2f} s; measured in {time.perf_counter() - started:.0f} s\n", out)

    whole = dry["seconds"] + commit["seconds"]
    # The import's memory: the dry run's and the commit's (the bare read is calamine's, the baseline's).
    peak = max(dry["peak_mib"], commit["peak_mib"])
    log(report_table(prepared["rows"], bare, dry, commit), out)
    log(
        f"\nFile: {prepared['rows']:,} rows, {prepared['file_bytes'] / MIB:.1f} MiB (.xlsx, read by {dry['reader']}); "
        f"each step in a fresh process.\n"
        f"Dry run verdicts: {', '.join(f'{k} {v:,}' for k, v in dry['counts'].items() if v)}.\n"
        f"Commit: {commit['created_outfalls']:,} outfalls created, {commit['updated_outfalls']:,} updated, "
        f"{commit['created_units']:,} units created; rows added: "
        + ", ".join(f"{k} {v:,}" for k, v in commit["added"].items())
        + ".\n"
        "bare read: ledger_reader.bare_read() over every cell (median of 3). dry run: run_preview() as the\n"
        "bureau user (interpret every row, store counts, the per-row report and the verdicts). commit:\n"
        "commit() (the kept verdicts, then writes everything in one transaction). whole import = dry run +\n"
        "commit.\n"
        "peak RSS: ru_maxrss of the step's process (Python, Django and the libraries take the RSS before).\n"
        f"Goals: dry run within {GOAL_DRY_RUN_RATIO:g}x the bare read: "
        f"{'ok' if dry['seconds'] / bare['seconds'] <= GOAL_DRY_RUN_RATIO else 'MISS'} "
        f"({dry['seconds'] / bare['seconds']:.1f}x); whole import within {GOAL_RATIO:g}x: "
        f"{'ok' if whole / bare['seconds'] <= GOAL_RATIO else 'MISS'} ({whole / bare['seconds']:.1f}x); "
        f"the import's peak at most {GOAL_MEMORY_MIB} MiB: {'ok' if peak <= GOAL_MEMORY_MIB else 'MISS'} "
        f"({peak:.0f} MiB).",
        out,
    )
    if commit["created_outfalls"] != prepared["rows"]:
        log(
            f"WARNING: {prepared['rows']:,} rows but {commit['created_outfalls']:,} outfalls created "
            f"(duplicates {dry['duplicates'][:20]}, errors {dry['errors'][:5]})",
            out,
        )
    for name, texts in profiles.items():
        log(
            f"\ncProfile of the {name.replace('_', ' ')} over the first {profile_rows:,} rows "
            f"({texts['seconds_under_profile']:.0f} s under the profiler), "
            f"top {PROFILE_LINES} by cumulative time:\n{texts['cumulative']}",
            out,
        )
        log(f"\n... and by own time:\n{texts['tottime']}", out)

    result_path = write_json(
        NAME,
        {
            "benchmark": NAME,
            "environment": prepared["environment"],
            "config": {
                "rows": rows,
                "profile_rows": profile_rows,
                "database_url": database_url(),
                "units_named": UNITS,
                "seed": SEED,
                "goal_dry_run_ratio": GOAL_DRY_RUN_RATIO,
                "goal_ratio": GOAL_RATIO,
                "goal_memory_mib": GOAL_MEMORY_MIB,
            },
            "file": {
                k: prepared[k] for k in ("file", "file_bytes", "rows", "header_rows", "generate_seconds")
            },
            "bare_read": bare,
            "dry_run": dry,
            "commit": commit,
            "whole_import": {
                "seconds": whole,
                "rows_per_second": _rate(prepared["rows"], whole),
                "ratio_to_bare_read": whole / bare["seconds"],
                "dry_run_ratio_to_bare_read": dry["seconds"] / bare["seconds"],
                "peak_mib": peak,
                "within_time_goal": whole / bare["seconds"] <= GOAL_RATIO,
                "within_memory_goal": peak < GOAL_MEMORY_MIB,
            },
            "profiles": profiles or None,
        },
    )
    log(f"\nWrote {result_path.relative_to(BASE_DIR)}", out)
    return {"bare_read": bare, "dry_run": dry, "commit": commit}


def main(argv=None):
    return child_cli("benchmarks.ledger_import", __doc__.split("\n")[0], STEPS, child_main, run, argv)


if __name__ == "__main__":
    sys.exit(main())
