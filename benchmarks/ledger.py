"""The ledger list page and the API outfall list with 100,000 outfalls, against one raw SQL query.

For each scenario (unfiltered, a county user's scope, a filter, a search, a sort, a deep page) and each
endpoint (/ledger/outfalls/ and /api/v1/outfalls/) it reports p50 and p95 of the whole request through
Django's test client, the queries per request, and the p50 of a hand-written SQL statement returning the
same page's rows (same columns, JOINs, WHERE, ORDER BY, LIMIT/OFFSET), alone and followed by the
COUNT(*) the page also needs. The goal (issue): a page within 3x of the raw query.

Settings (environment): BENCH_OUTFALLS (100000), BENCH_REPEAT (30), BENCH_WARMUP (3), BENCH_SCENARIOS,
BENCH_DATABASE_URL (default sqlite:///var/bench.sqlite3), BENCH_PROFILE=1 to cProfile the slowest case.
The database is built once (demo data + generated outfalls) and reused by later runs (delete
var/bench.sqlite3 to rebuild it, e.g. after the demo data changed); each run migrates it and runs ANALYZE.
"""

import io
import os
import random
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client

from outfalls.core.choices import JurisdictionLevel, Role
from outfalls.core.models import Jurisdiction, Membership
from outfalls.core.scopes import scope_of
from outfalls.registry import coding, naming, search
from outfalls.registry.choices import (
    Conveyance,
    EntryMode,
    LifecycleStatus,
    LinkRole,
    OutletPosition,
    RectificationMeasure,
    RectificationStatus,
    ResponsibilityBasis,
    UnitKind,
)
from outfalls.registry.classification import TypeCode, level2_for, level3_for
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody

from .common import (
    capture_queries,
    env_int,
    environment,
    format_table,
    log,
    migrate,
    ms,
    profile_calls,
    time_calls,
    write_json,
)

GOAL_RATIO = 3.0
BATCH = 5_000
SEED = 42
LEDGER_URL = "/ledger/outfalls/"
API_URL = "/api/v1/outfalls/"
# Searches (issue 17: one-, two- and three-character Chinese terms and longer, an ASCII code fragment, a term
# found nowhere, one within a county officer's scope): (scenario key, term, user).
SEARCHES = [
    ("search1", "焦", "bureau"),  # about 3,000 outfalls
    ("search1w", "区", "bureau"),  # nearly half the ledger
    ("search2", "化工", "bureau"),
    ("search2n", "没有", "bureau"),  # no outfall
    ("search3", "化工厂", "bureau"),
    ("search4", "御河东路", "bureau"),
    ("code", "RK00012", "bureau"),
    ("search2s", "化工", "pingcheng"),
]
FILTER_COUNTY = "140215"  # 云州区
FILTER_TYPE = TypeCode.GY
FILTER_STATUS = LifecycleStatus.RECTIFYING
DEEP_PAGE = 1000
# Generated timestamps lie in the three years before this fixed moment (deterministic data).
DATA_EPOCH = datetime(2025, 11, 1, tzinfo=UTC)


# Test data -------------------------------------------------------------------------------------------
@contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the created_at/updated_at we set (auto_now/auto_now_add would overwrite them)."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


FALLBACK_COUNTIES = [
    ("140212", "新荣区", JurisdictionLevel.COUNTY),
    ("140213", "平城区", JurisdictionLevel.COUNTY),
    ("140214", "云冈区", JurisdictionLevel.COUNTY),
    ("140215", "云州区", JurisdictionLevel.COUNTY),
    ("140221", "阳高县", JurisdictionLevel.COUNTY),
    ("140222", "天镇县", JurisdictionLevel.COUNTY),
    ("140223", "广灵县", JurisdictionLevel.COUNTY),
    ("140224", "灵丘县", JurisdictionLevel.COUNTY),
    ("140225", "浑源县", JurisdictionLevel.COUNTY),
    ("140226", "左云县", JurisdictionLevel.COUNTY),
    ("140271", "大同经济技术开发区", JurisdictionLevel.ZONE),
]
FALLBACK_TOWNS = ["城关镇", "东关街道", "西关街道", "南郊镇", "北坪乡", "河湾乡", "峰峪乡", "古城镇"]
FALLBACK_VILLAGES = ["东村", "西村", "南堡", "北堡", "河口村", "新庄村"]
FALLBACK_WATERS = [
    "桑干河",
    "御河",
    "十里河",
    "口泉河",
    "南洋河",
    "壶流河",
    "唐河",
    "浑河",
    "淤泥河",
    "饮马河",
]


def create_fallback_reference_data():
    """Jurisdictions, receiving waters and the two benchmark users, for when the demo loader is missing."""
    city, _ = Jurisdiction.objects.get_or_create(
        code=settings.CITY_CODE, defaults={"name": "大同市", "level": JurisdictionLevel.CITY}
    )
    for code, name, level in FALLBACK_COUNTIES:
        county, _ = Jurisdiction.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent": city}
        )
        for i, town_name in enumerate(FALLBACK_TOWNS[:4], start=1):
            town, _ = Jurisdiction.objects.get_or_create(
                code=f"{code}{i:03d}",
                defaults={"name": town_name, "level": JurisdictionLevel.TOWN, "parent": county},
            )
            for j, village_name in enumerate(FALLBACK_VILLAGES[:3], start=1):
                Jurisdiction.objects.get_or_create(
                    code=f"{town.code}{j:03d}",
                    defaults={"name": village_name, "level": JurisdictionLevel.VILLAGE, "parent": town},
                )
    for i, name in enumerate(FALLBACK_WATERS, start=1):
        WaterBody.objects.get_or_create(code=f"HE1402{i:04d}", defaults={"name": name})
    User = get_user_model()
    bureau, created = User.objects.get_or_create(username="bureau")
    if created:
        Membership.objects.create(user=bureau, role=Role.BUREAU)
    pingcheng, created = User.objects.get_or_create(username="pingcheng")
    if created:
        Membership.objects.create(
            user=pingcheng, role=Role.COUNTY, jurisdiction=Jurisdiction.objects.get(code="140213")
        )


def ensure_reference_data(out):
    """The demo data (load_demo) when it is not loaded yet; a minimal fallback if demo.py is missing."""
    if get_user_model().objects.filter(username="bureau").exists():
        return
    try:
        from outfalls.registry.demo import load_demo
    except ImportError:
        log("outfalls/registry/demo.py not found: creating minimal reference data instead of the demo.", out)
        log("(delete the benchmark database to rebuild it with the demo data later)", out)
        create_fallback_reference_data()
        return
    log("Loading the demo data (load_demo) ...", out)
    start = time.perf_counter()
    buffer = io.StringIO()
    try:
        load_demo(stdout=buffer)
    except Exception:
        log(buffer.getvalue(), out)
        raise
    log(f"  demo loaded in {time.perf_counter() - start:.1f} s", out)


UNIT_WORDS = "华鑫宏泰恒昌兴隆瑞丰永安金鼎德盛晋同云冈塞北御河文瀛恒通汇源长城新荣东方明珠正大天成嘉禾"
INDUSTRIES = [
    "化工",
    "煤业",
    "焦化",
    "热电",
    "建材",
    "食品",
    "制药",
    "机械",
    "冶金",
    "酿造",
    "纺织",
    "水务",
    "养殖",
]
UNIT_SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "厂"]
UNIT_KINDS_BY_INDUSTRY = {
    "煤业": UnitKind.MINE,
    "水务": UnitKind.MUNICIPAL_WWTP,
    "养殖": UnitKind.LIVESTOCK,
}
LANDMARKS = [
    "御河东路",
    "魏都大道",
    "文兴路",
    "迎宾街",
    "北都街",
    "永泰南路",
    "兴云桥",
    "南环路",
    "开源街",
    "同泉路",
    "御东桥",
    "十里河桥",
    "北关村口",
    "工业园区北侧",
    "东沟",
    "西干渠",
]
TYPE_WEIGHTS = {
    TypeCode.GY: 15,
    TypeCode.SH: 3,
    TypeCode.NY: 12,
    TypeCode.YH: 25,
    TypeCode.QT: 35,
    TypeCode.UNDETERMINED: 10,
}
ENTITY_SHARE = {TypeCode.GY: 0.9, TypeCode.SH: 0.95, TypeCode.NY: 0.7, TypeCode.YH: 0.1, TypeCode.QT: 0.3}
STATUS_WEIGHTS = {
    LifecycleStatus.SUSPECTED: 10,
    LifecycleStatus.VERIFIED: 22,
    LifecycleStatus.TRACED: 10,
    LifecycleStatus.CLASSIFIED: 15,
    LifecycleStatus.RECTIFYING: 15,
    LifecycleStatus.KEPT: 18,
    LifecycleStatus.MERGED: 3,
    LifecycleStatus.REMOVED: 4,
    LifecycleStatus.CLOSED: 3,
}
RECTIFICATION = {
    LifecycleStatus.RECTIFYING: (RectificationMeasure.REGULARISE, RectificationStatus.IN_PROGRESS),
    LifecycleStatus.KEPT: (RectificationMeasure.NONE, RectificationStatus.NOT_NEEDED),
    LifecycleStatus.MERGED: (RectificationMeasure.MERGE, RectificationStatus.COMPLETED),
    LifecycleStatus.REMOVED: (RectificationMeasure.REMOVE, RectificationStatus.COMPLETED),
    LifecycleStatus.CLOSED: (RectificationMeasure.REMOVE, RectificationStatus.COMPLETED),
}


# Choices' .values builds a new list on every access: read once (a third of the generator's time otherwise).
ENTRY_MODES, OUTLET_POSITIONS, CONVEYANCES = EntryMode.values, OutletPosition.values, Conveyance.values


def weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Generator:
    """Deterministic (seeded) outfalls spread over the counties, towns, villages and receiving waters."""

    def __init__(self, rng):
        self.rng = rng
        self.counties = list(
            Jurisdiction.objects.counties()
            .select_related("parent")
            .defer("boundary", "parent__boundary")
            .order_by("code")
        )
        if not self.counties:
            raise RuntimeError("no county-level jurisdictions: load the demo data first")
        places = Jurisdiction.objects.filter(level__in=[JurisdictionLevel.TOWN, JurisdictionLevel.VILLAGE])
        self.towns, self.villages = {}, {}
        for j in places.defer("boundary").order_by("code"):
            if j.level == JurisdictionLevel.TOWN:
                self.towns.setdefault(j.county_id, []).append(j)
            else:
                self.villages.setdefault(j.parent_id, []).append(j)
        self.waters = list(WaterBody.objects.defer("geometry").order_by("code"))
        if not self.waters:
            raise RuntimeError("no receiving waters: load the demo data first")
        self.county_weights = [rng.uniform(0.5, 2.0) for _ in self.counties]
        # Each county drains to a few waters; those the demo already uses there come first.
        pairs = set(Outfall.objects.values_list("county_id", "water_body_id").distinct())
        by_id = {w.pk: w for w in self.waters}
        self.county_waters, self.centres = {}, {}
        for county in self.counties:
            own = [by_id[w] for c, w in sorted(pairs) if c == county.pk and w in by_id]
            extra = rng.sample(self.waters, k=min(len(self.waters), rng.randint(3, 6)))
            self.county_waters[county.pk] = own + [w for w in extra if w not in own]
            points = list(
                Outfall.objects.filter(county=county).order_by("pk").values_list("lon", "lat")[:200]
            )
            if points:
                self.centres[county.pk] = (
                    sum(p[0] for p in points) / len(points),
                    sum(p[1] for p in points) / len(points),
                )
            else:
                self.centres[county.pk] = (rng.uniform(112.8, 114.3), rng.uniform(39.3, 40.5))
        self.codes = set(Outfall.objects.values_list("code", flat=True))
        self.national_codes = set(
            Outfall.objects.exclude(national_code=None).values_list("national_code", flat=True)
        )
        self.next_seq = {}
        self.national_seq = 0
        self.units = {}  # county id -> [(id, name)]
        for pk, name, county_id in DischargeUnit.objects.order_by("pk").values_list(
            "pk", "name", "county_id"
        ):
            self.units.setdefault(county_id, []).append((pk, name))

    # Units ---------------------------------------------------------------------------------------------
    def create_units(self, count):
        units = self.make_units(count)
        with explicit_timestamps(DischargeUnit), transaction.atomic():
            DischargeUnit.objects.bulk_create(units, batch_size=BATCH)
        self.add_units(units)

    def add_units(self, units):
        """Make saved units available as responsible entities of later outfalls."""
        for unit in units:
            self.units.setdefault(unit.county_id, []).append((unit.pk, unit.name))

    def make_units(self, count):
        """count unsaved DischargeUnits around the counties' centres (weighted by county)."""
        rng, units = self.rng, []
        for _ in range(count):
            county = rng.choices(self.counties, weights=self.county_weights)[0]
            towns = self.towns.get(county.pk, [])
            industry = rng.choice(INDUSTRIES)
            created = DATA_EPOCH - timedelta(days=rng.uniform(400, 3000))
            lon, lat = self.centres[county.pk]
            units.append(
                DischargeUnit(
                    name=f"大同{rng.choice(UNIT_WORDS)}{rng.choice(UNIT_WORDS)}{industry}{rng.choice(UNIT_SUFFIXES)}",
                    kind=UNIT_KINDS_BY_INDUSTRY.get(industry, UnitKind.INDUSTRIAL),
                    industry=industry,
                    county=county,
                    town=rng.choice(towns) if towns and rng.random() < 0.8 else None,
                    lon=round(lon + rng.gauss(0, 0.06), 6),
                    lat=round(lat + rng.gauss(0, 0.05), 6),
                    created_at=created,
                    updated_at=created + timedelta(days=rng.uniform(0, 300)),
                )
            )
        return units

    # Outfalls ------------------------------------------------------------------------------------------
    def code_for(self, water, county, town, village, type_code):
        prefix = coding.prefix_for(
            water_body=water, county=county, town=town, village=village, type_code=type_code
        )
        seq = self.next_seq.get(prefix, 0)
        while True:
            seq += 1
            code = coding.format_code(prefix, seq)  # ValueError once the sequence is full
            if code not in self.codes:
                break
        self.next_seq[prefix] = seq
        self.codes.add(code)
        return code

    def outfall(self, place=None):
        """An unsaved Outfall. place: (county, water body, lon, lat) to put it there; by default a county
        drawn by weight, one of its waters, and a point scattered around the county's centre."""
        rng = self.rng
        if place is None:
            county = rng.choices(self.counties, weights=self.county_weights)[0]
        else:
            county = place[0]
        towns = self.towns.get(county.pk, [])
        town = rng.choice(towns) if towns and rng.random() < 0.85 else None
        villages = self.villages.get(town.pk, []) if town else []
        village = rng.choice(villages) if villages and rng.random() < 0.4 else None
        type_code = weighted(rng, TYPE_WEIGHTS)
        level2 = level3 = ""
        if type_code != TypeCode.UNDETERMINED and rng.random() < 0.85:
            level2 = rng.choice(level2_for(type_code))
            options = level3_for(level2)
            if options and rng.random() < 0.7:
                level3 = rng.choice(options)
        status = weighted(rng, STATUS_WEIGHTS)
        measure, progress = RECTIFICATION.get(status, ("", RectificationStatus.NOT_STARTED))
        entity = None
        units = self.units.get(county.pk)
        if units and rng.random() < ENTITY_SHARE.get(type_code, 0.0):
            entity = rng.choice(units)
        if entity:
            landmark, basis, note = (
                entity[1],
                rng.choice([ResponsibilityBasis.TRACED, ResponsibilityBasis.DECLARED]),
                "",
            )
        else:
            landmark = (
                village.name + rng.choice(["东", "西", "南", "北"]) if village else rng.choice(LANDMARKS)
            )
            basis = ResponsibilityBasis.UNKNOWN
            note = ""
            if status in (LifecycleStatus.KEPT, LifecycleStatus.RECTIFYING) and rng.random() < 0.5:
                basis, note = ResponsibilityBasis.GOVERNMENT_FALLBACK, f"{county.name}人民政府"
        number = str(rng.randint(1, 9)) if rng.random() < 0.3 else ""
        for attempt in range(20):
            water = (
                place[1] if place is not None and attempt == 0 else rng.choice(self.county_waters[county.pk])
            )
            try:
                code = self.code_for(water, county, town, village, type_code)
                break
            except ValueError:  # that prefix's sequence is full: another receiving water
                continue
        else:
            raise RuntimeError(f"no free outfall code left in {county.name}")
        national_code = None
        if status not in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED) and rng.random() < 0.4:
            while national_code is None or national_code in self.national_codes:
                self.national_seq += 1
                national_code = f"{county.code}RK{self.national_seq:07d}"
            self.national_codes.add(national_code)
        registered = status in (LifecycleStatus.KEPT, LifecycleStatus.CLOSED) and rng.random() < 0.7
        created = DATA_EPOCH - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
        if place is None:
            lon, lat = self.centres[county.pk]
            lon, lat = round(lon + rng.gauss(0, 0.08), 6), round(lat + rng.gauss(0, 0.06), 6)
        else:
            lon, lat = place[2], place[3]
        return Outfall(
            code=code,
            national_code=national_code,
            name=naming.outfall_name(
                county=county,
                town=town,
                village=village,
                landmark=landmark,
                number=number,
                type_code=type_code,
                level2=level2,
                level3=level3,
            ),
            name_auto=True,
            landmark=landmark if not entity else "",
            number=number,
            type_code=type_code,
            type_level2=level2,
            type_level3=level3,
            county=county,
            town=town,
            village=village,
            lon=lon,
            lat=lat,
            water_body=water,
            entry_mode=rng.choice(ENTRY_MODES),
            outlet_position=rng.choice(OUTLET_POSITIONS),
            conveyance=rng.choice(CONVEYANCES) if entity else "",
            responsible_entity_id=entity[0] if entity else None,
            responsibility_basis=basis,
            responsibility_note=note,
            status=status,
            rectification_measure=measure,
            rectification_status=progress,
            registered=registered,
            approval_date=date(2023, 1, 1) + timedelta(days=rng.randint(0, 900)) if registered else None,
            sign_installed=registered or rng.random() < 0.2,
            created_at=created,
            updated_at=created + (DATA_EPOCH - created) * rng.random(),
        )

    def links_for(self, outfalls):
        """An owner link for each outfall with a responsible entity; a few units share the outfall."""
        rng, links = self.rng, []
        for o in outfalls:
            if o.responsible_entity_id is None:
                continue
            links.append(
                OutfallUnitLink(outfall_id=o.pk, unit_id=o.responsible_entity_id, role=LinkRole.OWNER)
            )
            if rng.random() < 0.08:
                other = rng.choice(self.units[o.county_id])[0]
                if other != o.responsible_entity_id:
                    links.append(OutfallUnitLink(outfall_id=o.pk, unit_id=other, role=LinkRole.SHARES))
        return links


def ensure_outfalls(target, out):
    """Top the benchmark database up to `target` outfalls (bulk_create in batches; deterministic)."""
    existing = Outfall.objects.count()
    if existing >= target:
        log(f"Benchmark database holds {existing:,} outfalls (target {target:,}): reusing it.", out)
        return False
    missing = target - existing
    log(f"Generating {missing:,} outfalls ({existing:,} present) ...", out)
    start = time.perf_counter()
    generator = Generator(random.Random(SEED))
    generator.create_units(max(50, missing // 20))
    log(f"  {DischargeUnit.objects.count():,} discharge units", out)
    done = 0
    with explicit_timestamps(Outfall):
        while done < missing:
            size = min(BATCH, missing - done)
            batch = [generator.outfall() for _ in range(size)]
            with transaction.atomic():
                Outfall.objects.bulk_create(batch, batch_size=BATCH)
                OutfallUnitLink.objects.bulk_create(generator.links_for(batch), batch_size=BATCH)
            done += size
            log(f"  {existing + done:>9,} / {target:,} outfalls  ({time.perf_counter() - start:5.1f} s)", out)
    log(f"  done in {time.perf_counter() - start:.1f} s", out)
    return True


def analyze(out):
    """Fresh planner statistics (and on PostgreSQL a vacuumed table), as autovacuum keeps them.

    Run every time: a migration that rebuilds a SQLite table drops its statistics, and without them
    SQLite plans the unfiltered page as a sort of every row (about 300 ms; the deep page takes seconds).
    On PostgreSQL, VACUUM also sets the visibility map that index-only scans (e.g. for COUNT) rely on.
    """
    statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement)
    log(f"{statement}: {time.perf_counter() - start:.1f} s", out)


# Scenarios -------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    key: str
    label: str
    username: str
    params: dict = field(default_factory=dict)


def scenarios():
    """Every scenario, or those BENCH_SCENARIOS names (comma-separated keys, e.g. "search1,search2")."""
    wanted = [key.strip() for key in os.environ.get("BENCH_SCENARIOS", "").split(",") if key.strip()]
    return [s for s in _scenarios() if not wanted or s.key in wanted]


def _scenarios():
    return [
        Scenario("unfiltered", "unfiltered (bureau)", "bureau"),
        Scenario("scoped", "unfiltered, county user (pingcheng)", "pingcheng"),
        Scenario(
            "filtered",
            f"county={FILTER_COUNTY}&type_code={FILTER_TYPE}&status={FILTER_STATUS}",
            "bureau",
            {"county": FILTER_COUNTY, "type_code": str(FILTER_TYPE), "status": str(FILTER_STATUS)},
        ),
        *(Scenario(key, f"search q={term} ({user})", user, {"q": term}) for key, term, user in SEARCHES),
        Scenario("sorted", "ordering=-updated_at", "bureau", {"ordering": "-updated_at"}),
        Scenario("deep", f"page={DEEP_PAGE} (unfiltered)", "bureau", {"page": str(DEEP_PAGE)}),
    ]


# The raw baseline ------------------------------------------------------------------------------------
# Our aliases for the list query's JOINs, by the outfall's foreign key.
JOIN_ALIASES = {"county": "c", "town": "t", "village": "v", "water_body": "w", "responsible_entity": "r"}


def list_columns():
    """The columns the list's queryset (Outfall.objects.for_list()) selects, as "alias.column" strings.

    Taken from the queryset so the baseline keeps selecting the same columns when the list is slimmed
    down (only()/defer()); FROM, JOINs, WHERE and ORDER BY below are written by hand.
    """
    queryset = Outfall.objects.for_list()
    compiler = queryset.query.get_compiler(connection=connection)
    compiler.setup_query()
    quote = connection.ops.quote_name
    aliases = {Outfall._meta.db_table: "o"}
    for orm_alias, join in queryset.query.alias_map.items():
        join_field = getattr(join, "join_field", None)
        if join_field is None:
            continue
        if join.parent_alias != Outfall._meta.db_table or join_field.name not in JOIN_ALIASES:
            raise RuntimeError(
                f"for_list() now joins {join_field}: extend the raw baseline in benchmarks/ledger.py"
            )
        aliases[orm_alias] = JOIN_ALIASES[join_field.name]
    columns = []
    for expression, _sql, _alias in compiler.select:
        if not hasattr(expression, "target") or expression.alias not in aliases:
            raise RuntimeError(
                f"for_list() selects {expression}: extend the raw baseline in benchmarks/ledger.py"
            )
        columns.append(f"{aliases[expression.alias]}.{quote(expression.target.column)}")
    return columns


def _icontains(column):
    """The same case-insensitive containment test Django's icontains uses on this database."""
    if connection.vendor == "postgresql":
        return f"UPPER({column}::text) LIKE UPPER(%s)"
    return f"{column} LIKE %s ESCAPE '\\'"


def _like_pattern(value):
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scope_where(user, alias="o"):
    """The user's scope over the outfall table as hand-written SQL: ([conditions], [params])."""
    scope = scope_of(user)
    if scope.citywide:
        return [], []
    if {g.role for g in scope.grants} != {Role.COUNTY}:
        raise NotImplementedError("raw baseline: only citywide and county scopes are written out")
    county_ids = sorted(scope.county_ids)
    if len(county_ids) == 1:
        return [f"{alias}.county_id = %s"], county_ids
    placeholders = ", ".join(["%s"] * len(county_ids))
    return [f"{alias}.county_id IN ({placeholders})"], county_ids


def raw_statements(scenario, user, page, page_size):
    """Hand-written SQL for the page's rows and for its COUNT(*): (page_sql, page_params, count_sql, count_params).

    The page statement selects the columns the list's select_related() selects (list_columns()) with
    the same JOINs: the outfall, its county, town, village, receiving water and responsible entity.
    """
    q = connection.ops.quote_name
    outfall, jurisdiction = q(Outfall._meta.db_table), q(Jurisdiction._meta.db_table)
    water, unit = q(WaterBody._meta.db_table), q(DischargeUnit._meta.db_table)
    link = q(OutfallUnitLink._meta.db_table)
    joins = {
        "c": f"INNER JOIN {jurisdiction} c ON c.id = o.county_id",
        "t": f"LEFT OUTER JOIN {jurisdiction} t ON t.id = o.town_id",
        "v": f"LEFT OUTER JOIN {jurisdiction} v ON v.id = o.village_id",
        "w": f"INNER JOIN {water} w ON w.id = o.water_body_id",
        "r": f"LEFT OUTER JOIN {unit} r ON r.id = o.responsible_entity_id",
    }
    where, params = scope_where(user)
    count_joins = []
    p = scenario.params
    if "county" in p:
        where.append("c.code = %s")
        params.append(p["county"])
        count_joins.append("c")
    for name in ("type_code", "status"):
        if name in p:
            where.append(f"o.{name} = %s")
            params.append(p[name])
    if "q" in p:
        pattern = _like_pattern(p["q"])
        where.append(
            "("
            + " OR ".join(
                [
                    _icontains("o.name"),
                    _icontains("o.code"),
                    _icontains("o.national_code"),
                    _icontains("r.name"),
                    f"EXISTS (SELECT 1 FROM {link} l INNER JOIN {unit} u ON u.id = l.unit_id "
                    f"WHERE l.outfall_id = o.id AND {_icontains('u.name')})",
                ]
            )
            + ")"
        )
        params.extend([pattern] * 5)
        count_joins.append("r")
    order = p.get("ordering", "code")
    order_by = f"o.{order[1:]} DESC" if order.startswith("-") else f"o.{order} ASC"
    where_sql = f" WHERE {' AND '.join(where)}" if where else ""

    columns = list_columns()
    used = {column.split(".", 1)[0] for column in columns} | set(count_joins)
    page_joins = " ".join(sql for alias, sql in joins.items() if alias in used)
    page_sql = f"SELECT {', '.join(columns)} FROM {outfall} o {page_joins}{where_sql} ORDER BY {order_by} LIMIT %s OFFSET %s"
    count_sql = f"SELECT COUNT(*) FROM {outfall} o {' '.join(joins[a] for a in count_joins)}{where_sql}"
    return page_sql, [*params, page_size, (page - 1) * page_size], count_sql, list(params)


def run_sql(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Measuring -------------------------------------------------------------------------------------------
ID_IN_HTML = re.compile(r'href="/ledger/outfalls/(\d+)/"')
# 共 N: an exact count; 约 N: an estimate (a search many outfalls match, registry/search.py).
COUNT_IN_HTML = re.compile(r'data-testid="result-count">(共|约) <strong>([\d,]+)</strong>')


def page_rows(endpoint, response):
    """(ids in page order, total count, whether the count is an estimate) as the page shows them."""
    if endpoint == "api":
        data = response.json()
        return [row["id"] for row in data["results"]], data["count"], data.get("count_estimated", False)
    html = response.content.decode()
    ids = list(dict.fromkeys(int(i) for i in ID_IN_HTML.findall(html)))
    match = COUNT_IN_HTML.search(html)
    if not match:
        return ids, None, False
    return ids, int(match.group(2).replace(",", "")), match.group(1) == "约"


def fast_matches_plain(user, term):
    """Whether the indexed search finds exactly the outfalls the plain icontains definition finds, in the
    user's scope (all of them, not one page): (same, how many)."""
    visible = Outfall.objects.visible_to(user)
    fast = set(visible.search(term).values_list("id", flat=True))
    plain = set(visible.filter(search.plain_q(term.strip())).values_list("id", flat=True))
    return fast == plain, len(plain)


def measure(scenario, endpoint, client, user, repeat, warmup):
    url = LEDGER_URL if endpoint == "ledger" else API_URL
    page_size = settings.LEDGER_PAGE_SIZE if endpoint == "ledger" else settings.REST_FRAMEWORK["PAGE_SIZE"]
    params = dict(scenario.params)

    def request():
        response = client.get(url, params)
        if response.status_code != 200:
            raise RuntimeError(f"{url}?{params}: HTTP {response.status_code}")
        return response

    response, queries = capture_queries(request)
    ids, count, estimated = page_rows(endpoint, response)
    page = int(params.get("page", 1))
    page_sql, page_params, count_sql, count_params = raw_statements(scenario, user, page, page_size)
    raw_rows = run_sql(page_sql, page_params)
    raw_count = run_sql(count_sql, count_params)[0][0]
    mismatch = []
    if [row[0] for row in raw_rows] != ids:
        mismatch.append("rows")
    if raw_count != count and not estimated:
        mismatch.append(f"count {count} vs raw {raw_count}")
    if "q" in params:
        same, _ = fast_matches_plain(user, params["q"])
        if not same:
            mismatch.append("indexed search != plain icontains")

    timing = time_calls(request, repeat=repeat, warmup=warmup, track_db=True)
    raw = time_calls(lambda: run_sql(page_sql, page_params), repeat=repeat, warmup=warmup)

    def raw_with_count():
        run_sql(count_sql, count_params)
        run_sql(page_sql, page_params)

    raw_both = time_calls(raw_with_count, repeat=repeat, warmup=warmup)
    sql_seconds = sum(float(q["time"]) for q in queries)
    slowest = max(queries, key=lambda q: float(q["time"])) if queries else None
    return {
        "scenario": scenario.key,
        "label": scenario.label,
        "endpoint": endpoint,
        "url": url,
        "params": params,
        "user": scenario.username,
        "rows_total": count,
        "count_estimated": estimated,
        "exact_count": raw_count,
        "rows_on_page": len(ids),
        "page": timing.summary_ms(),
        "queries": len(queries),
        "sql_ms_one_request": round(ms(sql_seconds), 3),
        "sql_p50_ms": round(ms(timing.db_p50), 3),
        "slowest_query": {"sql": slowest["sql"], "ms": round(ms(float(slowest["time"])), 3)}
        if slowest
        else None,
        "raw_page": raw.summary_ms(),
        "raw_page_and_count": raw_both.summary_ms(),
        "ratio_raw": round(timing.p50 / raw.p50, 2),
        "ratio_raw_and_count": round(timing.p50 / raw_both.p50, 2),
        "within_goal": timing.p50 / raw.p50 <= GOAL_RATIO,
        # The database part of the page against the same page's raw statements (rows + count).
        "ratio_sql_to_raw_and_count": round(timing.db_p50 / raw_both.p50, 2),
        "sql_within_goal": timing.db_p50 / raw_both.p50 <= GOAL_RATIO,
        "raw_matches_page": not mismatch,
        "mismatch": mismatch,
        "raw_sql": {"page": page_sql, "count": count_sql},
        "_request": request,
    }


def report_table(results):
    headers = [
        "scenario",
        "endpoint",
        "rows",
        "p50 ms",
        "p95 ms",
        "queries",
        "SQL ms",
        "other ms",
        "raw ms",
        "raw+count ms",
        "x raw",
        "x raw+count",
        "goal",
        "SQL x raw+count",
        "SQL goal",
    ]
    rows = []
    for r in results:
        rows.append(
            [
                r["scenario"],
                r["endpoint"],
                ("~" if r["count_estimated"] else "") + f"{r['rows_total']:,}"
                if r["rows_total"] is not None
                else "?",
                f"{r['page']['p50_ms']:.1f}",
                f"{r['page']['p95_ms']:.1f}",
                r["queries"],
                f"{r['sql_p50_ms']:.1f}",
                f"{r['page']['p50_ms'] - r['sql_p50_ms']:.1f}",
                f"{r['raw_page']['p50_ms']:.2f}",
                f"{r['raw_page_and_count']['p50_ms']:.2f}",
                f"{r['ratio_raw']:.1f}",
                f"{r['ratio_raw_and_count']:.1f}",
                ("ok" if r["within_goal"] else "MISS") + ("" if r["raw_matches_page"] else " (raw!=page)"),
                f"{r['ratio_sql_to_raw_and_count']:.1f}",
                "ok" if r["sql_within_goal"] else "MISS",
            ]
        )
    return format_table(headers, rows)


def prepare_ledger(out):
    """The shared start of the ledger-sized benchmarks: migrate, top up to BENCH_OUTFALLS outfalls, refresh
    statistics. Returns (repeat, warmup, environment, outfall count)."""
    migrate()
    ensure_reference_data(out)
    ensure_outfalls(env_int("BENCH_OUTFALLS", 100_000), out)
    analyze(out)
    return env_int("BENCH_REPEAT", 30), env_int("BENCH_WARMUP", 3), environment(), Outfall.objects.count()


def logged_in(usernames):
    """A test client logged in per user: ({username: client}, {username: user})."""
    User = get_user_model()
    users = {name: User.objects.get(username=name) for name in dict.fromkeys(usernames)}
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return clients, users


def run(out=None):
    out = out or sys.stdout
    repeat, warmup, measured_on, total = prepare_ledger(out)
    clients, users = logged_in(s.username for s in scenarios())

    deep_page = min(DEEP_PAGE, max(1, total // settings.LEDGER_PAGE_SIZE))
    log(f"\nLedger benchmark: {total:,} outfalls on {connection.vendor}, {repeat} timed requests each\n", out)
    results = []
    started = time.perf_counter()
    for scenario in scenarios():
        if scenario.key == "deep" and deep_page != DEEP_PAGE:
            scenario.params["page"] = str(deep_page)
        for endpoint in ("ledger", "api"):
            user = users[scenario.username]
            result = measure(scenario, endpoint, clients[scenario.username], user, repeat, warmup)
            results.append(result)
            log(
                f"  {scenario.key:<10} {endpoint:<6} p50 {result['page']['p50_ms']:8.1f} ms"
                f"  raw {result['raw_page']['p50_ms']:7.2f} ms  x{result['ratio_raw']:.1f}",
                out,
            )
    log(f"  measured in {time.perf_counter() - started:.0f} s\n", out)
    log(report_table(results), out)
    log(
        "\np50/p95: whole request through the Django test client (session, auth, view, template/JSON).\n"
        "queries: SQL statements per request (CaptureQueriesContext). SQL ms: p50 of the time per request\n"
        "spent executing them; other ms = p50 - SQL ms (Python: middleware, ORM, forms, template/JSON).\n"
        "raw ms: p50 of one hand-written SELECT returning the same page rows (same columns, JOINs, WHERE,\n"
        "ORDER BY, LIMIT/OFFSET); raw+count ms adds the COUNT(*) the page needs. For a search the raw\n"
        "statement is the plain LIKE over the outfall's columns and unit names (the path without the index).\n"
        "rows ~N: the page shows an estimated count (约 N); the JSON keeps the exact count beside it.\n"
        "Every search is also checked whole: the indexed search finds exactly the plain path's outfalls.\n"
        f"x raw = page p50 / raw p50; goal: within {GOAL_RATIO:g}x of the raw query.\n"
        "SQL x raw+count = the page's own SQL time / the raw statements for the same page (rows + count).",
        out,
    )
    mismatched = [
        f"{r['scenario']}/{r['endpoint']}: {', '.join(r['mismatch'])}" for r in results if r["mismatch"]
    ]
    if mismatched:
        log("WARNING: the raw query does not return the page's rows for " + "; ".join(mismatched), out)
    estimates = [r for r in results if r["count_estimated"]]
    for r in estimates:
        error = (r["rows_total"] - r["exact_count"]) / r["exact_count"] if r["exact_count"] else 0
        log(
            f"{r['scenario']}/{r['endpoint']}: estimated count {r['rows_total']:,}, exact {r['exact_count']:,}"
            f" ({error:+.1%})",
            out,
        )

    profile_text = None
    if env_int("BENCH_PROFILE", 0):
        slowest = max(results, key=lambda r: r["page"]["p50_ms"])
        log(
            f"\ncProfile of the slowest case ({slowest['scenario']}/{slowest['endpoint']}), 10 requests:", out
        )
        profile_text = profile_calls(slowest["_request"], repeat=10)
        log(profile_text, out)

    for r in results:
        del r["_request"]
    path = write_json(
        "ledger",
        {
            "benchmark": "ledger",
            "environment": measured_on,
            "config": {
                "outfalls": total,
                "repeat": repeat,
                "warmup": warmup,
                "ledger_page_size": settings.LEDGER_PAGE_SIZE,
                "api_page_size": settings.REST_FRAMEWORK["PAGE_SIZE"],
                "goal_ratio": GOAL_RATIO,
            },
            "results": results,
            "profile": profile_text,
        },
    )
    log(f"\nWrote {path.relative_to(path.parent.parent)}", out)
    return results
