"""The checks an application passes at submission: named functions, each with its Chinese reason.

- ``inside_protected_area``: inside a special protection area → 不予设置 (refuse);
- ``zone_below_target``: the zone's latest assessed class worse than its target → 严格控制: only a municipal
  treatment plant's outfall passes without an exception reason (实施方案（九）);
- ``consultation_needed``: near flood works, a water intake or a dyke (PERMITS_CONSULTATION_DISTANCE_M), or on
  a river marked for it → the water authority's opinion is required before the decision (意见征询);
- ``basin_industrial_to_municipal``: a new industrial outfall in a restricted basin (REMEDIATION_RESTRICTED_BASINS:
  桑干河, 大清河) whose production wastewater goes to a municipal plant → refuse (实施方案（六）);
- ``possible_duplicates``: ledger outfalls within SPATIAL_DUPLICATE_M → shown (提示).

The geometry is the ledger's (registry.checks: the same protected areas, duplicate distance, zones by chainage
or polygon, water works); nothing here repeats it. ``run_checks(application)`` runs them all on one context.
"""

from dataclasses import asdict, dataclass, field
from functools import cached_property

from django.conf import settings

from outfalls.registry import checks as ledger_checks
from outfalls.registry.checks import distance_text
from outfalls.registry.choices import FindingKind, TypeCode
from outfalls.registry.classification import Level2
from outfalls.registry.models import restricted_basin_of

from .choices import ApplicationKind, Authority, CheckOutcome


def consultation_distance_m():
    return float(settings.PERMITS_CONSULTATION_DISTANCE_M)


@dataclass
class CheckResult:
    name: str
    title: str
    outcome: str
    message: str
    data: dict = field(default_factory=dict)

    @property
    def outcome_label(self):
        return CheckOutcome(self.outcome).label

    def as_dict(self):
        return asdict(self)


@dataclass
class Context:
    """What the checks read about one proposed position, computed once."""

    application: object

    @cached_property
    def findings(self):
        a = self.application
        return ledger_checks.check_point(a.lon, a.lat, exclude_outfall_id=a.outfall_id)

    @cached_property
    def zones(self):
        a = self.application
        return ledger_checks.zones_at(a.lon, a.lat, a.water_body)

    @property
    def zone(self):
        """The application's zone as filled in, else the one the position lies in."""
        a = self.application
        if a.zone_id:
            return a.zone
        return self.zones[0] if self.zones else None

    @cached_property
    def works(self):
        a = self.application
        return ledger_checks.water_works_near(a.lon, a.lat, consultation_distance_m())


CHECKS = []


def check(name, title):
    def register(function):
        function.check_name, function.title = name, title
        CHECKS.append(function)
        return function

    return register


def _result(function, outcome, message, **data):
    return CheckResult(function.check_name, function.title, outcome, message, data)


@check("inside_protected_area", "特殊保护区域")
def inside_protected_area(application, context):
    hits = [(m, d) for kind, m, d in context.findings if kind == FindingKind.PROTECTED_AREA]
    if not hits:
        return _result(inside_protected_area, CheckOutcome.PASS, "拟设位置不在特殊保护区域内。")
    places = "；".join(message.removesuffix("，应依法取缔") for message, _ in hits)
    return _result(
        inside_protected_area,
        CheckOutcome.REFUSE,
        f"拟设位置{places}：依法不得在特殊保护区域内设置入河排污口（实施方案（五））。",
        areas=[d["area"] for _, d in hits],
    )


@check("zone_below_target", "水功能区水质目标")
def zone_below_target(application, context):
    zone = context.zone
    if zone is None:
        return _result(
            zone_below_target, CheckOutcome.NOTICE, "未能确定所在水功能区，请核实位置或选择水功能区。"
        )
    facts = {"zone": {"id": zone.pk, "name": zone.name}}
    if not zone.below_target:
        assessed = f"，最新评价为{zone.get_assessed_class_display()}" if zone.assessed_class else ""
        return _result(
            zone_below_target,
            CheckOutcome.PASS,
            f"所在水功能区“{zone.name}”水质目标为{zone.get_target_class_display()}{assessed}，未发现超出目标。",
            **facts,
        )
    missed = (
        f"所在水功能区“{zone.name}”最新评价（{zone.assessed_on:%Y-%m-%d}）为{zone.get_assessed_class_display()}，"
        f"未达到水质目标{zone.get_target_class_display()}"
    )
    if application.type_level2 == Level2.MUNICIPAL_WWTP:
        return _result(
            zone_below_target,
            CheckOutcome.PASS,
            f"{missed}；城镇污水处理厂入河排污口不在严格控制之列（实施方案（九））。",
            **facts,
        )
    given = bool((application.exception_reason or "").strip())
    tail = (
        "已填写例外理由，由市生态环境局审查。"
        if given
        else "除城镇污水处理厂外，须填写“严格控制例外理由”方可提交。"
    )
    return _result(
        zone_below_target,
        CheckOutcome.CONTROL,
        f"{missed}：严格控制新设、改设或者扩大入河排污口（实施方案（九））；{tail}",
        exception_given=given,
        **facts,
    )


@check("consultation_needed", "征求水利部门意见")
def consultation_needed(application, context):
    reasons, works = [], []
    water = application.water_body
    if water.consultation_required:
        reasons.append(f"受纳水体“{water.name}”已标记为设置排污口须征求水利部门意见")
    for item, distance in context.works:
        approx = "（位置为示意）" if item.approximate else ""
        reasons.append(f"距{item.get_kind_display()}“{item.name}”约 {distance_text(distance)}{approx}")
        works.append(
            {"id": item.pk, "name": item.name, "kind": item.kind, "distance_m": round(distance, 1),
             "authority": item.authority}
        )  # fmt: skip
    if not reasons:
        limit = distance_text(consultation_distance_m())
        return _result(
            consultation_needed,
            CheckOutcome.PASS,
            f"{limit}内没有已登记的防洪工程、取水口或堤防，受纳水体未标记须征求意见。",
        )
    return _result(
        consultation_needed,
        CheckOutcome.CONSULT,
        "；".join(reasons)
        + "：可能影响防洪、供水、堤防安全或河势稳定，决定前须征求流域管理机构或水行政主管部门意见（实施方案（九））。",
        works=works,
        river=water.consultation_required,
        authority=next((w["authority"] for w in works if w["authority"]), ""),
    )


@check("basin_industrial_to_municipal", "桑干河、大清河流域工业废水")
def basin_industrial_to_municipal(application, context):
    basin = restricted_basin_of(application.water_body.basin)
    industrial = application.type_code == TypeCode.GY
    if not (
        application.kind == ApplicationKind.NEW
        and industrial
        and basin
        and application.production_to_municipal
    ):
        return _result(
            basin_industrial_to_municipal,
            CheckOutcome.PASS,
            "不涉及流域内新建工业企业生产废水排入城镇污水处理厂。",
        )
    return _result(
        basin_industrial_to_municipal,
        CheckOutcome.REFUSE,
        f"受纳水体“{application.water_body.name}”属{basin}流域：新建工业企业生产废水不得排入城镇污水处理厂（实施方案（六））。",
        basin=basin,
    )


@check("possible_duplicates", "疑似重复排口")
def possible_duplicates(application, context):
    near = [d for kind, _, d in context.findings if kind == FindingKind.DUPLICATE]
    if not near:
        return _result(possible_duplicates, CheckOutcome.PASS, "附近没有可能重复的已登记排口。")
    limit = ledger_checks.duplicate_m()
    closest = min(d["distance_m"] for d in near)
    # Neither names the other outfalls: the applicant may not see them (pages list those the reader sees).
    return _result(
        possible_duplicates,
        CheckOutcome.NOTICE,
        f"{limit:.0f} 米内已有 {len(near)} 个入河排污口（最近约 {closest:.0f} 米），可能为同一排口，请核实。",
        other_ids=sorted(d["other_id"] for d in near),
    )


def run_checks(application):
    """Every check's result for the application as it stands now (nothing is written)."""
    context = Context(application)
    return [function(application, context) for function in CHECKS]


def blocking(application, results):
    """The results that stop a submission (and an approval): a refusal, and strict control without an
    exception reason. None when the state decides: such an application is only recorded here."""
    if application.authority != Authority.CITY:
        return []
    return [
        r
        for r in results
        if r.outcome == CheckOutcome.REFUSE
        or (r.outcome == CheckOutcome.CONTROL and not r.data.get("exception_given"))
    ]


def needs_consultation(results):
    return any(r.outcome == CheckOutcome.CONSULT for r in results)
