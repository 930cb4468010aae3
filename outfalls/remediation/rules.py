"""The 整治 rules engine: small named rules that propose a measure for outfalls, each with its reason.

A rule is a function over a prepared ``RuleContext`` (every outfall of the run's scope loaded once with its
unit links, units, receiving water, protected areas and sewer coverage areas: no per-outfall queries)
returning ``{outfall_id: (measure, reason)}``; the reason is Chinese and names the facts (the protected
area, the unit and its other outfalls, the coverage area, the village and its m³/day...). Rules register
themselves with ``@rule`` (a stable English name, a Chinese title, the source clause and the measure).

``evaluate(context)`` runs every rule and combines the hits per outfall: the strongest measure wins
(remove > merge > regularise) and every hit is kept. Outfalls no rule sends to remove or merge get the
fallback 规范整治 (regularise) hit. ``proposals.run_rules`` turns the result into MeasureProposal rows.

Which outfalls are considered: those verified and not yet finished (``ACTIVE_STATUSES``): suspected points
are verified first (排查), and outfalls already removed, merged or closed out are left alone. Kept (保留)
outfalls are included: a kept outfall found inside a protected area is exactly what this should catch.

See docs/remediation-rules.md for the choices made where the source document is not explicit.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from django.conf import settings

from outfalls.geo.index import GeometryIndex
from outfalls.registry.choices import (
    ACTIVE,
    Conveyance,
    LifecycleStatus,
    LinkRole,
    ProtectedAreaKind,
    RectificationMeasure,
    UnitKind,
    storm_measure_error,
)
from outfalls.registry.classification import LEVEL2_CODE, Level2, TypeCode
from outfalls.registry.models import restricted_basin_of

Measure = RectificationMeasure

# The lifecycle states the rules look at (see the module docstring): registry.choices.ACTIVE.
ACTIVE_STATUSES = ACTIVE

# Strength of a measure when several rules hit one outfall: the highest wins.
MEASURE_RANK = {Measure.NONE: 0, Measure.REGULARISE: 1, Measure.MERGE: 2, Measure.REMOVE: 3}

# Data, not logic (STANDARDS.md): overridable in settings.
# The restricted basins, the village threshold and the ecological-facility words (meaning an irrigation
# return passes a facility before the river, so it is not 直排) are settings: REMEDIATION_* in settings.py.

# A responsibility note holding only a placeholder (as hand-filled ledgers do) is no note.
DEFAULT_PLACEHOLDER_NOTES = ("无", "/", "-", "—", "暂无")
DEFAULT_PLACEHOLDER_WORDS = ("待明确", "待定", "待核实", "待确定", "不详", "未明确")

ENTERPRISE_KINDS = (UnitKind.INDUSTRIAL, UnitKind.MINE)  # 工矿企业
INDUSTRIAL_KINDS = (UnitKind.INDUSTRIAL, UnitKind.MINE)  # whose wastewater is 工业废水
DOMESTIC_TYPES = (Level2.URBAN_DOMESTIC_SCATTERED, Level2.RURAL_DOMESTIC_SCATTERED)
# Enterprise outfalls: one 工矿企业排污口 and one 雨洪排口 are kept.
ENTERPRISE_SEWAGE = (Level2.INDUSTRIAL_MINING,)
ENTERPRISE_STORM = (Level2.INDUSTRIAL_MINING_STORM,)
# Park outfalls: the park keeps one sewage and one storm outfall (its treatment plant's, preferably).
PARK_SEWAGE = (Level2.PARK_WWTP, Level2.INDUSTRIAL_MINING)
PARK_STORM = (Level2.PARK_WWTP_STORM, Level2.INDUSTRIAL_MINING_STORM)
PARK_OWN_TYPES = (Level2.PARK_WWTP, Level2.PARK_WWTP_STORM)


def village_threshold():
    return settings.REMEDIATION_VILLAGE_THRESHOLD_M3


def is_placeholder_note(text):
    """True for an empty note or one that only says the split is still to be settled."""
    text = (text or "").strip()
    if not text or text in DEFAULT_PLACEHOLDER_NOTES:
        return True
    return any(word in text for word in DEFAULT_PLACEHOLDER_WORDS)


def eco_facility_words():
    return tuple(settings.REMEDIATION_ECO_FACILITY_WORDS)


# ---------------------------------------------------------------------------------------------------------
# The context: plain facts, loaded once
# ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class LinkFacts:
    unit_id: int
    role: str = LinkRole.OWNER
    share_note: str = ""
    share_percent: int | None = None
    via_channel: str = ""


@dataclass(slots=True)
class OutfallFacts:
    id: int
    code: str = ""
    name: str = ""
    county_id: int | None = None
    village_id: int | None = None
    water_body_id: int | None = None
    lon: float = 0.0
    lat: float = 0.0
    type_code: str = ""
    type_level2: str = ""
    status: str = LifecycleStatus.VERIFIED
    conveyance: str = ""
    daily_volume_m3: float | None = None
    responsible_entity_id: int | None = None
    sign_installed: bool = False
    registered: bool = False
    approved: bool = False  # has an approval date, approval number or permit number
    text: str = ""  # notes and outlet description, for the word checks
    links: list = field(default_factory=list)

    def __post_init__(self):
        if not self.type_code and self.type_level2:
            self.type_code = LEVEL2_CODE[self.type_level2]

    @property
    def label(self):
        return (
            f"{self.name or self.code}（{self.code}）" if self.code and self.name else self.name or self.code
        )


@dataclass(slots=True)
class UnitFacts:
    id: int
    name: str
    kind: str = UnitKind.OTHER
    park: str = ""


@dataclass(slots=True)
class WaterFacts:
    id: int
    name: str
    basin: str = ""


@dataclass(slots=True)
class AreaFacts:
    name: str
    geometry: object  # a shapely polygon
    kind_label: str = ""


@dataclass
class RuleContext:
    """Everything the rules read. Built by ``load_context`` from the database, or directly in tests."""

    outfalls: dict  # id -> OutfallFacts (active ones only)
    units: dict = field(default_factory=dict)  # id -> UnitFacts
    waters: dict = field(default_factory=dict)  # id -> WaterFacts
    villages: dict = field(default_factory=dict)  # id -> name
    protected_areas: list = field(default_factory=list)  # AreaFacts
    coverage_areas: list = field(default_factory=list)  # AreaFacts

    @cached_property
    def ordered(self):
        return sorted(self.outfalls.values(), key=lambda o: (o.code, o.id))

    @cached_property
    def points(self):
        return shapely.points(
            np.array([o.lon for o in self.ordered], dtype=float),
            np.array([o.lat for o in self.ordered], dtype=float),
        )

    def inside(self, areas, outfalls=None):
        """{outfall id: first area containing it} for the given outfalls (default: all)."""
        if not areas:
            return {}
        chosen = self.ordered if outfalls is None else list(outfalls)
        if not chosen:
            return {}
        points = shapely.points([(o.lon, o.lat) for o in chosen])
        index = GeometryIndex([a.geometry for a in areas])
        point_idx, area_idx = index.containing(points)
        found = {}
        for p, a in sorted(zip(point_idx.tolist(), area_idx.tolist(), strict=True)):
            found.setdefault(chosen[p].id, areas[a])
        return found

    @cached_property
    def own_outfalls_by_unit(self):
        """unit id -> its own outfalls (owner link, or the unit is the responsible entity), by code."""
        owned = defaultdict(dict)
        for o in self.ordered:
            if o.responsible_entity_id:
                owned[o.responsible_entity_id][o.id] = o
            for link in o.links:
                if link.role == LinkRole.OWNER:
                    owned[link.unit_id][o.id] = o
        return {unit_id: list(by_id.values()) for unit_id, by_id in owned.items()}

    def unit_name(self, unit_id):
        unit = self.units.get(unit_id)
        return unit.name if unit else f"单位 {unit_id}"


def load_context(outfalls):
    """Load the facts for the active outfalls of a queryset (already scoped) in a fixed number of queries."""
    from outfalls.core.models import Jurisdiction
    from outfalls.registry.models import (
        DischargeUnit,
        OutfallUnitLink,
        ProtectedArea,
        SewerCoverageArea,
        WaterBody,
    )

    active = outfalls.filter(status__in=ACTIVE_STATUSES)
    rows = active.order_by().values_list(
        "id",
        "code",
        "name",
        "county_id",
        "village_id",
        "water_body_id",
        "lon",
        "lat",
        "type_code",
        "type_level2",
        "status",
        "conveyance",
        "daily_volume_m3",
        "responsible_entity_id",
        "sign_installed",
        "registered",
        "approval_date",
        "approval_number",
        "permit_number",
        "notes",
        "outlet_description",
    )
    facts = {}
    for (
        pk,
        code,
        name,
        county_id,
        village_id,
        water_id,
        lon,
        lat,
        type_code,
        level2,
        status,
        conveyance,
        volume,
        entity_id,
        sign,
        registered,
        approval_date,
        approval_number,
        permit,
        notes,
        outlet,
    ) in rows.iterator(chunk_size=5000):
        facts[pk] = OutfallFacts(
            id=pk,
            code=code,
            name=name,
            county_id=county_id,
            village_id=village_id,
            water_body_id=water_id,
            lon=lon,
            lat=lat,
            type_code=type_code,
            type_level2=level2,
            status=status,
            conveyance=conveyance,
            daily_volume_m3=volume,
            responsible_entity_id=entity_id,
            sign_installed=sign,
            registered=registered,
            approved=bool(approval_date or approval_number or permit),
            text=f"{notes} {outlet}",
        )
    links = OutfallUnitLink.objects.filter(outfall__in=active).order_by("outfall_id", "id")
    unit_ids = {o.responsible_entity_id for o in facts.values() if o.responsible_entity_id}
    for outfall_id, unit_id, role, note, percent, channel in links.values_list(
        "outfall_id", "unit_id", "role", "share_note", "share_percent", "via_channel"
    ).iterator(chunk_size=5000):
        if outfall_id in facts:
            facts[outfall_id].links.append(LinkFacts(unit_id, role, note, percent, channel))
            unit_ids.add(unit_id)
    units = {}
    for batch in _batches(sorted(unit_ids), 900):
        for pk, name, kind, park in DischargeUnit.objects.filter(pk__in=batch).values_list(
            "id", "name", "kind", "park"
        ):
            units[pk] = UnitFacts(pk, name, kind, park.strip())
    waters = {
        pk: WaterFacts(pk, name, basin)
        for pk, name, basin in WaterBody.objects.values_list("id", "name", "basin")
    }
    village_ids = sorted({o.village_id for o in facts.values() if o.village_id})
    villages = {}
    for batch in _batches(village_ids, 900):
        villages.update(Jurisdiction.objects.filter(pk__in=batch).values_list("id", "name"))
    protected = [
        AreaFacts(name, shapely.geometry.shape(geometry), ProtectedAreaKind(kind).label)
        for name, kind, geometry in ProtectedArea.objects.order_by("name", "id").values_list(
            "name", "kind", "geometry"
        )
    ]
    coverage = [
        AreaFacts(name, shapely.geometry.shape(geometry))
        for name, geometry in SewerCoverageArea.objects.order_by("name", "id").values_list("name", "geometry")
    ]
    return RuleContext(
        outfalls=facts,
        units=units,
        waters=waters,
        villages=villages,
        protected_areas=protected,
        coverage_areas=coverage,
    )


def _batches(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str  # stable English identifier, stored in MeasureProposal.hits
    title: str
    source: str
    measure: str
    function: object
    description: str = ""
    criterion: str = ""  # the same, in Chinese, for the rules page

    do_not_call_in_templates = True  # a Rule is callable; templates read its fields

    @property
    def measure_label(self):
        return Measure(self.measure).label

    def __call__(self, context):
        return self.function(context)


RULES = {}


def rule(name, *, title, source, measure, criterion=""):
    """Register a rule function under a stable name."""

    def register(function):
        if name in RULES:
            raise ValueError(f"rule {name} registered twice")
        RULES[name] = Rule(
            name=name,
            title=title,
            source=source,
            measure=measure,
            function=function,
            description=(function.__doc__ or "").strip(),
            criterion=criterion,
        )
        return function

    return register


def rule_title(name):
    found = RULES.get(name)
    return found.title if found else name


FALLBACK = "regularise"


def _names(outfalls, limit=5, total=None):
    total = len(outfalls) if total is None else total
    labels = [o.code or o.name for o in outfalls[:limit]]
    more = f"等 {total} 个" if total > limit else ""
    return "、".join(labels) + more


def _keep_first(outfalls, prefer=()):
    """The outfall proposed to keep among several: its own type first, then approved, registered, code."""
    return min(
        outfalls,
        key=lambda o: (o.type_level2 not in prefer, not o.approved, not o.registered, o.code, o.id),
    )


# ---------------------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------------------


@rule(
    "protected_area",
    title="特殊保护区域内的排口依法取缔",
    source="实施方案（同政办发〔2023〕8号）（五）依法取缔：在饮用水水源保护区、泉域重点保护区、自然保护区、生态保护红线及其他需要特殊保护区域内设置的入河排污口，坚决取缔",
    criterion="排口坐标位于任一特殊保护区域（饮用水水源保护区、泉域重点保护区、自然保护区、生态保护红线等）范围内。",
    measure=Measure.REMOVE,
)
def protected_area(context):
    """An outfall whose point lies inside a special protection area (特殊保护区域). A storm outfall
    (城镇雨洪排口) is never removed or blocked (实施方案（十）): inside an area it gets 规范整治 with the tracing
    of dry-weather sewage that the plan asks for."""
    hits = {}
    for outfall_id, area in context.inside(context.protected_areas).items():
        if context.outfalls[outfall_id].type_code == TypeCode.YH:
            hits[outfall_id] = (
                Measure.REGULARISE,
                f"城镇雨洪排口位于{area.name}（{area.kind_label}）内：严禁合并、封堵城镇雨洪排口（实施方案（十）），"
                "应开展旱天污水直排溯源治理，截断混入的污水，规范整治。",
            )
            continue
        hits[outfall_id] = (
            Measure.REMOVE,
            f"位于{area.name}（{area.kind_label}）内，应依法取缔。",
        )
    return hits


def _by_county(outfalls):
    """Outfalls split by county, each part by code: a county (属地) settles its own outfalls, and a reason
    never names another county's outfalls."""
    parts = defaultdict(list)
    for o in sorted(outfalls, key=lambda o: (o.code, o.id)):
        parts[o.county_id].append(o)
    return [parts[key] for key in sorted(parts, key=lambda k: (k is None, k or 0))]


def _multiple_per_group(groups, kinds, *, prefer=(), what):
    """For each group (label, outfalls): more than one of `kinds` → all but the one to keep merge."""
    hits = {}
    for label, outfalls in groups:
        for type_set, type_name in kinds:
            chosen = [o for o in outfalls if o.type_level2 in type_set]
            if len(chosen) < 2:
                continue
            keep = _keep_first(chosen, prefer)
            for o in chosen:
                if o is keep:
                    continue
                others = [x for x in chosen[:6] if x is not o][:5]
                hits[o.id] = (
                    Measure.MERGE,
                    f"{label}有 {len(chosen)} 个{type_name}（另有{_names(others, total=len(chosen) - 1)}），{what}；"
                    f"建议并入 {keep.label}。",
                    sorted({x.id for x in others} | {keep.id}),  # the outfalls the reason names
                )
    return hits


@rule(
    "enterprise_outlets",
    title="园区外工矿企业只保留一个排污口和一个雨洪排口",
    source="实施方案（六）清理合并：园区或开发区外的工矿企业，原则上一个企业只保留一个工矿企业排污口和一个雨洪排口",
    criterion="园区外的工矿企业（单位类型为工业企业或矿山企业、所在园区为空）在同一县区拥有（产权单位或责任主体）2 个及以上工矿企业排污口，或 2 个及以上工矿企业雨洪排口；各保留一个（优先已审批或有排污许可的，其次已登记的），其余建议合并。",
    measure=Measure.MERGE,
)
def enterprise_outlets(context):
    """An industrial or mining enterprise outside parks that owns more than one sewage outfall or more than
    one storm outfall in one county: all but one of each are to merge (the one kept: approved, registered,
    then by code)."""
    groups = []
    for unit_id, outfalls in context.own_outfalls_by_unit.items():
        unit = context.units.get(unit_id)
        if unit is None or unit.kind not in ENTERPRISE_KINDS or unit.park:
            continue
        for county_outfalls in _by_county(outfalls):
            groups.append((f"园区外工矿企业“{unit.name}”", county_outfalls))
    return _multiple_per_group(
        groups,
        ((ENTERPRISE_SEWAGE, "工矿企业排污口"), (ENTERPRISE_STORM, "雨洪排口")),
        what="园区外企业原则上只保留一个排污口和一个雨洪排口",
    )


@rule(
    "park_outlets",
    title="园区只保留一个排污口和一个雨洪排口",
    source="实施方案（六）清理合并：园区或开发区内企业现有入河排污口限期清理合并为一个排污口和一个雨洪排口",
    criterion="同一园区（排污单位“所在园区”相同）的单位在同一县区拥有 2 个及以上污水排口或 2 个及以上雨洪排口；各保留一个（优先园区污水处理厂的排口），其余建议合并。城镇雨洪排口不参与合并。",
    measure=Measure.MERGE,
)
def park_outlets(context):
    """A park (units with the same 所在园区) whose units own more than one sewage outfall or more than one
    storm outfall in one county: all but one of each are to merge (the park plant's outfall is kept first)."""
    by_park = defaultdict(dict)
    for unit_id, outfalls in context.own_outfalls_by_unit.items():
        unit = context.units.get(unit_id)
        if unit is None or not unit.park:
            continue
        for o in outfalls:
            by_park[unit.park][o.id] = o
    groups = [
        (f"园区“{park}”", county_outfalls)
        for park, outfalls in sorted(by_park.items())
        for county_outfalls in _by_county(outfalls.values())
    ]
    return _multiple_per_group(
        groups,
        ((PARK_SEWAGE, "污水排口"), (PARK_STORM, "雨洪排口")),
        prefer=PARK_OWN_TYPES,
        what="园区内企业排口应清理合并为一个排污口和一个雨洪排口，企业废水经园区污水集中处理设施统一处理",
    )


@rule(
    "domestic_in_sewer_coverage",
    title="管网覆盖范围内的生活污水散排口接入管网",
    source="实施方案（六）清理合并：城镇污水收集管网覆盖范围内的生活污水散排口予以清理合并，生活污水依法规范接入污水收集管网",
    criterion="城镇或农村生活污水散排口位于已导入的污水管网覆盖范围内。",
    measure=Measure.MERGE,
)
def domestic_in_sewer_coverage(context):
    """A domestic-sewage scattered outfall (城镇/农村生活污水散排口) inside an imported sewer coverage area."""
    domestic = [o for o in context.ordered if o.type_level2 in DOMESTIC_TYPES]
    hits = {}
    for outfall_id, area in context.inside(context.coverage_areas, domestic).items():
        hits[outfall_id] = (
            Measure.MERGE,
            f"生活污水散排口位于污水管网覆盖范围“{area.name}”内，应清理合并，生活污水接入污水收集管网。",
        )
    return hits


@rule(
    "irrigation_direct",
    title="严禁大中型灌区退水直排入河",
    source="实施方案（六）：严禁大中型灌区农田灌溉退水直排入河，鼓励通过建设生态沟渠、稳定塘、人工湿地等设施进行储蓄净化，重复用于农灌",
    criterion="大中型灌区排口，其备注、口门说明及关联单位的经由通道中均未写明生态沟渠、稳定塘、人工湿地等净化设施。",
    measure=Measure.MERGE,
)
def irrigation_direct(context):
    """A 大中型灌区排口 whose return flow reaches the river without an ecological facility (no 生态沟渠,
    稳定塘, 人工湿地... named in its notes, outlet description or unit-link channels): the direct outlet is
    to be merged into such a facility and the water reused for irrigation."""
    words = eco_facility_words()
    hits = {}
    for o in context.ordered:
        if o.type_level2 != Level2.IRRIGATION:
            continue
        text = o.text + " ".join(link.via_channel for link in o.links)
        if any(word in text for word in words):
            continue
        how = "直排" if o.conveyance in ("", Conveyance.DIRECT) else f"经{Conveyance(o.conveyance).label}直接"
        hits[o.id] = (
            Measure.MERGE,
            f"大中型灌区退水{how}入河，未经生态沟渠、稳定塘或人工湿地等设施净化；应清理合并，"
            f"退水经生态设施储蓄净化后回用于农灌。",
        )
    return hits


@rule(
    "basin_industrial_to_municipal",
    title="桑干河、大清河流域工业废水退出城镇污水处理厂",
    source="实施方案（六）：桑干河、大清河流域新建工业企业生产废水不得排入城镇污水处理厂，已纳入城镇污水处理厂处理的工业废水应当逐步退出",
    criterion="受纳水体所属流域为桑干河或大清河的城镇污水处理厂排口，关联有工业企业或矿山企业（非其责任主体）。",
    measure=Measure.REGULARISE,
)
def basin_industrial_to_municipal(context):
    """A 城镇污水处理厂排口 on a water in a restricted basin (WaterBody.basin names 桑干河 or 大清河) with an
    industrial or mining unit linked to it: the plant's outfall stays, the industrial wastewater is to leave
    the municipal plant (规范整治 of the outfall, with the phase-out as its action)."""
    hits = {}
    for o in context.ordered:
        if o.type_level2 != Level2.MUNICIPAL_WWTP:
            continue
        water = context.waters.get(o.water_body_id)
        basin = restricted_basin_of(water.basin) if water else None
        if basin is None:
            continue
        industrial = [
            context.units[link.unit_id]
            for link in o.links
            if link.unit_id in context.units
            and context.units[link.unit_id].kind in INDUSTRIAL_KINDS
            and link.unit_id != o.responsible_entity_id
        ]
        if not industrial:
            continue
        names = "、".join(u.name for u in industrial)
        hits[o.id] = (
            Measure.REGULARISE,
            f"受纳水体{water.name}属{basin}流域，该城镇污水处理厂接纳工业企业（{names}）的工业废水；"
            f"按流域要求，新建企业生产废水不得排入城镇污水处理厂，已纳入的工业废水应逐步退出。",
        )
    return hits


@rule(
    "village_central_facility",
    title="日产污水超过 500 立方米的村庄建设集中处理设施",
    source="实施方案（六）：污水日产生量大于 500 立方米的村庄，建设农村生活污水集中处理设施及配套管网，统一设置一个入河排污口",
    criterion="同一村的农村生活污水散排口日排放量合计大于 500 立方米，且该村没有农村污水处理设施排污口。",
    measure=Measure.MERGE,
)
def village_central_facility(context):
    """A village whose 农村生活污水散排口 together discharge more than 500 m³/day (Outfall.daily_volume_m3)
    and which has no 农村污水处理设施排污口: its scattered outfalls are to merge into one central facility."""
    threshold = village_threshold()
    by_village = defaultdict(list)
    with_facility = set()
    for o in context.ordered:
        if not o.village_id:
            continue
        if o.type_level2 == Level2.RURAL_FACILITY:
            with_facility.add(o.village_id)
        elif o.type_level2 == Level2.RURAL_DOMESTIC_SCATTERED:
            by_village[o.village_id].append(o)
    hits = {}
    for village_id, outfalls in by_village.items():
        if village_id in with_facility:
            continue
        total = sum(o.daily_volume_m3 or 0 for o in outfalls)
        if total <= threshold:
            continue
        village = context.villages.get(village_id, f"村 {village_id}")
        for o in outfalls:
            hits[o.id] = (
                Measure.MERGE,
                f"{village}的 {len(outfalls)} 个农村生活污水散排口合计日排放约 {total:g} 立方米（大于 {threshold:g}），"
                f"且该村没有农村污水处理设施；应建设集中处理设施及配套管网，统一设置一个入河排污口。",
            )
    return hits


@rule(
    "shared_without_note",
    title="共用排口须写明各单位责任",
    source="实施方案（七）合理设置：确需多个排污单位共用一个入河排污口的，督促各排污单位分清各自责任，并在排污许可证中载明",
    criterion="有“共用”关系单位的排口，其中有单位既未填写责任分担说明（或只写了“待明确”“不详”等），也未填写责任份额。",
    measure=Measure.REGULARISE,
)
def shared_without_note(context):
    """An outfall with units sharing it (关系“共用”) where a sharing unit has no 责任分担说明 (or only a
    placeholder such as 待明确) and no share percentage."""
    hits = {}
    for o in context.ordered:
        shared = [link for link in o.links if link.role == LinkRole.SHARES]
        if not shared:
            continue
        missing = [
            link for link in shared if is_placeholder_note(link.share_note) and link.share_percent is None
        ]
        if not missing:
            continue
        names = "、".join(context.unit_name(link.unit_id) for link in missing)
        hits[o.id] = (
            Measure.REGULARISE,
            f"共用排口，{names}未写明责任分担（说明或份额）；应明确各单位的整治和管理责任。",
        )
    return hits


@rule(
    FALLBACK,
    title="其他排口规范整治",
    source="实施方案（四）规范整治、（七）合理设置：树标立牌、设置必要的检查井、破损修复改造等规范化建设",
    criterion="其他未被取缔、合并规则命中的排口：设置标识牌（尚未设置时）、规范采样点、建设检查井、排查修复破损管道、完成登记建档（尚未登记时）。",
    measure=Measure.REGULARISE,
)
def regularise(context):
    """Every considered outfall: sign, sampling point, inspection well, pipe repair. Only shown as a hit on
    outfalls no remove or merge rule fired for (see ``evaluate``)."""
    hits = {}
    for o in context.ordered:
        actions = []
        if not o.sign_installed:
            actions.append("设置标识牌（尚未设置）")
        actions.extend(["规范采样点", "建设检查井", "排查修复破损管道"])
        if not o.registered:
            actions.append("完成登记建档")
        hits[o.id] = (Measure.REGULARISE, "规范整治：" + "、".join(actions) + "。")
    return hits


# ---------------------------------------------------------------------------------------------------------
# Combination
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Proposal:
    outfall_id: int
    measure: str
    reason: str
    hits: list  # [{rule, measure, reason}], strongest first, then in rule order


@dataclass
class Evaluation:
    proposals: dict  # outfall id -> Proposal
    counts: dict  # rule name -> outfalls it hit (the fallback: outfalls where it is the proposal)
    checked: int


def combine(outfall_id, hits):
    """One proposal from a list of (rule name, measure, reason[, ids of other outfalls the reason names]):
    the strongest measure wins. A hit naming other outfalls keeps their ids ("mentions"), so that a reader
    who may not see them reads the reason without them (proposals.scoped_reasons)."""
    ordered = sorted(enumerate(hits), key=lambda item: (-MEASURE_RANK[Measure(item[1][1])], item[0]))
    hits = []
    for _, (name, measure, reason, *mentions) in ordered:
        hit = {"rule": name, "measure": str(measure), "reason": reason}
        if mentions and mentions[0]:
            hit["mentions"] = list(mentions[0])
        hits.append(hit)
    measure = hits[0]["measure"]
    reason = "；".join(h["reason"].rstrip("。；") for h in hits if h["measure"] == measure) + "。"
    return Proposal(outfall_id, measure, reason, hits)


def evaluate(context, rules=None):
    """Run the rules over a context; every considered outfall gets one combined proposal."""
    chosen = [RULES[name] for name in (rules or RULES) if name != FALLBACK]
    collected = defaultdict(list)
    counts = {}
    for current in chosen:
        found = current(context)
        counts[current.name] = len(found)
        for outfall_id, (measure, reason, *mentions) in found.items():
            if storm_measure_error(context.outfalls[outfall_id].type_code, measure):
                # 严禁合并、封堵城镇雨洪排口: whatever a rule says, a storm outfall is regularised.
                measure = Measure.REGULARISE
                reason = reason.rstrip("。") + "；但城镇雨洪排口严禁合并、封堵，改为规范整治。"
            collected[outfall_id].append((current.name, measure, reason, *mentions))
    fallback = RULES[FALLBACK](context)
    counts[FALLBACK] = 0
    proposals = {}
    for o in context.ordered:
        hits = collected.get(o.id, [])
        if not any(MEASURE_RANK[Measure(m)] > MEASURE_RANK[Measure.REGULARISE] for _, m, *_ in hits):
            measure, reason = fallback[o.id]
            hits = [*hits, (FALLBACK, measure, reason)]
            counts[FALLBACK] += 1
        proposals[o.id] = combine(o.id, hits)
    return Evaluation(proposals=proposals, counts=counts, checked=len(context.outfalls))
