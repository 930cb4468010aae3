"""Spatial checks of the ledger (空间检查): run on every save and in a batch (`manage.py spatial_check`).

For each outfall checked, every earlier finding is replaced by what the checks find now:

- protected area (error): the point lies inside a special protection area → 应依法取缔, naming the area;
- county (warning): the point lies outside the declared county's boundary, naming the county it is in;
- section interval (info): where the point lies along its declared river, between which sections and
  how far (linear referencing, geo/linref.py); fills the ledger's 断面区间 when it is empty or was filled by
  the check before (the finding's data keeps the value it wrote, ``data["filled"]``), never over a value a
  person typed;
- far from river (warning): farther than SPATIAL_RIVER_WARN_M from the declared water body, naming the
  nearest water body;
- duplicate (warning): another outfall within SPATIAL_DUPLICATE_M.

Everything is computed in bulk: the reference data (areas, counties, waters, sections) is read once, the
points go through STRtrees and vectorised shapely calls (geo/index.py). ``compute`` does the geometry
without writing; ``write`` stores a computation.

Only what changed is written. Each finding is computed as its key (outfall, kind, area or other outfall),
the arguments its message and data are built from, and a 64-bit fingerprint of both (``digest``, stored
with the row). ``write`` reads the stored fingerprints of the checked outfalls' findings, deletes the rows
whose fingerprint is no longer found, inserts the findings not stored yet, and builds messages and data for
those rows only: a re-check of an unchanged ledger writes nothing. The fingerprint covers every argument,
the displayed attributes of the reference rows involved, this module's source and the choice labels
(``_format_key``), so a changed message text rewrites every finding once.
See docs/spatial-checks.md.
"""

import contextlib
import functools
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from outfalls.core import bulk
from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
from outfalls.core.models import Jurisdiction
from outfalls.geo import coords, shapes
from outfalls.geo.index import GeometryIndex
from outfalls.geo.linref import LocalFrame, RiverLine

from .choices import FindingKind, FindingSeverity, ProtectedAreaKind
from .models import (
    Outfall,
    ProtectedArea,
    Section,
    SpatialFinding,
    WaterBody,
    WaterFunctionZone,
    WaterWorks,
)

AUTO_FILL_REASON = "空间检查自动填写断面区间"
SEVERITY = {
    FindingKind.PROTECTED_AREA: FindingSeverity.ERROR,
    FindingKind.COUNTY_MISMATCH: FindingSeverity.WARNING,
    FindingKind.FAR_FROM_RIVER: FindingSeverity.WARNING,
    FindingKind.DUPLICATE: FindingSeverity.WARNING,
    FindingKind.SECTION_INTERVAL: FindingSeverity.INFO,
}
# Up to this many outfalls, only the reference rows and outfalls near them are read (a save); above it,
# everything is read once (a batch).
SMALL_BATCH = 500
CHUNK = 2000  # ids per IN (...) and rows per bulk insert
# A rewrite of every finding at least this large drops the table's indexes and builds them again after
# (core.bulk.indexes_set_aside); smaller ones insert into them.
REBUILD_INDEXES_FROM = 50_000


def river_warn_m():
    return float(getattr(settings, "SPATIAL_RIVER_WARN_M", 500))


def duplicate_m():
    return float(getattr(settings, "SPATIAL_DUPLICATE_M", 30))


# The city's extent, for refusing coordinates outside it: its boundary's bounding box widened by this many
# degrees (about 5 km), the same for forms and imports.
CITY_MARGIN_DEG = 0.05


@dataclass(frozen=True)
class CityBounds:
    name: str
    bbox: tuple | None  # (min_lon, min_lat, max_lon, max_lat), None when the city has no boundary

    def problem(self, lon, lat):
        """A Chinese message when (lon, lat) lies outside the city, else None."""
        if self.bbox is None:
            return None
        return coords.check_in_bbox(lon, lat, self.bbox, region=self.name, margin=CITY_MARGIN_DEG)


def city_bounds():
    """The city this install serves (the city-level jurisdiction), read once per call."""
    row = (
        Jurisdiction.objects.filter(level=JurisdictionLevel.CITY)
        .order_by("code")
        .values_list("name", "boundary")
        .first()
    )
    if row is None:
        return CityBounds("本市", None)
    name, boundary = row
    geom = _geometry(boundary) if boundary else None
    return CityBounds(name, geom.bounds if geom is not None and not geom.is_empty else None)


def outside_city(lon, lat, city=None):
    """A Chinese message when the point lies outside the city (forms and imports refuse it), else None."""
    return (city or city_bounds()).problem(lon, lat)


# Findings that ask a person to confirm a new or moved point before it is saved (save_outfall).
PLACEMENT_KINDS = (FindingKind.COUNTY_MISMATCH, FindingKind.FAR_FROM_RIVER)


def placement_warnings(computation):
    """The messages of a computation's county and river findings (see PLACEMENT_KINDS)."""
    return [message for _, kind, message, *_ in computation.findings if kind in PLACEMENT_KINDS]


def interval_text(upstream, downstream):
    """The ledger's 断面区间 from the names of the sections around a point: 孤山—艾庄, 艾庄以下, 孤山以上."""
    if upstream and downstream:
        return f"{upstream}—{downstream}"
    if upstream:
        return f"{upstream}以下"
    if downstream:
        return f"{downstream}以上"
    return ""


def distance_text(metres):
    if metres < 1000:
        return f"{metres:.0f} 米"
    return f"{metres / 1000:.1f} 公里"


def _ref(obj_id, name, **extra):
    return {"id": int(obj_id), "name": name, **extra}


def _rows(queryset):
    """A values_list queryset's rows as the database cursor gives them (no per-row converters): only for
    columns whose values need none (integers, floats, text)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Fingerprints ------------------------------------------------------------------------------------------
# A finding's digest is Python's hash() of a tuple of ints and floats, which is the same in every process
# (only str, bytes and, before Python 3.12, None hash differently per process): texts enter it as
# stable_int() of their UTF-8, never as themselves.
def stable_int(data):
    """A signed 64-bit integer from bytes, the same in every process."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


class TextKeys(dict):
    """stable_int() of each text, computed once per text."""

    def __missing__(self, text):
        value = self[text] = stable_int(text.encode())
        return value


@functools.cache
def _format_key():
    """What every message and data dict also depends on: this module's code and the choice labels. A change
    to either changes every fingerprint, so the next check rewrites every finding once."""
    labels = [ProtectedAreaKind.choices, FindingKind.choices, FindingSeverity.choices]
    return stable_int(Path(__file__).read_bytes() + repr(labels).encode())


# Reference data ----------------------------------------------------------------------------------------
@dataclass
class Place:
    id: int
    name: str
    level: str
    geom: object
    approximate: bool

    @functools.cached_property
    def key(self):
        return stable_int(repr((self.id, self.name, bool(self.approximate))).encode())


@dataclass
class Water:
    id: int
    name: str
    geom: object  # lon/lat
    geom_m: object  # in the city frame
    river: RiverLine | None = None  # lines only (with or without sections)

    @functools.cached_property
    def key(self):
        """What its findings show of it: its name and its sections' names and positions."""
        marks = [(m.key, m.name, m.chainage_km) for m in self.river.sections] if self.river else None
        return stable_int(repr((self.id, self.name, marks)).encode())

    @functools.cached_property
    def ref(self):
        """Its reference in a finding's data (one dict shared by every finding that names it: never changed)."""
        return _ref(self.id, self.name)

    @functools.cached_property
    def _pairs(self):
        return {}

    def pair(self, u, w):
        """(upstream section, downstream section, 断面区间, their references) for section indexes u, w (-1:
        none), made once per pair: 100,000 findings name a few dozen pairs."""
        try:
            return self._pairs[u, w]
        except KeyError:
            sections = self.river.sections
            up = sections[u] if u >= 0 else None
            down = sections[w] if w >= 0 else None
            value = self._pairs[u, w] = (
                up,
                down,
                interval_text(up.name if up else "", down.name if down else ""),
                _ref(up.key, up.name, chainage_km=round(up.chainage_km, 3)) if up else None,
                _ref(down.key, down.name, chainage_km=round(down.chainage_km, 3)) if down else None,
            )
            return value


def _geometry(value):
    """The geometry of a GeoJSON dict, made valid, or None when unreadable."""
    try:
        geom = shapes.shape_of(value)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def _text_geometry(text):
    """The geometry of a GeoJSON column read as text (`_as_text`), made valid, or None when unreadable."""
    try:
        geom = shapes.shape_of_text(text)
    except ValueError:
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def _as_text(column):
    """A JSON column as its text, for GEOS to parse (shapes.shape_of_text) without json.loads."""
    return Cast(column, TextField())


def _load_counties():
    places = []
    rows = (
        Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, boundary__isnull=False)
        .annotate(boundary_text=_as_text("boundary"))
        .values_list("id", "name", "level", "boundary_text", "boundary_approximate")
    )
    for pk, name, level, boundary, approximate in rows.order_by("code"):
        geom = _text_geometry(boundary)
        if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon"):
            shapely.prepare(geom)
            places.append(Place(pk, name, level, geom, approximate))
    return places


def _city_frame(counties, lats):
    """One metric frame for the whole city: the middle latitude of the county boundaries (stable)."""
    if counties:
        bounds = np.array([p.geom.bounds for p in counties])
        return LocalFrame((bounds[:, 1].min() + bounds[:, 3].max()) / 2)
    return LocalFrame(float(np.mean(lats)) if len(lats) else 40.0)


# The counties, the metric frame and the rivers, parsed (GeoJSON into GEOS, each river's linear referencing):
# about 7 of a save's 10 ms in the city, and most of it at a province's 184 counties and 130 rivers. Kept per
# thread (prepared geometries are not shared between threads) while the reference version holds.
_held = threading.local()
REFERENCE_MODELS = (Jurisdiction, WaterBody, Section)


def reference_version():
    """What the parsed reference data depends on, read in one statement: per table its row count and highest
    key, and its history's highest key and latest time (every save and delete through the ORM or the GIS
    import writes a history row; the time tells apart two rolled-back writes that reused a key)."""
    connection = connections[Outfall.objects.db]
    quote = connection.ops.quote_name
    parts = []
    for model in REFERENCE_MODELS:
        table, history = quote(model._meta.db_table), quote(model.history.model._meta.db_table)
        parts += [
            f"(SELECT count(*) FROM {table})",
            f"(SELECT max({quote(model._meta.pk.column)}) FROM {table})",
            f"(SELECT max(history_id) FROM {history})",
            f"(SELECT max(history_date) FROM {history})",
        ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(str(value) for value in cursor.fetchone())


def _reference(lats):
    """(counties, frame, waters) for a check, parsed once per thread while reference_version() holds."""
    version = reference_version()
    held = getattr(_held, "reference", None)
    if held is not None and held[0] == version:
        return held[1]
    counties = _load_counties()
    frame = _city_frame(counties, lats)
    waters = _load_waters(frame)
    if counties:  # without boundaries the frame follows the outfalls checked: not kept
        _held.reference = (version, (counties, frame, waters))
    return counties, frame, waters


def forget_reference():
    """Drop this thread's parsed reference data (the next check parses it again)."""
    _held.__dict__.pop("reference", None)


def _load_areas(lons, lats, everything):
    rows = ProtectedArea.objects.all()
    if everything and len(lons):  # the areas whose box meets the targets' box
        rows = rows.filter(
            min_lon__lte=float(np.max(lons)), max_lon__gte=float(np.min(lons)),
            min_lat__lte=float(np.max(lats)), max_lat__gte=float(np.min(lats)),
        )  # fmt: skip
    elif not everything:
        q = Q(pk__in=[])
        for lon, lat in zip(lons, lats, strict=True):
            q |= Q(min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat)
        rows = rows.filter(q)
    areas = []
    for pk, name, kind, approximate, geometry in rows.annotate(
        geometry_text=_as_text("geometry")
    ).values_list("id", "name", "kind", "approximate", "geometry_text"):
        geom = _text_geometry(geometry)
        if geom is not None:
            key = stable_int(repr((pk, name, kind, bool(approximate))).encode())
            areas.append((pk, name, kind, approximate, geom, key))
    return areas


def _load_waters(frame):
    sections = {}
    for pk, name, water_id, lon, lat in Section.objects.order_by().values_list(
        "id", "name", "water_body_id", "lon", "lat"
    ):
        sections.setdefault(water_id, []).append((pk, name, lon, lat))
    waters = {}
    for pk, name, geometry in (
        WaterBody.objects.filter(geometry__isnull=False)
        .annotate(geometry_text=_as_text("geometry"))
        .values_list("id", "name", "geometry_text")
    ):
        geom = _text_geometry(geometry)
        if geom is None:
            continue
        water = Water(pk, name, geom, frame.geometry(geom))
        if geom.geom_type in ("LineString", "MultiLineString"):
            try:
                water.river = RiverLine(geom, sections.get(pk, ()))
            except ValueError:
                water.river = None
        waters[pk] = water
    return waters


# Outfalls ----------------------------------------------------------------------------------------------
TARGET_FIELDS = ("id", "lon", "lat", "county_id", "water_body_id", "section_interval")


@dataclass
class Targets:
    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    county: np.ndarray
    water: np.ndarray
    interval: list

    @classmethod
    def from_rows(cls, rows):
        """From rows of TARGET_FIELDS ordered by id."""
        if not rows:
            return cls(*(np.empty(0, dtype=t) for t in (np.int64, float, float, np.int64, np.int64)), [])
        ids, lon, lat, county, water, interval = zip(*rows, strict=True)
        return cls(
            ids=np.array(ids, dtype=np.int64),
            lon=np.array(lon, dtype=float),
            lat=np.array(lat, dtype=float),
            county=np.array(county, dtype=np.int64),
            water=np.array(water, dtype=np.int64),
            interval=list(interval),
        )

    def __len__(self):
        return len(self.ids)


def _target_ids(outfalls):
    """None for every outfall; otherwise a sorted list of ids."""
    if outfalls is None:
        return None
    if isinstance(outfalls, QuerySet):
        return sorted(outfalls.order_by().values_list("id", flat=True))
    return sorted({o.pk if isinstance(o, Outfall) else int(o) for o in outfalls})


def _load_targets(ids):
    rows = Outfall.objects.order_by("id").values_list(*TARGET_FIELDS)
    if ids is None:
        return Targets.from_rows(_rows(rows))
    found = []
    for chunk in bulk.chunks(ids, CHUNK):  # ids are sorted: the chunks' rows follow each other in order
        found += _rows(rows.filter(id__in=chunk))
    return Targets.from_rows(found)


def _load_pool(targets, everything, frame, reach_m):
    """(ids, lon, lat) of every outfall that may lie within reach_m of a target: for many targets, those in
    the box around them all (a city's import into a province's ledger reads the city, not the province;
    a bulk save checks its outfalls a chunk at a time, each chunk reading its own box); for a few, those in
    a small box around each."""
    dlon, dlat = reach_m * 1.5 / frame.per_lon, reach_m * 1.5 / frame.per_lat
    if everything:
        rows = _rows(
            Outfall.objects.order_by()
            .filter(
                lon__range=(float(targets.lon.min()) - dlon, float(targets.lon.max()) + dlon),
                lat__range=(float(targets.lat.min()) - dlat, float(targets.lat.max()) + dlat),
            )
            .values_list("id", "lon", "lat")
        )
    else:
        rows = []
        pairs = list(zip(targets.lon.tolist(), targets.lat.tolist(), strict=True))
        for chunk in bulk.chunks(pairs, 100):
            q = Q(pk__in=[])
            for lon, lat in chunk:
                q |= Q(lon__range=(lon - dlon, lon + dlon), lat__range=(lat - dlat, lat + dlat))
            rows += Outfall.objects.filter(q).order_by().values_list("id", "lon", "lat")
        rows = sorted(set(rows))
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=float),
        np.array([r[2] for r in rows], dtype=float),
    )


# The computation ---------------------------------------------------------------------------------------
@dataclass
class Computation:
    """What the checks found, before anything is written.

    found: one tuple per finding, (outfall id, kind, area id, other outfall id, args, digest, filled):
    ``build(computation.refs, *args)`` (the kind's builder) gives its (message, data); digest is its
    fingerprint; filled is the 断面区间 it wrote into the ledger (section intervals; "" otherwise). Messages
    are built when they are needed: for the rows ``write`` stores, or all at once by ``findings``. The tuples
    hold only numbers and texts (reference rows by their index in ``refs``), so the garbage collector stops
    tracking them: 200,000 tuples of objects made it walk them again and again (1.5 s at 100,000 outfalls).
    """

    target_ids: list | None  # None: every outfall
    checked: int
    found: list = field(default_factory=list)
    intervals: dict = field(default_factory=dict)  # outfall id -> 断面区间 to write ("" clears)
    timings: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)  # findings inserted, deleted, kept (write)
    refs: dict = field(default_factory=dict)  # "areas", "counties", "waters": lists the args index

    def build(self, row):
        """(message, data) of a row of found."""
        return _BUILDERS[row[1]](self.refs, *row[4])

    @functools.cached_property
    def findings(self):
        """[(outfall id, kind, message, data, area id, other id)], every message and data built."""
        return [(row[0], row[1], *self.build(row), row[2], row[3]) for row in self.found]

    def counts(self):
        return Counter((kind, SEVERITY[kind]) for _, kind, *_ in self.found)


@bulk.gc_paused()
def compute(outfalls=None):
    """Run every check for outfalls (None: all; a queryset; or ids/instances); write nothing."""
    timings = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    ids = _target_ids(outfalls)
    everything = ids is None or len(ids) > SMALL_BATCH
    targets = _load_targets(ids)
    computation = Computation(target_ids=ids, checked=len(targets), timings=timings)
    if not len(targets):
        return computation
    counties, frame, waters = _reference(targets.lat)
    lap("load outfalls, counties and waters")
    points = shapely.points(targets.lon, targets.lat)
    points_m = frame.points(targets.lon, targets.lat)
    lap("points")

    areas = _load_areas(targets.lon, targets.lat, everything)
    lap("load protected areas")
    _check_areas(computation, targets, points, areas)
    lap("protected areas")

    _check_counties(computation, targets, points_m, counties, frame)
    lap("county boundaries")

    old_filled = _old_filled(ids)
    lap("load old intervals")
    _check_rivers(computation, targets, points_m, waters, old_filled)
    lap("rivers and section intervals")

    if ids is None:  # every outfall is a target: they are the pool too
        pool, pool_points = (targets.ids, targets.lon, targets.lat), points_m
    else:
        pool, pool_points = _load_pool(targets, everything, frame, duplicate_m()), None
    lap("load outfalls for duplicates")
    _check_duplicates(computation, targets, pool, frame, points_m, pool_points)
    lap("duplicates")
    return computation


# Findings as tuples (see Computation.found), their messages built by the functions below, which are pure
# functions of their arguments: the digest of a finding covers every argument (reference rows by their
# `key`, texts by stable_int).
_AREA = FindingKind.PROTECTED_AREA.value
_COUNTY = FindingKind.COUNTY_MISMATCH.value
_FAR = FindingKind.FAR_FROM_RIVER.value
_SECTION = FindingKind.SECTION_INTERVAL.value
_DUPLICATE = FindingKind.DUPLICATE.value


def _area_finding(refs, index):
    pk, name, kind, approximate = refs["areas"][index][:4]
    label = ProtectedAreaKind(kind).label if kind in ProtectedAreaKind.values else kind
    message = f"位于{label}“{name}”内，应依法取缔"
    if approximate:
        message += "（保护区范围为示意）"
    return message, {"area": _ref(pk, name, kind=kind, approximate=bool(approximate))}


def _check_areas(computation, targets, points, areas):
    if not areas:
        return
    index = GeometryIndex([a[4] for a in areas])
    point_ids, area_ids = index.containing(points)
    order = np.lexsort((area_ids, point_ids))
    computation.refs["areas"] = areas
    fmt, found, outfall_ids = _format_key(), computation.found, targets.ids.tolist()
    for i, a in zip(point_ids[order].tolist(), area_ids[order].tolist(), strict=True):
        area = areas[a]
        outfall_id = outfall_ids[i]
        found.append((outfall_id, _AREA, area[0], None, (a,), hash((fmt, 1, outfall_id, area[5])), ""))


def _county_finding(refs, declared, where, distance):
    counties = refs["counties"]
    declared, where = counties[declared], counties[where] if where >= 0 else None
    declared_text = f"“{declared.name}”" + ("（示意边界）" if declared.approximate else "")
    if where is None:
        message = f"坐标不在任何县区边界内，距所填县区{declared_text}边界约 {distance_text(distance)}"
    else:
        message = (
            f"坐标位于{where.name}境内，不在所填县区{declared_text}边界内"
            f"（距其边界约 {distance_text(distance)}）"
        )
    data = {
        "declared": _ref(declared.id, declared.name, approximate=bool(declared.approximate)),
        "actual": _ref(where.id, where.name) if where else None,
        "distance_m": round(distance, 1),
    }
    return message, data


def _check_counties(computation, targets, points_m, counties, frame):
    if not counties:
        return
    real = [n for n, p in enumerate(counties) if p.level == JurisdictionLevel.COUNTY]
    computation.refs["counties"] = counties
    fmt, found = _format_key(), computation.found
    for declared_at, declared in enumerate(counties):
        index = np.nonzero(targets.county == declared.id)[0]
        if not len(index):
            continue
        inside = shapely.contains_xy(declared.geom, targets.lon[index], targets.lat[index])
        index = index[~inside]
        if not len(index):
            continue
        lon, lat = targets.lon[index], targets.lat[index]
        actual = np.full(len(index), -1)
        for n in real:
            hit = shapely.contains_xy(counties[n].geom, lon, lat) & (actual < 0)
            actual[hit] = n
        distances = shapely.distance(frame.geometry(declared.geom), points_m[index])
        for outfall_id, found_at, distance in zip(
            targets.ids[index].tolist(), actual.tolist(), distances.tolist(), strict=True
        ):
            where = counties[found_at].key if found_at >= 0 else 0
            digest = hash((fmt, 2, outfall_id, declared.key, where, distance))
            found.append((outfall_id, _COUNTY, None, None, (declared_at, found_at, distance), digest, ""))


def _old_filled(ids):
    """{outfall id: the 断面区间 the check wrote earlier} from the current section-interval findings."""
    section = FindingKind.SECTION_INTERVAL
    if ids is None:
        rows = SpatialFinding.objects.filter(kind=section).exclude(filled="").order_by()
        return dict(_rows(rows.values_list("outfall_id", "filled")))
    # By outfall only, the kind kept here: SQLite (no STAT4) read `kind = … AND outfall_id IN (…)` through
    # the kind index, every section-interval finding of the ledger for each chunk (0.9 s at 300,000).
    filled = {}
    rows = SpatialFinding.objects.order_by().values_list("outfall_id", "kind", "filled")
    for chunk in bulk.chunks(ids, CHUNK):
        filled.update(
            (o, f) for o, kind, f in _rows(rows.filter(outfall_id__in=chunk)) if kind == section and f
        )
    return filled


def _far_finding(refs, water, distance, limit, near, near_distance):
    waters = refs["waters"]
    water, near = waters[water], waters[near] if near >= 0 else None
    if near is not None and near.id != water.id:
        tail = f"；最近的水体是“{near.name}”，约 {distance_text(near_distance)}"
    else:
        tail = "；附近没有更近的已登记水体"
    message = f"距所填受纳水体“{water.name}”约 {distance_text(distance)}，超过 {distance_text(limit)}{tail}"
    data = {
        "water": water.ref,
        "distance_m": round(distance, 1),
        "limit_m": limit,
        "nearest_water": _near_ref(near, near_distance),
    }
    return message, data


def _near_ref(near, distance):
    return _ref(near.id, near.name, distance_m=round(distance, 1)) if near is not None else None


# How a section-interval finding treats the ledger's 断面区间 (the digest holds the number).
_TOO_FAR, _CHECKS_OWN, _TYPED = 1, 2, 3


def _section_finding(refs, water, d, km, u, w, near, near_distance, current, state, wrote, limit):
    waters = refs["waters"]
    water, near = waters[water], waters[near] if near >= 0 else None
    up, down, interval, up_ref, down_ref = water.pair(u, w)
    data = {
        "water": water.ref,
        "chainage_km": round(km, 3),
        "distance_m": round(d, 1),
        "upstream": up_ref,
        "downstream": down_ref,
        "to_upstream_km": round(km - up.chainage_km, 3) if up else None,
        "to_downstream_km": round(down.chainage_km - km, 3) if down else None,
        "interval": interval,
        "nearest_water": _near_ref(near, near_distance),
    }
    if interval:
        message = _position_message(water.name, up, down, km)
    else:
        message = f"受纳水体“{water.name}”未设考核断面，无断面区间"
    if state == _TOO_FAR:  # too far from the river for its position along it to mean anything
        if current:
            data["ledger_value"] = current
        message += f"；距河道超过 {distance_text(limit)}，不自动填写断面区间"
    elif state == _CHECKS_OWN:
        if wrote and interval:
            message += "；已自动填入台账断面区间"
    else:  # typed by a person (or loaded): never overwritten
        data["ledger_value"] = current
        if interval and current != interval:
            message += f"；台账已填“{current}”（非空间检查所填），未改动"
    return message, data


def _check_rivers(computation, targets, points_m, waters, old_filled):
    limit = river_warn_m()
    water_list = computation.refs["waters"] = list(waters.values())
    nearest, nearest_distance = GeometryIndex([w.geom_m for w in water_list]).nearest(points_m)
    found, intervals = computation.found, computation.intervals
    fmt, texts = _format_key(), TextKeys()
    water_keys = [w.key for w in water_list]
    for water_at, water in enumerate(water_list):
        index = np.nonzero(targets.water == water.id)[0]
        if not len(index):
            continue
        # Python lists, not numpy scalars, in the loop below (several times faster per element).
        ids = targets.ids[index].tolist()
        distances = shapely.distance(water.geom_m, points_m[index])
        far = (distances > limit).tolist()
        distances = distances.tolist()
        near_ids = nearest[index].tolist()
        near_distances = nearest_distance[index].tolist()
        current_values = [targets.interval[i] for i in index.tolist()]
        river = water.river
        if river is not None:
            chainage, _ = river.locate_many(targets.lon[index], targets.lat[index])
            upstream, downstream = river.section_indexes(chainage)
            chainage, upstream, downstream = chainage.tolist(), upstream.tolist(), downstream.tolist()
        water_key = water.key
        for n, outfall_id in enumerate(ids):
            near_id = near_ids[n]
            near_key = water_keys[near_id] if near_id >= 0 else 0
            near_distance = near_distances[n]
            d = distances[n]
            if far[n]:
                digest = hash((fmt, 3, outfall_id, water_key, d, limit, near_key, near_distance))
                args = (water_at, d, limit, near_id, near_distance)
                found.append((outfall_id, _FAR, None, None, args, digest, ""))
            if river is None:
                continue
            u, w = upstream[n], downstream[n]
            current = current_values[n]
            previous = old_filled.get(outfall_id)
            wrote, filled = False, ""
            if far[n]:
                state = _TOO_FAR
                if previous is not None and current == previous and current:
                    intervals[outfall_id] = ""  # the check's own earlier value, now wrong
            elif current == "" or (previous is not None and current == previous):  # the check's to fill
                state = _CHECKS_OWN
                interval = water.pair(u, w)[2]
                if interval != current:
                    intervals[outfall_id] = interval
                    wrote = True
                filled = interval
            else:
                state = _TYPED
            km = chainage[n]
            digest = hash(
                (fmt, 5, outfall_id, water_key, d, km, u, w, near_key, near_distance)
                + (texts[current], state, wrote, limit)
            )
            args = (water_at, d, km, u, w, near_id, near_distance, current, state, wrote, limit)
            found.append((outfall_id, _SECTION, None, None, args, digest, filled))
    # A value the check wrote on a river that no longer gives one (no geometry, or another water body).
    for outfall_id, water_id, current in zip(
        targets.ids.tolist(), targets.water.tolist(), targets.interval, strict=True
    ):
        water = waters.get(water_id)
        if current and (water is None or water.river is None) and old_filled.get(outfall_id) == current:
            intervals[outfall_id] = ""


def _position_message(water_name, up, down, km):
    if up and down:
        return (
            f"位于{water_name}{up.name}—{down.name}断面区间，沿河距上游{up.name}断面约 "
            f"{distance_text((km - up.chainage_km) * 1000)}、距下游{down.name}断面约 "
            f"{distance_text((down.chainage_km - km) * 1000)}"
        )
    if up:
        return (
            f"位于{water_name}{up.name}断面以下，沿河距该断面约 {distance_text((km - up.chainage_km) * 1000)}"
        )
    return (
        f"位于{water_name}{down.name}断面以上，沿河距该断面约 {distance_text((down.chainage_km - km) * 1000)}"
    )


def _duplicate_finding(refs, other_id, distance, limit):
    # Neither the message nor the data names the other outfall: it may lie outside the reader's scope
    # (pages show it through Outfall.objects.visible_to).
    message = f"{limit:.0f} 米内另有入河排污口（相距约 {distance:.0f} 米），可能为重复排口"
    return message, {"other_id": other_id, "distance_m": round(distance, 1), "limit_m": limit}


def _check_duplicates(computation, targets, pool, frame, target_points=None, pool_points=None):
    pool_ids, pool_lon, pool_lat = pool
    if not len(pool_ids):
        return
    limit = duplicate_m()
    if pool_points is None:
        pool_points = frame.points(pool_lon, pool_lat)
    index = GeometryIndex(pool_points)
    if target_points is None:
        target_points = frame.points(targets.lon, targets.lat)
    # Candidates in the city frame with a margin, then the distance at each pair's own latitude.
    ti, pj, _ = index.within_distance(target_points, limit * 1.05)
    a_ids, b_ids = targets.ids[ti], pool_ids[pj]
    keep = a_ids != b_ids
    ti, pj, a_ids, b_ids = ti[keep], pj[keep], a_ids[keep], b_ids[keep]
    distance = shapes.distance_m(targets.lon[ti], targets.lat[ti], pool_lon[pj], pool_lat[pj])
    keep = distance <= limit
    a_ids, b_ids, distance = a_ids[keep], b_ids[keep], distance[keep]
    if not len(a_ids):
        return
    pairs = {}
    for a, b, d in zip(a_ids.tolist(), b_ids.tolist(), distance.tolist(), strict=True):
        pairs[(a, b)] = d
        pairs[(b, a)] = d  # the other side of the pair, even when it is not a target itself
    fmt, found = _format_key(), computation.found
    for (a, b), d in sorted(pairs.items()):
        digest = hash((fmt, 4, a, b, d, limit))
        found.append((a, _DUPLICATE, None, b, (b, d, limit), digest, ""))


_BUILDERS = {
    _AREA: _area_finding,
    _COUNTY: _county_finding,
    _FAR: _far_finding,
    _SECTION: _section_finding,
    _DUPLICATE: _duplicate_finding,
}


# Writing -----------------------------------------------------------------------------------------------
@dataclass
class CheckReport:
    checked: int
    counts: Counter
    filled: dict  # outfall id -> 断面区间 written ("" when a value the check wrote was cleared)
    timings: dict
    seconds: float
    written: dict = field(default_factory=dict)  # findings inserted, deleted, kept

    @property
    def total(self):
        return sum(self.counts.values())

    def summary_lines(self):
        lines = [f"检查入河排污口 {self.checked} 个，用时 {self.seconds:.2f} 秒，发现 {self.total} 条："]
        for kind in FindingKind:
            severity = SEVERITY[kind]
            n = self.counts.get((kind, severity), 0)
            lines.append(f"  {kind.label}（{severity.label}）：{n}")
        written = sum(1 for v in self.filled.values() if v)
        lines.append(
            f"  自动填写断面区间：{written}"
            + (f"，清除 {len(self.filled) - written}" if len(self.filled) > written else "")
        )
        if self.written:
            lines.append(
                "  检查结果变化：新增 {inserted}，删除 {deleted}，未变 {kept}".format(**self.written)
            )
        return lines


@transaction.atomic
def write(computation, *, user=None, unrecorded=()):
    """Bring the stored findings of the computation's outfalls to what it found (only the difference is
    written), and fill the section intervals it computed.

    unrecorded: outfalls inserted in this transaction whose first history row is still to be written (a bulk
    import copies it after the checks): their interval is written into the row without a history row or a
    new version of its own."""
    clock = time.perf_counter()
    computation.written = _store_findings(computation)
    if computation.intervals:
        _fill_intervals(computation.intervals, user, set(unrecorded))
    computation.timings["write"] = time.perf_counter() - clock


def _fill_intervals(intervals, user, unrecorded=frozenset()):
    """Write the 断面区间 the check computed, with a history row for each outfall (who, why).

    One UPDATE per distinct value and chunk (there are only as many values as section pairs), then the
    history rows through simple_history's bulk_update_with_history with no fields (it only records
    them): a bulk_update with a CASE per row costs several times more at this size.
    """
    now = timezone.now()
    by_value = {}
    for pk, value in intervals.items():
        by_value.setdefault(value, []).append(pk)
    for value, pks in by_value.items():
        fresh = sorted(pk for pk in pks if pk in unrecorded)
        for chunk in bulk.chunks(fresh, CHUNK):
            Outfall.objects.filter(id__in=chunk).update(section_interval=value)
        for chunk in bulk.chunks(sorted(pk for pk in pks if pk not in unrecorded), CHUNK):
            Outfall.objects.filter(id__in=chunk).update(
                section_interval=value, updated_at=now, version=F("version") + 1
            )
    for chunk in bulk.chunks(sorted(pk for pk in intervals if pk not in unrecorded), CHUNK):
        bulk_update_with_history(
            list(Outfall.objects.filter(id__in=chunk)),
            Outfall,
            [],
            batch_size=CHUNK,
            default_user=user,
            default_change_reason=AUTO_FILL_REASON,
            default_date=now,
        )


# Findings as plain rows through core.bulk: model instances and the ORM's per-value preparation cost about
# four times the statement itself at 100,000 outfalls (benchmarks/spatial.py). JSON and timestamps go through
# the fields' own get_db_prep_save there, so they are stored exactly as the ORM would store them.
FINDING_COLUMNS = (
    "outfall",
    "kind",
    "severity",
    "message",
    "data",
    "protected_area",
    "other_outfall",
    "filled",
    "digest",
    "checked_at",
)


def _finding_rows(computation, found, checked_at):
    """The FINDING_COLUMNS values of rows of computation.found, messages and data built here."""
    severity = {kind: str(value) for kind, value in SEVERITY.items()}
    for row in found:
        message, data = computation.build(row)
        yield (
            row[0],
            row[1],
            severity[row[1]],
            message[:300],
            data,
            row[2],
            row[3],
            row[6],
            row[5],
            checked_at,
        )


def _stored_findings(ids):
    """({digest: finding id}, [further ids]) of the findings a check of ids (None: every outfall) replaces:
    those of the outfalls, and the duplicate findings naming one of them. Further ids: rows whose digest
    was already seen (none unless two checks wrote at once) and rows stored before digests (None)."""
    rows = SpatialFinding.objects.order_by().values_list("digest", "id")
    if ids is None:
        found = _rows(rows)
    else:
        found = []
        for chunk in bulk.chunks(ids, CHUNK):
            # Two statements, not one with OR: SQLite planned the OR as a walk of the table.
            found += _rows(rows.filter(outfall_id__in=chunk))
            found += _rows(rows.filter(other_outfall_id__in=chunk, kind=FindingKind.DUPLICATE))
    stored = dict(found)
    if len(stored) == len(found) and None not in stored:
        return stored, []
    kept, further = {}, []
    for digest, pk in found:
        if digest is None or kept.setdefault(digest, pk) != pk:  # (a row read twice, through two chunks,
            further.append(pk)  # is kept once)
    return kept, further


def _store_findings(computation):
    """Delete the stored findings that are no longer found as they are, insert those not stored as they are.

    A finding's digest covers its outfall, kind, other outfall or area and everything its message and data
    are built from, so a stored row with the same digest is the same finding, left alone; a changed one is
    deleted and inserted again."""
    timings = computation.timings
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[f"write: {name}"] = now - clock
        clock = now

    stored, stale = _stored_findings(computation.target_ids)
    stored_count = len(stored) + len(stale)
    lap("read stored findings")
    inserts = []
    for row in computation.found:
        if stored.pop(row[5], None) is None:
            inserts.append(row)
    stale += stored.values()
    lap("compare")

    connection = connections[SpatialFinding.objects.db]
    quote = connection.ops.quote_name
    table = quote(SpatialFinding._meta.db_table)
    checked_at = timezone.now()
    everything = computation.target_ids is None and len(inserts) == len(computation.found)
    with contextlib.ExitStack() as stack:
        if everything and len(inserts) >= REBUILD_INDEXES_FROM:
            stack.enter_context(bulk.indexes_set_aside(SpatialFinding, foreign_keys=True))
        with connection.cursor() as cursor:
            if everything:
                # Nothing kept (a first check, or one after this module changed): every row goes, in one
                # statement (on SQLite, without visiting the rows).
                cursor.execute(f"DELETE FROM {table}")
                stale = ()
            for chunk in bulk.chunks(stale, CHUNK):
                cursor.execute(
                    f"DELETE FROM {table} WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})", chunk
                )
        lap("delete")
        # COPY on PostgreSQL (psycopg's INSERTs spent most of their time quoting parameters), executemany on
        # SQLite.
        bulk.insert_rows(SpatialFinding, FINDING_COLUMNS, _finding_rows(computation, inserts, checked_at))
        lap("insert")
    lap("indexes")
    kept = len(computation.found) - len(inserts)
    return {"inserted": len(inserts), "deleted": stored_count - kept, "kept": kept}


@bulk.gc_paused()
def check_outfalls(outfalls=None, *, user=None, unrecorded=()):
    """Check outfalls (None: every outfall; a queryset; or ids/instances) and store the findings (unrecorded:
    see write())."""
    start = time.perf_counter()
    computation = compute(outfalls)
    if computation.checked:
        write(computation, user=user, unrecorded=unrecorded)
    return CheckReport(
        checked=computation.checked,
        counts=computation.counts(),
        filled=dict(computation.intervals),
        timings=computation.timings,
        seconds=time.perf_counter() - start,
        written=computation.written,
    )


def check_outfall(outfall, *, user=None):
    """Check one saved outfall (services.save_outfall calls this); the instance gets any filled interval."""
    report = check_outfalls([outfall.pk], user=user)
    if outfall.pk in report.filled:
        outfall.section_interval = report.filled[outfall.pk]
    return report


# A point that is not (yet) an outfall -------------------------------------------------------------------
POINT_ID = -1  # stands for the point among outfall ids (which are positive)


def check_point(lon, lat, *, exclude_outfall_id=None):
    """The protected-area and duplicate checks for a point that is no ledger row (an application's proposed
    position), with the same geometry, areas and SPATIAL_DUPLICATE_M as the ledger's checks. Returns
    [(kind, message, data)]: protected areas containing the point, and outfalls within the duplicate distance
    (data["other_id"]; the message names none of them, as the reader may not see them). exclude_outfall_id: an
    outfall the point belongs to (a change of that outfall's own position)."""
    targets = Targets.from_rows([(POINT_ID, float(lon), float(lat), 0, 0, "")])
    computation = Computation(target_ids=[POINT_ID], checked=1)
    frame = LocalFrame(float(lat))
    points = shapely.points(targets.lon, targets.lat)
    _check_areas(computation, targets, points, _load_areas(targets.lon, targets.lat, False))
    _check_duplicates(computation, targets, _load_pool(targets, False, frame, duplicate_m()), frame)
    return [
        (kind, message, data)
        for outfall_id, kind, message, data, _, other in computation.findings
        if outfall_id == POINT_ID and (other is None or other != exclude_outfall_id)
    ]


def _river_line(water):
    geom = _geometry(water.geometry) if water is not None and water.geometry else None
    if geom is None or geom.geom_type not in ("LineString", "MultiLineString"):
        return None
    try:
        return RiverLine(geom)
    except ValueError:
        return None


def zones_at(lon, lat, water_body=None):
    """The water-function zones (WaterFunctionZone) a point lies in, most specific first: stretches of its
    receiving water whose chainage range holds the point's chainage along that river (the point is projected
    onto the river line, as sections are), then polygons containing the point."""
    found = []
    if water_body is not None:
        stretches = list(
            WaterFunctionZone.objects.filter(
                water_body=water_body, start_km__isnull=False, geometry__isnull=True
            )
        )
        river = _river_line(water_body) if stretches else None
        if river is not None:
            km = river.chainage(lon, lat)
            found += [z for z in stretches if z.start_km <= km <= z.end_km]
    polygons = WaterFunctionZone.objects.filter(
        geometry__isnull=False, min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
    )
    for zone in polygons.order_by("name"):
        geom = _geometry(zone.geometry)
        if geom is not None and shapely.contains_xy(geom, lon, lat):
            found.append(zone)
    return found


def water_works_near(lon, lat, metres):
    """[(WaterWorks, distance in metres)] within `metres` of the point, nearest first."""
    dlon, dlat = shapes.degrees_around(lat, metres)
    candidates = WaterWorks.objects.filter(
        min_lon__lte=lon + dlon, max_lon__gte=lon - dlon, min_lat__lte=lat + dlat, max_lat__gte=lat - dlat
    )
    frame = LocalFrame(float(lat))
    point = frame.points([lon], [lat])[0]
    near = []
    for works in candidates.select_related("water_body"):
        geom = _geometry(works.geometry)
        if geom is None:
            continue
        distance = float(shapely.distance(frame.geometry(geom), point))
        if distance <= metres:
            near.append((works, distance))
    return sorted(near, key=lambda pair: (pair[1], pair[0].name))
