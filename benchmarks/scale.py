"""The platform at a province's size: 1,000,000 outfalls on PostgreSQL (issue 17, "1,000,000 outfalls").

`python -m benchmarks scale` (not part of a plain `make bench`: it needs PostgreSQL and a long build).

The data: the demo (Datong's ten counties and economic zone, its towns, villages, 8 rivers and sections,
349 outfalls) stays as it is; around it, the rest of a Shanxi-sized extent (lon 110.2–114.6, lat
34.6–40.7) is cut into a grid of county-sized cells (12 × 15, about 31 × 45 km), less the parts inside
Datong's counties, each a generated county (codes 1490xx/1491xx, a prefecture code Shanxi does not use)
with five towns. Generated rivers run west to east across the whole extent every 0.05° of latitude
(about 5.5 km apart, meandering), so every county has several and each river crosses many counties.
BENCH_SCALE_OUTFALLS outfalls (default 1,000,000) lie along the rivers (demo and generated, by length)
10–450 m from the river they drain into (3 % 500–1,500 m), each in the county whose boundary holds it:
every outfall belongs to a county, and a county officer's scope holds a county's worth of outfalls. The
outfalls' other fields, units and links come from the ledger benchmark's generator (benchmarks/ledger.py).

It is written as the database writes: COPY (psycopg's cursor.copy) for units, outfalls and owner links,
then per table one INSERT ... SELECT for their simple-history rows (one "+" row each, dated at creation)
and one status change per outfall ('' -> its status), what an import leaves. Left out: the later history
of each outfall (one row per workflow step), findings other than the spatial checks', monitoring data.
While they go in, the tables' secondary indexes and unique and foreign-key constraints are dropped and
then built again (without_indexes). The first spatial check, which writes the findings and fills the
断面区间 of the outfalls on the demo's rivers as an import would have, is the spatial step's on a new
build (and the nightly re-check on later runs). The database is kept; a marker table
(bench_scale_build) records what was built, and another count or generator version rebuilds it.

Then each step runs in a fresh child process (`python -m benchmarks.scale --step ...`), so its peak memory
(ru_maxrss) is its own, and each figure has a bare query measured in the same run:

- ledger: the ledger benchmark's scenarios (ledger.scenarios(), ledger.measure()): page and API p95
  against the hand-written SQL for the same page and its COUNT(*);
- map: the map benchmark's scenarios on Datong's box (city, cache cold and warm, a county officer) and a
  street box, plus the whole province at zoom 7; p95 against a bare SELECT of the rows in the box (or
  their COUNT(*)), and the brute force for the answer's check;
- spatial: `checks.compute()` and `checks.check_outfalls()` over every outfall against reading the
  columns the check reads; one outfall's check as on a save against a bare box query around it;
- export: the attachment-1 export of one county (/ledger/outfalls/export/?county=..., xlsx and csv)
  against a bare SELECT of the same rows with the list's columns and joins;
- import: the import benchmark's file (benchmarks/ledger_import.py: BENCH_SCALE_IMPORT_ROWS rows in
  Datong) read bare, dry run and commit into the big ledger; the commit is rolled back, so the ledger
  keeps its size for the next run.

Settings (environment): BENCH_SCALE_OUTFALLS (1000000), BENCH_SCALE_DATABASE_URL (default: a database
outfalls_scale_<count> in the cluster of scripts/bench-pg.sh, started here if it is not running),
BENCH_SCALE_REPEAT (10) and BENCH_SCALE_WARMUP (2) per scenario, BENCH_SCALE_BRUTE_REPEAT (2),
BENCH_SCALE_IMPORT_ROWS (100000), BENCH_SCALE_STEPS (build,ledger,map,spatial,export,import).
Writes bench-results/scale.json (bench-results/scale-<count>.json for another count).
"""

import csv
import enum
import io
import math
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .common import (
    BASE_DIR,
    child_cli,
    env_int,
    format_table,
    load_average,
    log,
    peak_mib,
    rss_mib,
    run_child,
    write_json,
)

NAME = "scale"
SEED = 42
GENERATOR_VERSION = 1  # bump when the generated data changes: the next run rebuilds
WORK_DIR = BASE_DIR / "var" / "bench-scale"
EXTENT = (110.2, 34.6, 114.6, 40.7)  # Shanxi, about: lon 110.2–114.6, lat 34.6–40.7
GRID = (12, 15)  # county-sized cells: columns (lon), rows (lat)
MIN_CELL_SHARE = 0.3  # a cell left smaller than this by Datong's counties joins no county
TOWNS = ("城关镇", "东关镇", "西关镇", "南关镇", "北关镇")
RIVER_SPACING = 0.05  # degrees of latitude between generated rivers
RIVER_AMPLITUDE = 0.015
BATCH = 50_000
PROVINCE_ZOOM = 7
CITY_ZOOM = 9
EXPORT_COUNTY = "140213"  # 平城区: the county officer's (pingcheng)
# The spatial check first: on a new build it is the first check (it writes the findings and fills the
# 断面区间 of the outfalls on the demo's rivers, as an import would have), on later runs the nightly re-check.
STEPS = ("build", "spatial", "ledger", "map", "export", "import")


def target_count():
    return env_int("BENCH_SCALE_OUTFALLS", 1_000_000)


def result_name():
    count = target_count()
    return NAME if count == 1_000_000 else f"{NAME}-{count}"


# The database --------------------------------------------------------------------------------------------
def database_url(out):
    """BENCH_SCALE_DATABASE_URL, or outfalls_scale_<count> in scripts/bench-pg.sh's cluster (started here)."""
    url = os.environ.get("BENCH_SCALE_DATABASE_URL")
    if url:
        if not url.startswith(("postgres://", "postgresql://")):
            raise SystemExit(
                "BENCH_SCALE_DATABASE_URL must be a PostgreSQL URL: the scale benchmark uses COPY"
            )
        return url
    script = BASE_DIR / "scripts" / "bench-pg.sh"
    log(f"BENCH_SCALE_DATABASE_URL is not set: starting the benchmark cluster ({script.name} start) ...", out)
    completed = subprocess.run([str(script), "start"], cwd=BASE_DIR, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(
            f"could not start PostgreSQL for the scale benchmark:\n{completed.stderr}\n"
            "Start one yourself (scripts/bench-pg.sh start) or set BENCH_SCALE_DATABASE_URL."
        )
    base = completed.stdout.strip().splitlines()[-1]
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/outfalls_scale_{target_count()}"))
    _create_database(base, url)
    return url


def _create_database(base_url, url):
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(base_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


# Writing rows as the database writes them ------------------------------------------------------------------
def _plain(value):
    # Choices are str enums: their value, as the ORM would store it.
    return value.value if isinstance(value, enum.Enum) else value


def copy_objects(model, objects):
    """COPY unsaved model instances (every concrete column, ids set by the caller) into model's table."""
    from django.db import connection

    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    names = [f.attname for f in fields]
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([_plain(getattr(obj, name)) for name in names])
                count += 1
    return count


def next_id(model):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(model._meta.db_table)}"
        )
        return cursor.fetchone()[0]


def reset_sequence(model):
    """After COPY with explicit ids: the id sequence continues after the highest id."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {connection.ops.quote_name(table)}))",
            [table],
        )


@contextmanager
def without_indexes(models, out):
    """Drop the secondary indexes, unique and foreign-key constraints of models' tables (and of their
    history tables) while bulk rows go in, then build them again: one sort per index and one join per
    foreign key instead of a B-tree insertion and a trigger per row (PostgreSQL). The primary keys stay.

    A build that fails in between leaves no marker row, so the next run drops the schema and starts again.
    """
    from django.db import connection

    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        history = getattr(model, "history", None)
        if history is not None:
            tables.append(history.model._meta.db_table)
    quote = connection.ops.quote_name
    constraints, indexes = [], []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
                [table],
            )
            constraints += [(table, name, definition, kind) for name, definition, kind in cursor.fetchall()]
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [table],
            )
            indexes += cursor.fetchall()
        # Foreign keys first ('u' sorts after 'f' descending): none of these tables' unique keys is referenced.
        for table, name, _definition, _kind in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    log(f"  dropped {len(indexes)} indexes and {len(constraints)} constraints of {len(tables)} tables", out)
    yield
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _kind in sorted(constraints, key=lambda c: c[3] == "f"):
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    log(f"  built them again in {time.perf_counter() - start:.0f} s", out)


def insert_history(model, first_id):
    """One simple-history "+" row per row of model with id >= first_id, dated at its created_at."""
    from django.db import connection

    quote = connection.ops.quote_name
    source = {f.column for f in model._meta.concrete_fields}
    history = model.history.model
    constants = {
        "history_date": "s.created_at",
        "history_type": "'+'",
        "history_change_reason": "NULL",
        "history_user_id": "NULL",
    }
    columns, values = [], []
    for f in history._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.column in source:
            values.append(f"s.{quote(f.column)}")
        elif f.column in constants:
            values.append(constants[f.column])
        else:
            raise RuntimeError(
                f"{history.__name__}.{f.name}: the scale benchmark does not know what to write"
            )
        columns.append(quote(f.column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {quote(model._meta.db_table)} s WHERE s.id >= %s",
            [first_id],
        )
        return cursor.rowcount


def insert_status_changes(first_id):
    """One status change per outfall with id >= first_id: '' -> its status, at its creation (as an import)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from outfalls.core.models import StatusChange
    from outfalls.registry.models import Outfall

    quote = connection.ops.quote_name
    content_type = ContentType.objects.get_for_model(Outfall).pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(StatusChange._meta.db_table)} "
            "(content_type_id, object_id, field, from_value, to_value, reason, changed_by_id, changed_at) "
            f"SELECT %s, o.id, 'status', '', o.status, %s, NULL, o.created_at "
            f"FROM {quote(Outfall._meta.db_table)} o WHERE o.id >= %s",
            [content_type, "台账导入（基准测试生成）", first_id],
        )
        return cursor.rowcount


# The province's geography -------------------------------------------------------------------------------------
def _county_code(k):
    return f"14{90 + k // 99}{k % 99 + 1:02d}"


def create_geography(out):
    """Generated counties (with towns) around Datong's and rivers across the extent. Returns the counts."""
    import numpy as np
    import shapely
    from django.conf import settings
    from django.db import transaction
    from django.db.models import F
    from shapely.geometry import box, mapping

    from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
    from outfalls.core.models import Jurisdiction
    from outfalls.geo import shapes
    from outfalls.registry.choices import WaterBodyKind
    from outfalls.registry.models import WaterBody

    city = Jurisdiction.objects.get(code=settings.CITY_CODE)
    datong = shapely.union_all(
        [
            shapes.shape_of(b)
            for b in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS)
            .exclude(boundary=None)
            .values_list("boundary", flat=True)
        ]
    )
    min_lon, min_lat, max_lon, max_lat = EXTENT
    columns, rows = GRID
    width, height = (max_lon - min_lon) / columns, (max_lat - min_lat) / rows
    counties, k = [], 0
    for row in range(rows):
        for column in range(columns):
            lon0, lat0 = min_lon + column * width, min_lat + row * height
            cell = box(lon0, lat0, lon0 + width, lat0 + height)
            part = cell.difference(datong)
            if part.is_empty or part.area < MIN_CELL_SHARE * cell.area:
                continue
            if part.geom_type == "MultiPolygon":  # the largest piece: a county is one polygon here
                part = max(part.geoms, key=lambda g: g.area)
            part = shapely.set_precision(part, 1e-6)
            code = _county_code(k)
            counties.append(
                Jurisdiction(
                    code=code,
                    name=f"基准{k + 1:03d}县",
                    level=JurisdictionLevel.COUNTY,
                    parent=city,
                    boundary=mapping(part),
                    boundary_source="基准测试生成",
                    boundary_approximate=True,
                )
            )
            k += 1
    with transaction.atomic():
        Jurisdiction.objects.bulk_create(counties, batch_size=500)
        Jurisdiction.objects.filter(pk__in=[c.pk for c in counties]).update(county_id=F("id"))
        towns = [
            Jurisdiction(
                code=f"{county.code}{t + 1:03d}",
                name=name,
                level=JurisdictionLevel.TOWN,
                parent=county,
                county_id=county.pk,
            )
            for county in counties
            for t, name in enumerate(TOWNS)
        ]
        Jurisdiction.objects.bulk_create(towns, batch_size=2000)
        rng = np.random.default_rng(SEED)
        xs = np.round(np.arange(min_lon, max_lon + 1e-9, 0.05), 6)
        waters = []
        n_rivers = int((max_lat - min_lat) / RIVER_SPACING)
        for n in range(n_rivers):
            base = min_lat + RIVER_SPACING * (n + 0.5)
            phase, wavelength = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 0.9)
            ys = base + RIVER_AMPLITUDE * np.sin(xs / wavelength * 2 * math.pi + phase) * rng.uniform(
                0.5, 1.0
            )
            waters.append(
                WaterBody(
                    name=f"基准河{n + 1:03d}",
                    code=f"BZH{n + 1:03d}",
                    kind=WaterBodyKind.RIVER,
                    basin="基准",
                    geometry={
                        "type": "LineString",
                        "coordinates": [[x, round(y, 6)] for x, y in zip(xs, ys, strict=True)],
                    },
                )
            )
        WaterBody.objects.bulk_create(waters, batch_size=500)
    log(f"  {len(counties)} generated counties, {len(towns)} towns, {len(waters)} generated rivers", out)
    return {"counties": len(counties), "towns": len(towns), "rivers": len(waters)}


def river_points(count, out):
    """count points [(county, water, lon, lat)] along every river, each inside a county's boundary."""
    import numpy as np
    import shapely

    from outfalls.core.choices import COUNTY_LEVELS
    from outfalls.core.models import Jurisdiction
    from outfalls.geo import shapes
    from outfalls.registry.models import WaterBody

    from .ledger_import import points_beside_rivers

    mid = (EXTENT[1] + EXTENT[3]) / 2
    kx, ky = shapes.metres_per_degree(mid)
    scale = np.array([kx, ky])
    lines = [
        (w, shapely.transform(shapes.shape_of(w.geometry), lambda xy: xy * scale))
        for w in WaterBody.objects.exclude(geometry=None).order_by("code")
    ]
    lengths = np.array([line.length for _, line in lines])
    places = list(
        Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).exclude(boundary=None).order_by("code")
    )
    polygons = np.array([shapes.shape_of(p.boundary) for p in places], dtype=object)
    tree = shapely.STRtree(polygons)
    random = np.random.default_rng(SEED)
    points = []
    while len(points) < count:
        n = int((count - len(points)) * 1.2) + 1000
        which, lon, lat = points_beside_rivers(random, [line for _, line in lines], lengths, n, kx, ky)
        hits = tree.query(shapely.points(lon, lat), predicate="within")
        owner = np.full(n, -1)
        np.maximum.at(owner, hits[0], hits[1])  # the later code wins: the economic zone inside 平城区
        for i in np.nonzero(owner >= 0)[0].tolist():
            points.append((places[owner[i]], lines[which[i]][0], float(lon[i]), float(lat[i])))
            if len(points) == count:
                break
    log(f"  {count:,} points along {len(lines)} rivers in {len(places)} counties", out)
    return points


# Step: build -------------------------------------------------------------------------------------------------
MARKER = "bench_scale_build"


def _built():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT outfalls, version, seconds FROM {MARKER}")
        return cursor.fetchone()


def _reset_schema(out):
    from django.db import connection

    log("  dropping the old benchmark data (DROP SCHEMA public CASCADE) ...", out)
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def _defer_search():
    """In the batch's transaction: the search triggers of outfall and link inserts write nothing (as in a bulk
    save, search_triggers.refreshed_after); step_build writes every text once after the indexes are back.
    Without it each link COPY rewrote its outfalls' texts through tables whose indexes were dropped: the
    build slowed with every batch (57 s for the first 50,000 outfalls, 187 s for the next)."""
    from django.db import connection

    from outfalls.registry import search_triggers

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [search_triggers.PG_DEFERRED_SETTING])


def _write_rows(generator, points, target, timings, out):
    """Units, outfalls and owner links by COPY, then their history rows and status changes by INSERT ...
    SELECT. Records the times in timings; returns the counts."""
    from django.db import transaction

    from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

    from .ledger import explicit_timestamps

    clock = time.perf_counter()
    first_unit = unit_id = next_id(DischargeUnit)
    units = generator.make_units(max(50, target // 20))
    for unit in units:
        unit.pk, unit_id = unit_id, unit_id + 1
    with transaction.atomic():
        copy_objects(DischargeUnit, units)
    generator.add_units(units)
    timings[f"{len(units):,} units (generate + COPY)"] = round(time.perf_counter() - clock, 2)

    first_outfall = outfall_id = next_id(Outfall)
    first_link = link_id = next_id(OutfallUnitLink)
    written = links = 0
    generate_s = copy_s = 0.0
    with explicit_timestamps(Outfall):
        for begin in range(0, len(points), BATCH):
            t0 = time.perf_counter()
            batch = [generator.outfall(place) for place in points[begin : begin + BATCH]]
            for o in batch:
                o.pk, outfall_id = outfall_id, outfall_id + 1
            batch_links = generator.links_for(batch)
            created = {o.pk: o.created_at for o in batch}
            for link in batch_links:
                link.pk, link_id = link_id, link_id + 1
                link.created_at = created[link.outfall_id]
            t1 = time.perf_counter()
            with transaction.atomic():
                _defer_search()
                written += copy_objects(Outfall, batch)
                links += copy_objects(OutfallUnitLink, batch_links)
            generate_s += t1 - t0
            copy_s += time.perf_counter() - t1
            log(
                f"  {written:>9,} / {target:,} outfalls ({generate_s:.0f} s generating, {copy_s:.0f} s COPY)",
                out,
            )
    timings["outfalls: generate"] = round(generate_s, 2)
    timings["outfalls and links: COPY"] = round(copy_s, 2)
    clock = time.perf_counter()
    with transaction.atomic():
        for model in (DischargeUnit, Outfall, OutfallUnitLink):
            reset_sequence(model)
        history = {
            "units": insert_history(DischargeUnit, first_unit),
            "outfalls": insert_history(Outfall, first_outfall),
            "links": insert_history(OutfallUnitLink, first_link),
        }
        status_changes = insert_status_changes(first_outfall)
    timings["history and status changes (INSERT ... SELECT)"] = round(time.perf_counter() - clock, 2)
    log(
        f"  history and status changes: {timings['history and status changes (INSERT ... SELECT)']:.0f} s",
        out,
    )
    return {
        "units": len(units),
        "links": links,
        "history_rows": history,
        "status_changes": status_changes,
        "rebuild_start": time.perf_counter(),
    }


def step_build():
    from django.db import connection, transaction

    from outfalls.core.models import StatusChange
    from outfalls.geo import shapes
    from outfalls.registry import search_triggers
    from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

    from .common import environment, migrate
    from .ledger import Generator, ensure_reference_data

    out = sys.stderr
    if connection.vendor != "postgresql":
        raise SystemExit("the scale benchmark runs on PostgreSQL only (COPY)")
    target = target_count()
    built = _built()
    if built and built[0] == target and built[1] == GENERATOR_VERSION:
        log(
            f"  the database holds the {target:,} generated outfalls (built in {built[2]:.0f} s): reusing it",
            out,
        )
        connection.cursor().execute("ANALYZE")
        return {"reused": True, "build_seconds": built[2], "environment": environment(), **_sizes()}
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            _reset_schema(out)
    timings = {}

    def lap(name, since):
        timings[name] = round(time.perf_counter() - since, 2)
        log(f"  {name}: {timings[name]:.1f} s", out)
        return time.perf_counter()

    clock = time.perf_counter()
    migrate()
    ensure_reference_data(out)
    clock = lap("migrate and demo", clock)
    geography = create_geography(out)
    points = river_points(target, out)
    clock = lap("geography and points", clock)
    generator = Generator(random.Random(SEED))
    for county in generator.counties:
        if county.code.startswith("149"):
            centre = shapes.shape_of(county.boundary).representative_point()
            generator.centres[county.pk] = (centre.x, centre.y)
    with without_indexes((DischargeUnit, Outfall, OutfallUnitLink, StatusChange), out):
        written = _write_rows(generator, points, target, timings, out)
    del points
    clock = lap("indexes and constraints built again", written.pop("rebuild_start"))
    with transaction.atomic():
        search_triggers.rebuild(connection)  # every text once, now that the links can be found by index
    clock = lap("search texts written (search_triggers.rebuild)", clock)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    clock = lap("VACUUM ANALYZE", clock)
    seconds = round(time.perf_counter() - start, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {MARKER} (outfalls integer, version integer, seconds float, built_at timestamptz)"
        )
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s, now())", [target, GENERATOR_VERSION, seconds]
        )
    log(f"  built in {seconds:.0f} s", out)
    return {
        "reused": False,
        "build_seconds": seconds,
        "timings": timings,
        "geography": geography,
        **written,
        "environment": environment(),
        "peak_mib": peak_mib(),
        **_sizes(),
    }


def _sizes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE relname IN ('registry_outfall', 'registry_historicaloutfall', 'registry_spatialfinding', "
            "'registry_dischargeunit', 'registry_outfallunitlink', 'core_statuschange')"
        )
        tables = {name: {"rows": rows, "mib": round(size / 2**20)} for name, rows, size in cursor.fetchall()}
        cursor.execute("SELECT pg_database_size(current_database())")
        database_mib = round(cursor.fetchone()[0] / 2**20)
        cursor.execute("SELECT COUNT(*) FROM registry_outfall")
        outfalls = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM core_jurisdiction WHERE level IN ('county', 'zone')")
        counties = cursor.fetchone()[0]
    return {"outfalls": outfalls, "counties": counties, "tables": tables, "database_mib": database_mib}


# Steps: measurements ------------------------------------------------------------------------------------------
def _repeat():
    return env_int("BENCH_SCALE_REPEAT", 10), env_int("BENCH_SCALE_WARMUP", 2)


def step_ledger():
    from django.conf import settings
    from django.db import connection

    from outfalls.registry.models import Outfall

    from . import ledger

    before = rss_mib()
    repeat, warmup = _repeat()
    clients, users = ledger.logged_in(s.username for s in ledger.scenarios())
    total = Outfall.objects.count()
    results = []
    for scenario in ledger.scenarios():
        if scenario.key == "deep":  # the last page when there are fewer
            scenario.params["page"] = str(min(ledger.DEEP_PAGE, max(1, total // settings.LEDGER_PAGE_SIZE)))
        for endpoint in ("ledger", "api"):
            result = ledger.measure(
                scenario, endpoint, clients[scenario.username], users[scenario.username], repeat, warmup
            )
            del result["_request"]
            results.append(result)
            log(
                f"  {scenario.key:<10} {endpoint:<6} p95 {result['page']['p95_ms']:8.1f} ms"
                f"  raw+count p95 {result['raw_page_and_count']['p95_ms']:8.2f} ms",
                sys.stderr,
            )
    return {
        "results": results,
        "page_size": settings.LEDGER_PAGE_SIZE,
        "vendor": connection.vendor,
        "rss_before_mib": before,
        "peak_mib": peak_mib(),
    }


def _city_bbox():
    from django.conf import settings

    from outfalls.core.models import Jurisdiction
    from outfalls.geo import shapes
    from outfalls.maps.grid import BBox

    boundary = Jurisdiction.objects.get(code=settings.CITY_CODE).boundary
    return BBox(*shapes.shape_of(boundary).bounds)


def step_map():
    from . import map as map_benchmark
    from .ledger import logged_in

    before = rss_mib()
    repeat, warmup = _repeat()
    brute_repeat = env_int("BENCH_SCALE_BRUTE_REPEAT", 2)
    province = map_benchmark.city_box()
    scenarios = [
        map_benchmark.Scenario(
            "province",
            f"all outfalls' extent, zoom {PROVINCE_ZOOM}, cache cold",
            "bureau",
            province,
            PROVINCE_ZOOM,
        ),
        *map_benchmark.scenarios(city=_city_bbox(), city_zoom=CITY_ZOOM),
    ]
    clients, users = logged_in(("bureau", "pingcheng"))
    results = []
    for scenario in scenarios:
        result = map_benchmark.measure(
            scenario, clients[scenario.username], users[scenario.username], repeat, warmup, brute_repeat
        )
        del result["_request"]
        results.append(result)
        log(
            f"  {scenario.key:<14} p95 {result['request']['p95_ms']:8.1f} ms  bare p95 "
            f"{result['bare_sql']['p95_ms']:8.2f} ms  same answer: {result['baseline_matches']}",
            sys.stderr,
        )
    return {"results": results, "rss_before_mib": before, "peak_mib": peak_mib()}


def _median_seconds(fn, repeat):
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples, result


def step_spatial():
    from django.db import connection

    from outfalls.registry import checks
    from outfalls.registry.models import Outfall

    from .common import percentile
    from .spatial import _saves

    out = sys.stderr
    before = rss_mib()

    def bare_read():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(checks.TARGET_FIELDS)} FROM registry_outfall")
            return len(cursor.fetchall())

    bare_s, bare_samples, rows = _median_seconds(bare_read, 3)
    log(f"  bare read of {rows:,} outfalls' check columns: {bare_s:.2f} s", out)
    start = time.perf_counter()
    computation = checks.compute()
    compute_s = time.perf_counter() - start
    timings = {k: round(v, 3) for k, v in computation.timings.items()}
    findings = len(computation.findings)
    del computation
    peak_compute = peak_mib()
    log(f"  compute: {compute_s:.1f} s, {findings:,} findings, peak {peak_compute:.0f} MiB", out)
    report = checks.check_outfalls()
    log(f"  check_outfalls: {report.seconds:.1f} s (write {report.timings.get('write', 0):.1f} s)", out)
    saves_n = env_int("BENCH_SPATIAL_SAVES", 30)
    save = _saves(checks, saves_n, out)
    # The bare counterpart of a save: the box query around each saved point (100 m), as plain SQL.
    ids = random.Random(SEED + 1).sample(list(Outfall.objects.values_list("id", flat=True)), saves_n)
    points = list(Outfall.objects.filter(id__in=ids).values_list("lon", "lat"))
    samples = []
    with connection.cursor() as cursor:
        for lon, lat in points * 2:
            t0 = time.perf_counter()
            cursor.execute(
                "SELECT id, lon, lat FROM registry_outfall WHERE lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s",
                [lon - 0.0012, lon + 0.0012, lat - 0.0009, lat + 0.0009],
            )
            cursor.fetchall()
            samples.append(time.perf_counter() - t0)
    return {
        "outfalls": rows,
        "bare_read_s": bare_s,
        "bare_read_samples_s": bare_samples,
        "compute_s": compute_s,
        "compute_timings": timings,
        "findings": findings,
        "check_s": report.seconds,
        "check_write_s": report.timings.get("write", 0.0),
        "check_filled": sum(1 for v in report.filled.values() if v),
        "counts": {str(kind): n for (kind, _), n in sorted(report.counts.items())},
        "save": save,
        "save_bare": {"p50_ms": percentile(samples, 50) * 1000, "p95_ms": percentile(samples, 95) * 1000},
        "rss_before_mib": before,
        "peak_compute_mib": peak_compute,
        "peak_mib": peak_mib(),
    }


def step_export():
    from django.db import connection
    from django.urls import reverse

    from outfalls.registry.models import Outfall

    from . import ledger

    before = rss_mib()
    clients, users = ledger.logged_in(["bureau"])
    client, user = clients["bureau"], users["bureau"]
    url = reverse("registry:outfall_export")
    county_rows = Outfall.objects.filter(county__code=EXPORT_COUNTY).count()
    scenario = ledger.Scenario("export", "", "bureau", {"county": EXPORT_COUNTY})
    page_sql, page_params, _count_sql, _ = ledger.raw_statements(scenario, user, 1, 10**9)
    bare_s, bare_samples, raw_rows = _median_seconds(lambda: ledger.run_sql(page_sql, page_params), 3)
    results = {}
    for fmt in ("xlsx", "csv"):

        def export(fmt=fmt):
            response = client.get(url, {"county": EXPORT_COUNTY, "format": fmt})
            if response.status_code != 200:
                raise RuntimeError(f"export {fmt}: HTTP {response.status_code}")
            return b"".join(response.streaming_content)

        seconds, samples, body = _median_seconds(export, 3)
        rows = None
        if fmt == "csv":
            text = body.decode("utf-8-sig")
            rows = sum(1 for line in csv.reader(io.StringIO(text)) if line and line[0].strip().isdigit())
        results[fmt] = {"seconds": seconds, "samples": samples, "bytes": len(body), "rows": rows}
        log(f"  export {fmt}: {seconds:.2f} s, {len(body) / 2**20:.1f} MiB", sys.stderr)
    return {
        "county": EXPORT_COUNTY,
        "county_outfalls": county_rows,
        "bare_s": bare_s,
        "bare_samples_s": bare_samples,
        "bare_rows": len(raw_rows),
        "bare_sql": page_sql,
        "formats": results,
        "same_rows": results["csv"]["rows"] == len(raw_rows) == county_rows,
        "vendor": connection.vendor,
        "rss_before_mib": before,
        "peak_mib": peak_mib(),
    }


def step_import_file(rows):
    from . import ledger_import

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    result = ledger_import.write_file(int(rows), 0, WORK_DIR)
    result["peak_mib"] = peak_mib()
    return result


def step_import_bare(path):
    from . import ledger_import

    return ledger_import.step_bare(path)


def step_import_dry_run(path):
    from . import ledger_import

    return ledger_import.step_dry_run(path)


def step_import_commit(record_id):
    """The import's commit into the big ledger, rolled back so the ledger keeps its size."""
    from django.db import transaction

    from . import ledger_import

    with transaction.atomic():
        result = ledger_import.step_commit(record_id)
        transaction.set_rollback(True)
    result["rolled_back"] = True
    return result


CHILD_STEPS = {
    "build": step_build,
    "ledger": step_ledger,
    "map": step_map,
    "spatial": step_spatial,
    "export": step_export,
    "import_file": step_import_file,
    "import_bare": step_import_bare,
    "import_dry_run": step_import_dry_run,
    "import_commit": step_import_commit,
}


def child_main(step, result_path, arguments):
    import json

    from .common import setup_django

    setup_django()
    started = time.perf_counter()
    result = CHILD_STEPS[step](*arguments)
    result["step_seconds"] = round(time.perf_counter() - started, 2)
    result["load_average"] = load_average()
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")


# The parent: runs the steps and reports -----------------------------------------------------------------------
def _steps():
    chosen = os.environ.get("BENCH_SCALE_STEPS")
    names = [s.strip() for s in chosen.split(",") if s.strip()] if chosen else list(STEPS)
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise SystemExit(
            f"BENCH_SCALE_STEPS: unknown step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}"
        )
    if "build" not in names:
        names.insert(0, "build")  # cheap when the database is built: it checks the marker
    return names


def run(out=None):
    out = out or sys.stdout
    url = database_url(out)
    env = dict(os.environ)
    env["BENCH_DATABASE_URL"] = url  # setup_django() in the children reads it
    env["MEDIA_ROOT"] = str(WORK_DIR / "media")
    WORK_DIR.mkdir(parents=True, exist_ok=True)

    def child(step, *args):
        log(f"[{time.strftime('%H:%M:%S')}] {step} (load average {load_average()}) ...", out)
        return run_child("benchmarks.scale", step, args, env=env, result_path=WORK_DIR / f"{step}.json")

    started = time.perf_counter()
    log(f"\nScale benchmark: {target_count():,} generated outfalls, database {url}", out)
    report = {"benchmark": NAME, "config": _config(url), "uptime_before": _uptime()}
    for name in _steps():
        if name == "import":
            rows = env_int("BENCH_SCALE_IMPORT_ROWS", 100_000)
            prepared = child("import_file", rows)
            bare = child("import_bare", prepared["file"])
            dry = child("import_dry_run", prepared["file"])
            if dry["errors"] or dry["counts"]["rows"] != prepared["rows"]:
                raise RuntimeError(
                    f"the generated file should read as good rows; the dry run found {dry['counts']}"
                )
            commit = child("import_commit", dry["record"])
            report["import"] = {"file": prepared, "bare": bare, "dry_run": dry, "commit": commit}
        else:
            report[name] = child(name)
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    report["uptime_after"] = _uptime()
    log("", out)
    for line in summary(report):
        log(line, out)
    path = write_json(result_name(), report)
    log(f"\nWrote {path.relative_to(BASE_DIR)}", out)
    return report


def _config(url):
    return {
        "outfalls": target_count(),
        "database_url": url,
        "repeat": _repeat()[0],
        "warmup": _repeat()[1],
        "brute_repeat": env_int("BENCH_SCALE_BRUTE_REPEAT", 2),
        "import_rows": env_int("BENCH_SCALE_IMPORT_ROWS", 100_000),
        "seed": SEED,
        "generator_version": GENERATOR_VERSION,
    }


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return None


def _ratio(value, bare):
    return f"{value / bare:,.1f}" if bare else "—"


def summary(report):
    """The report's lines: one table of every figure with its bare query and its step's peak memory."""
    rows = []
    build = report.get("build") or {}
    if "ledger" in report:
        peak = report["ledger"]["peak_mib"]
        for r in report["ledger"]["results"]:
            page, raw = r["page"]["p95_ms"], r["raw_page_and_count"]["p95_ms"]
            rows.append(
                [
                    f"{r['endpoint']} {r['scenario']}",
                    f"{r['rows_total']:,}" if r["rows_total"] is not None else "?",
                    f"{page:,.1f} ms",
                    f"{raw:,.2f} ms",
                    _ratio(page, raw),
                    "yes" if r["raw_matches_page"] else "NO",
                    f"{peak:,.0f}",
                ]
            )
    if "map" in report:
        peak = report["map"]["peak_mib"]
        for r in report["map"]["results"]:
            request, bare = r["request"]["p95_ms"], r["bare_sql"]["p95_ms"]
            rows.append(
                [
                    f"map {r['scenario']} ({r['mode']}, {r['plan']})",
                    f"{r['total']:,}",
                    f"{request:,.1f} ms",
                    f"{bare:,.2f} ms",
                    _ratio(request, bare),
                    "yes" if r["baseline_matches"] else "NO",
                    f"{peak:,.0f}",
                ]
            )
    if "spatial" in report:
        s = report["spatial"]
        n = f"{s['outfalls']:,}"
        rows += [
            ["spatial check, compute", n, f"{s['compute_s']:.1f} s", f"{s['bare_read_s']:.2f} s",
             _ratio(s["compute_s"], s["bare_read_s"]), "—", f"{s['peak_compute_mib']:,.0f}"],
            ["spatial check, compute + write", n, f"{s['check_s']:.1f} s", f"{s['bare_read_s']:.2f} s",
             _ratio(s["check_s"], s["bare_read_s"]), "—", f"{s['peak_mib']:,.0f}"],
            ["spatial check of one outfall (save), p95", "1", f"{s['save']['p95_ms']:.1f} ms",
             f"{s['save_bare']['p95_ms']:.2f} ms", _ratio(s["save"]["p95_ms"], s["save_bare"]["p95_ms"]), "—",
             f"{s['peak_mib']:,.0f}"],
        ]  # fmt: skip
    if "export" in report:
        e = report["export"]
        for fmt, r in e["formats"].items():
            rows.append(
                [
                    f"export of one county ({e['county']}), {fmt}",
                    f"{e['county_outfalls']:,}",
                    f"{r['seconds']:.2f} s",
                    f"{e['bare_s']:.3f} s",
                    _ratio(r["seconds"], e["bare_s"]),
                    "yes" if e["same_rows"] else "NO",
                    f"{e['peak_mib']:,.0f}",
                ]
            )
    if "import" in report:
        i = report["import"]
        bare = i["bare"]["seconds"]
        n = f"{i['file']['rows']:,}"
        whole = i["dry_run"]["seconds"] + i["commit"]["seconds"]
        created_all = i["commit"]["created_outfalls"] == i["file"]["rows"]
        rows += [
            ["import: bare read of the file", n, f"{bare:.2f} s", f"{bare:.2f} s", "1.0", "—",
             f"{i['bare']['peak_mib']:,.0f}"],
            ["import: dry run", n, f"{i['dry_run']['seconds']:.1f} s", f"{bare:.2f} s",
             _ratio(i["dry_run"]["seconds"], bare), "—", f"{i['dry_run']['peak_mib']:,.0f}"],
            ["import: commit (rolled back)", n, f"{i['commit']['seconds']:.1f} s", f"{bare:.2f} s",
             _ratio(i["commit"]["seconds"], bare), "yes" if created_all else "NO",
             f"{i['commit']['peak_mib']:,.0f}"],
            ["import: whole (dry run + commit)", n, f"{whole:.1f} s", f"{bare:.2f} s", _ratio(whole, bare), "—",
             f"{max(i['dry_run']['peak_mib'], i['commit']['peak_mib']):,.0f}"],
        ]  # fmt: skip
    lines = [
        f"{build.get('outfalls', 0):,} outfalls in {build.get('counties', 0)} counties; database "
        f"{build.get('database_mib', 0):,} MiB; "
        + (
            f"reused (built earlier in {build.get('build_seconds', 0):.0f} s)"
            if build.get("reused")
            else f"built in {build.get('build_seconds', 0):.0f} s"
        ),
        "",
        format_table(
            ["figure", "rows", "p95 / time", "bare query", "x bare", "same answer", "peak MiB"],
            rows,
            right={1, 2, 3, 4, 6},
        ),
        "",
        "p95: whole requests through Django's test client (BENCH_SCALE_REPEAT each); bare query: for the ledger",
        "and API the hand-written SQL of the same page and its COUNT(*) (p95); for the map a plain SELECT of the",
        "rows in the box, or COUNT(*) of them (p95); for the spatial check reading the columns it reads; for one",
        "outfall's check the box query around it; for the export the county's rows with the list's columns and",
        "joins; for the import a bare read of the file. peak MiB: ru_maxrss of the step's own process.",
        f"Wall time {report.get('wall_seconds', 0) / 60:.1f} min. uptime before: {report.get('uptime_before')};",
        f"after: {report.get('uptime_after')}.",
    ]
    if "build" in report and not build.get("reused"):
        lines.append(f"Build: {build.get('timings')}.")
    return lines


def main(argv=None):
    return child_cli("benchmarks.scale", __doc__.split("\n")[0], CHILD_STEPS, child_main, run, argv)


if __name__ == "__main__":
    sys.exit(main())
