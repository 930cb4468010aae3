"""Demo data for the rectification rules (see demo.py): approximate sewer coverage areas around county seats,
the few extra facts the demo ledger needs so that every rule has at least one hit and one miss (daily volumes
of rural domestic outfalls, one irrigation outfall through a wetland, one industrial unit connected to a
municipal treatment plant, one shared outfall without a responsibility note), then one run of the rules and
some decisions (accepted, and one override with its reason).

Deterministic (outfalls are picked by code) and idempotent: every step checks first, and the rules run only
when no rule run exists yet.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from shapely.geometry import Point, mapping

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.models import Jurisdiction
from outfalls.registry.choices import LinkRole, RectificationMeasure, UnitKind
from outfalls.registry.classification import Level2
from outfalls.registry.models import (
    DischargeUnit,
    Outfall,
    OutfallUnitLink,
    SewerCoverageArea,
    restricted_basins,
)

from . import rules
from .choices import ProposalStatus
from .models import MeasureProposal, RuleRun
from .proposals import accept_proposal, override_proposal, run_rules

SOURCE = "示意：按县城建成区大致位置绘制的圆形范围，非实际管网资料"
# (name, county code, centre lon, centre lat, radius in degrees): approximate, and flagged so.
COVERAGE = (
    ("平城区老城区污水管网覆盖范围（示意）", "140213", 113.2750, 40.0430, 0.020),
    ("平城区御河东北片污水管网覆盖范围（示意）", "140213", 113.3250, 40.0900, 0.015),
    ("浑源县城污水管网覆盖范围（示意）", "140225", 113.6950, 39.6990, 0.025),
    ("天镇县城污水管网覆盖范围（示意）", "140222", 114.0900, 40.4200, 0.020),
)
DEMO_USER = "bureau"


def load_demo(stdout):
    """Deterministic and idempotent: a second run creates nothing."""
    with transaction.atomic():
        created = _coverage()
        _volumes()
        _irrigation_wetland()
        _industrial_into_municipal()
        _shared_without_note()
    if RuleRun.objects.exists():
        stdout.write(f"整治规则：污水管网覆盖范围新建 {created}；已有规则运行，未重新运行。\n")
        return
    run = run_rules(user=None)
    decided = _decisions()
    stdout.write(
        f"整治规则：污水管网覆盖范围新建 {created}，检查排口 {run.outfalls_checked} 个，"
        f"建议 {MeasureProposal.objects.count()} 条，已处理 {decided} 条。\n"
    )


def _coverage():
    counties = {j.code: j for j in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).only("id", "code")}
    created = 0
    for name, code, lon, lat, radius in COVERAGE:
        if SewerCoverageArea.objects.filter(name=name).exists():
            continue
        SewerCoverageArea.objects.create(
            name=name,
            county=counties.get(code),
            geometry=mapping(Point(lon, lat).buffer(radius, quad_segs=8)),
            source=SOURCE,
            approximate=True,
        )
        created += 1
    return created


def _set(outfall, **values):
    changed = [name for name, value in values.items() if getattr(outfall, name) != value]
    if changed:
        for name in changed:
            setattr(outfall, name, values[name])
        outfall.save(update_fields=[*changed, "updated_at"])


def _volumes():
    """Villages of rural domestic outfalls: one over 500 m³/day without a facility (hit), one under (miss),
    one over 500 with a facility (miss)."""
    active = Outfall.objects.filter(status__in=rules.ACTIVE_STATUSES).exclude(village=None)
    with_facility = set(active.filter(type_level2=Level2.RURAL_FACILITY).values_list("village_id", flat=True))
    scattered = list(active.filter(type_level2=Level2.RURAL_DOMESTIC_SCATTERED).order_by("code"))
    villages = []
    for outfall in scattered:
        if outfall.village_id not in villages:
            villages.append(outfall.village_id)
    without = [v for v in villages if v not in with_facility]
    plan = {}
    if without:
        plan[without[0]] = 520.0  # over 500, no facility: the village rule hits
    if len(without) > 1:
        plan[without[1]] = 480.0  # under 500: tank-truck collection, no hit
    facility = [v for v in villages if v in with_facility]
    if facility:
        plan[facility[0]] = 650.0  # over 500 but a central facility exists: no hit
    for village_id, total in plan.items():
        outfalls = [o for o in scattered if o.village_id == village_id]
        for outfall in outfalls:
            _set(outfall, daily_volume_m3=round(total / len(outfalls), 1))


def _irrigation_wetland():
    """One irrigation outfall whose return flow passes a constructed wetland (the irrigation rule's miss)."""
    outfall = (
        Outfall.objects.filter(status__in=rules.ACTIVE_STATUSES, type_level2=Level2.IRRIGATION)
        .order_by("conveyance", "code")
        .first()
    )
    note = "退水经下游人工湿地净化后回用于农灌（演示）。"
    if outfall is not None and note not in outfall.notes:
        _set(outfall, notes=f"{outfall.notes}\n{note}".strip())


def _industrial_into_municipal():
    """An industrial unit whose wastewater goes to a municipal plant in the 桑干河 basin (the basin rule's hit)."""
    plants = Outfall.objects.filter(
        status__in=rules.ACTIVE_STATUSES,
        type_level2=Level2.MUNICIPAL_WWTP,
        water_body__basin__contains=restricted_basins()[0],
    ).order_by("code")
    for plant in plants:
        unit = (
            DischargeUnit.objects.filter(county_id=plant.county_id, kind=UnitKind.INDUSTRIAL, park="")
            .order_by("credit_code", "id")
            .first()
        )
        if unit is None:
            continue
        OutfallUnitLink.objects.get_or_create(
            outfall=plant,
            unit=unit,
            defaults={
                "role": LinkRole.SHARES,
                "via_channel": "市政污水管网",
                "share_note": "工业废水经市政污水管网纳入城镇污水处理厂（演示）",
            },
        )
        return


def _shared_without_note():
    """One shared outfall whose responsibility split is still to be settled (the shared rule's hit): the
    note keeps saying so, as hand-filled ledgers do."""
    shared = OutfallUnitLink.objects.filter(role=LinkRole.SHARES, outfall__status__in=rules.ACTIVE_STATUSES)
    notes = shared.filter(share_percent=None).values_list("share_note", flat=True)
    if any(rules.is_placeholder_note(note) for note in notes):
        return
    link = shared.exclude(via_channel="市政污水管网").order_by("outfall__code", "unit__name").first()
    if link is not None:
        link.share_note = "共用排口，各单位责任分担待明确（演示）"
        link.share_percent = None
        link.save(update_fields=["share_note", "share_percent"])


def _decisions():
    """Accept the first proposals of each strong measure; override one irrigation proposal with a reason."""
    user = get_user_model().objects.filter(username=DEMO_USER).first()
    pending = MeasureProposal.objects.filter(status=ProposalStatus.PENDING).select_related("outfall")
    decided = 0
    for measure, count in ((RectificationMeasure.REMOVE, 4), (RectificationMeasure.MERGE, 4)):
        for proposal in pending.filter(measure=measure).order_by("outfall__code")[:count]:
            if proposal.hits and proposal.hits[0]["rule"] == "irrigation_direct":
                continue
            accept_proposal(proposal, user=user)
            decided += 1
    irrigation = (
        pending.filter(status=ProposalStatus.PENDING, hits__icontains='"rule": "irrigation_direct"')
        .order_by("outfall__code")
        .first()
    )
    if irrigation is not None:
        override_proposal(
            irrigation,
            user=user,
            measure=RectificationMeasure.REGULARISE,
            reason="现场核实：该灌区排口下游已建生态沟渠，退水经沟渠净化后入河，先规范整治并补记台账说明。",
        )
        decided += 1
    return decided
