"""Demo data for 溯源 (see demo.py): a few dozen tracing cases, open and concluded, traced and government
fallback, with dated steps.

Two kinds of cases, both keeping the Outfall rows consistent:

- cases run through the services (tracing.py) as the bureau's demo account: the outfalls that 排查 confirmed
  (demo_field's ``survey-point-*`` outfalls, with their campaign) and one verified ledger outfall in each
  county that has several: opened, steps recorded, units linked (an owner and a borrower, or shared
  parts), and some concluded (traced, or government fallback) — which moves the outfall to 已溯源;
- the record of tracing already done: concluded cases for ledger outfalls that are already traced or
  later, whose responsible entity was fixed by tracing or by government fallback; the case copies the
  outfall's entity, basis and note (nothing on the outfall changes).

Deterministic and idempotent: the service-driven part runs once (its opening status rows carry a marker
reason); the record part skips outfalls that already have a case.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from outfalls.core.models import StatusChange
from outfalls.core.services import record_status_change
from outfalls.registry.choices import (
    TRACED_OR_LATER,
    LifecycleStatus,
    LinkRole,
    ResponsibilityBasis,
    UnitKind,
)
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from . import tracing
from .choices import CaseStatus, StepKind
from .models import SuspectedPoint, TracingCase, TracingStep

DEMO_REASON = "立案溯源（演示数据）"
STAFF = ["王建国、李娜", "张伟、刘洋", "赵磊、孙丽", "陈静、周强"]
RECORD_PER_COUNTY = {ResponsibilityBasis.TRACED: 2, ResponsibilityBasis.GOVERNMENT_FALLBACK: 1}

TRACED_STEPS = [
    (StepKind.PIPE_WALK, "沿排口上游管线排查约 600 米，发现两处支管接入。"),
    (StepKind.MANHOLE, "打开 3 座检查井，其中 2# 井有持续来水，水色灰黑。"),
    (StepKind.DYE_TEST, "在疑似单位厂区污水井投放荧光素钠，约 25 分钟后排口出水呈绿色，确认连通。"),
    (StepKind.DOCUMENT_REVIEW, "调阅排污许可证及管网竣工图，与现场走向一致。"),
]
FALLBACK_STEPS = [
    (StepKind.PIPE_WALK, "上游为老旧合流管网，走向不清，排查约 1.2 公里未找到明确接入单位。"),
    (StepKind.CCTV, "CCTV 检测显示管道多处破损、错接，无法确定具体来水单位。"),
    (StepKind.INTERVIEW, "走访周边住户及商户，均称排水接入市政管网。"),
]


def load_demo(stdout):
    user = get_user_model().objects.filter(username="bureau").first()
    if user is None:
        stdout.write("溯源演示数据：缺少演示账号 bureau，跳过。\n")
        return {}
    created = {"live": 0, "record": 0}
    with transaction.atomic():
        if not _demo_marker_exists():
            created["live"] = _live_cases(user)
        created["record"] = _record_cases(user)
    stdout.write(
        "溯源演示数据：新增溯源案件 {live} 个（进行中及新结案），已溯源排口的结案记录 {record} 个。\n".format(
            **created
        )
    )
    return created


def _demo_marker_exists():
    ct = ContentType.objects.get_for_model(TracingCase)
    return StatusChange.objects.filter(content_type=ct, reason=DEMO_REASON).exists()


def _units_near(outfall, count, exclude=()):
    return list(
        DischargeUnit.objects.filter(county_id=outfall.county_id)
        .exclude(kind__in=[UnitKind.GOVERNMENT, UnitKind.INSTITUTION])
        .exclude(pk__in=[u.pk for u in exclude])
        .order_by("credit_code", "id")[:count]
    )


def _steps(case, user, plan, start, staff):
    for offset, (kind, findings) in enumerate(plan):
        tracing.add_step(
            case,
            user=user,
            kind=kind,
            date=start + dt.timedelta(days=3 * offset),
            findings=findings,
            staff=staff,
        )


def _live_cases(user):
    targets = []
    # Outfalls the 排查 demo confirmed: traced with a borrower, left open with shared parts, fallback.
    for outfall in Outfall.objects.filter(
        source_key__startswith="survey-point-", status=LifecycleStatus.VERIFIED
    ).order_by("source_key"):
        point = (
            SuspectedPoint.objects.filter(outfall=outfall).select_related("campaign").order_by("id").first()
        )
        targets.append((outfall, point.campaign if point else None))
    # One verified ledger outfall in each county that has at least three.
    verified = (
        Outfall.objects.filter(
            source_key__startswith="DEMO-", status=LifecycleStatus.VERIFIED, tracing_case=None
        )
        .select_related("county")
        .order_by("county__code", "code")
    )
    by_county = {}
    for outfall in verified:
        by_county.setdefault(outfall.county_id, []).append(outfall)
    for outfalls in by_county.values():
        if len(outfalls) >= 3:
            targets.append((outfalls[0], None))

    made = 0
    for index, (outfall, campaign) in enumerate(targets):
        if TracingCase.objects.filter(outfall=outfall).exists():
            continue
        case = tracing.open_case(outfall, user=user, campaign=campaign, reason=DEMO_REASON)
        made += 1
        start = dt.date(2023, 7, 3) + dt.timedelta(days=7 * (index % 8))
        staff = STAFF[index % len(STAFF)]
        scenario = index % 4
        if scenario == 0:  # traced to an owner, with a unit borrowing the outfall
            owner, borrower = _units_near(outfall, 2)
            _steps(case, user, TRACED_STEPS, start, staff)
            tracing.link_found_unit(case, owner, user=user, role=LinkRole.OWNER)
            tracing.link_found_unit(
                case,
                borrower,
                user=user,
                role=LinkRole.BORROWS,
                via_channel="厂区东侧雨水管网",
                share_note="溯源发现借道雨水管网排放生产废水",
            )
            tracing.conclude_case(
                case, user=user, basis=ResponsibilityBasis.TRACED, entity=owner, note="示踪试验确认来水单位"
            )
        elif scenario == 1:  # still open: two units sharing, parts recorded
            first, second = _units_near(outfall, 2)
            _steps(case, user, TRACED_STEPS[:2], start, staff)
            tracing.link_found_unit(
                case, first, user=user, role=LinkRole.SHARES, share_note="按许可排水量分担", share_percent=60
            )
            tracing.link_found_unit(
                case, second, user=user, role=LinkRole.SHARES, share_note="按许可排水量分担", share_percent=40
            )
        elif scenario == 2:  # government fallback
            _steps(case, user, FALLBACK_STEPS, start, staff)
            tracing.conclude_case(
                case,
                user=user,
                basis=ResponsibilityBasis.GOVERNMENT_FALLBACK,
                note="老旧合流管网错接，经管线、CCTV 排查及走访未查明排污单位，由县区政府兜底",
            )
        else:  # just opened, one step so far
            _steps(case, user, FALLBACK_STEPS[:1], start, staff)
    return made


def _record_cases(user):
    """Concluded cases for outfalls already traced (or later) in the ledger demo."""
    candidates = (
        Outfall.objects.filter(
            source_key__startswith="DEMO-",
            status__in=TRACED_OR_LATER,
            responsibility_basis__in=list(RECORD_PER_COUNTY),
        )
        .exclude(responsible_entity=None)
        .select_related("county", "responsible_entity")
        .order_by("county__code", "code")
    )
    linked = set(OutfallUnitLink.objects.filter(outfall__in=candidates).values_list("outfall_id", "unit_id"))
    taken = {}
    made = 0
    for index, outfall in enumerate(candidates):
        key = (outfall.county_id, outfall.responsibility_basis)
        if taken.get(key, 0) >= RECORD_PER_COUNTY[outfall.responsibility_basis]:
            continue
        traced = outfall.responsibility_basis == ResponsibilityBasis.TRACED
        if traced and (outfall.pk, outfall.responsible_entity_id) not in linked:
            continue  # a traced entity is always one of the linked units
        taken[key] = taken.get(key, 0) + 1
        if TracingCase.objects.filter(outfall=outfall).exists():
            continue
        start = dt.date(2023, 4, 3) + dt.timedelta(days=5 * (index % 12))
        concluded = timezone.make_aware(dt.datetime.combine(start + dt.timedelta(days=20), dt.time(16, 30)))
        note = outfall.responsibility_note or (
            "示踪试验及资料核查确认来水单位" if traced else "未查明排污单位，由县区政府兜底"
        )
        case = TracingCase.objects.create(
            outfall=outfall,
            status=CaseStatus.CONCLUDED,
            opened_by=user,
            responsible_entity=outfall.responsible_entity,
            basis=outfall.responsibility_basis,
            conclusion=note,
            concluded_by=user,
            concluded_at=concluded,
        )
        TracingCase.objects.filter(pk=case.pk).update(
            opened_at=timezone.make_aware(dt.datetime.combine(start, dt.time(9, 0)))
        )
        plan = TRACED_STEPS if traced else FALLBACK_STEPS
        for offset, (kind, findings) in enumerate(plan):
            TracingStep.objects.create(
                case=case,
                kind=kind,
                date=start + dt.timedelta(days=4 * offset),
                findings=findings,
                staff=STAFF[index % len(STAFF)],
                created_by=user,
            )
        record_status_change(case, user=user, from_value="", to_value=CaseStatus.OPEN, reason="立案溯源")
        record_status_change(
            case, user=user, from_value=CaseStatus.OPEN, to_value=CaseStatus.CONCLUDED, reason=note
        )
        made += 1
    return made
