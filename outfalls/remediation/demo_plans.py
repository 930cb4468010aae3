"""Demo data for 一口一策 and 销号 (see demo.py): three programmes, plans for a few dozen demo outfalls that
agree with the ledger's states, progress updates with an after-rectification photo, and close-outs.

- outfalls the ledger has as 整治中 get open plans: most in progress (percent 20–80), some submitted for
  close-out, one returned with a reason; most keep the city's 2024-12-31 deadline (overdue), a few have
  a later one (2026-12-31, 2027-06-30) and one a transitional period;
- outfalls the ledger has as 保留 (regularised), 合并 and 取缔 get approved plans; a merged outfall without
  a merge target gets one (the nearest kept outfall on the same water in its county), on the plan and on
  the outfall's merged_into. Lifecycle statuses are not changed.

Rows are written directly (not through services.py): the ledger demo already holds the lifecycle steps, and
the services would repeat them. Each plan gets its status-change rows (by the system) as the services
would leave them. Deterministic (outfalls picked by code) and idempotent (an outfall with a plan is skipped).
"""

import io
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from outfalls.core.choices import AttachmentKind
from outfalls.core.models import Attachment
from outfalls.core.services import record_status_change
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure
from outfalls.registry.models import Outfall

from .choices import PlanStatus, ProgrammeKind
from .models import Programme, ProgressUpdate, RectificationPlan
from .services import decided_proposal

PROGRAMMES = (
    (
        "城乡黑臭水体治理",
        ProgrammeKind.BLACK_ODOROUS,
        "御河、十里河、桑干河等沿线黑臭水体整治，散排生活污水截污纳管。",
    ),
    (
        "城区雨污分流改造",
        ProgrammeKind.SEWER_SEPARATION,
        "平城区、云冈区、云州区、广灵县城、浑源县城老旧管网雨污分流改造。",
    ),
    ("大同经开区园区污水整治", ProgrammeKind.PARK, "园区一企一管、雨污排口规范化整治。"),
)
DEFAULT_DEADLINE = date(2024, 12, 31)
LATER_DEADLINES = (date(2026, 12, 31), date(2027, 6, 30))
ACTIONS = {
    RectificationMeasure.REGULARISE: "设置标识牌；规范采样点；建设检查井；安装视频监控",
    RectificationMeasure.MERGE: "截污纳管，接入市政污水管网后封堵原排口",
    RectificationMeasure.REMOVE: "拆除排水管道，封堵排口，恢复河岸",
    RectificationMeasure.NONE: "维持现状，纳入日常监管",
}
OPEN_COUNT = 30
APPROVED_COUNTS = {LifecycleStatus.KEPT: 10, LifecycleStatus.MERGED: 5, LifecycleStatus.CLOSED: 6}


def load_demo(stdout):
    """Deterministic and idempotent: a second run creates nothing."""
    user = get_user_model().objects.filter(username="bureau").first()
    with transaction.atomic():
        programmes = _programmes()
        created = _open_plans(programmes, user) + _approved_plans(programmes, user)
    stdout.write(
        f"一口一策：整治专项 {Programme.objects.count()} 个，新建整治方案 {created} 个，"
        f"共 {RectificationPlan.objects.count()} 个。\n"
    )


def _programmes():
    result = {}
    for name, kind, description in PROGRAMMES:
        programme, _ = Programme.objects.get_or_create(
            name=name, defaults={"kind": kind, "description": description}
        )
        result[kind] = programme
    return result


BLACK_ODOROUS_WATERS = ("御河", "十里河", "浑河", "壶流河", "南洋河", "桑干河")
SCATTERED = ("urban_domestic_scattered", "rural_domestic_scattered")
SEWER_SEPARATION_COUNTIES = ("140213", "140214", "140215", "140223", "140225")


def _programme_for(outfall, programmes):
    if outfall.county.code == "140271" or outfall.type_level2 in ("park_wwtp", "park_wwtp_storm"):
        return programmes[ProgrammeKind.PARK]
    if (
        outfall.type_level2 in ("urban_storm", "municipal_wwtp")
        and outfall.county.code in SEWER_SEPARATION_COUNTIES
    ):
        return programmes[ProgrammeKind.SEWER_SEPARATION]
    if (
        outfall.type_level2 in SCATTERED
        and outfall.water_body
        and outfall.water_body.name in BLACK_ODOROUS_WATERS
    ):
        return programmes[ProgrammeKind.BLACK_ODOROUS]
    return None


def _candidates(status, limit):
    """Up to `limit` outfalls in the status, spread over the counties: each county's first by code, then each
    county's second, and so on (deterministic)."""
    rows = (
        Outfall.objects.filter(status=status)
        .select_related("county", "water_body", "responsible_entity", "merged_into")
        .defer("county__boundary", "water_body__geometry")
        .order_by("county__code", "code")
    )
    by_county = {}
    for outfall in rows:
        by_county.setdefault(outfall.county_id, []).append(outfall)
    spread = []
    rank = 0
    while len(spread) < limit and any(len(v) > rank for v in by_county.values()):
        spread.extend(v[rank] for v in by_county.values() if len(v) > rank)
        rank += 1
    return spread[:limit]


def _responsible(outfall):
    if outfall.responsible_entity_id:
        return {"responsible_unit": outfall.responsible_entity}
    return {"responsible_org": (outfall.responsibility_note or f"{outfall.county.name}人民政府")[:128]}


def _merge_target(outfall):
    if outfall.merged_into_id:
        return outfall.merged_into
    candidates = Outfall.objects.filter(county_id=outfall.county_id, status=LifecycleStatus.KEPT).exclude(
        pk=outfall.pk
    )
    same_water = candidates.filter(water_body_id=outfall.water_body_id).order_by("code").first()
    return same_water or candidates.order_by("code").first()


def _demo_photo(outfall):
    """An after-rectification picture per outfall at a fixed path, written only when missing, so loading
    the demo again (or every test session) adds no files. One file per attachment: media is served by
    looking the attachment up by its file name."""
    name = f"attachments/demo/remediation-after-{outfall.code}.jpg"
    if not default_storage.exists(name):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (70, 130, 90)).save(buffer, format="JPEG")
        default_storage.save(name, ContentFile(buffer.getvalue()))
    return name


def _steps(plan, statuses, reasons=None):
    reasons = reasons or {}
    previous = ""
    for status in statuses:
        record_status_change(
            plan, user=None, from_value=previous, to_value=status, reason=reasons.get(status, "演示数据")
        )
        previous = status


def _updates(plan, user, percents, *, photo):
    for number, percent in enumerate(percents, 1):
        update = ProgressUpdate.objects.create(
            plan=plan,
            date=date(2024, 3 + 2 * number, 15),
            percent=percent,
            note=f"第{number}次进展：完成{percent}%。",
            created_by=user,
        )
        if photo and percent == 100:
            Attachment.objects.create(
                content_type=ContentType.objects.get_for_model(ProgressUpdate),
                object_id=update.pk,
                kind=AttachmentKind.PHOTO_AFTER,
                title="整治后照片（演示）",
                file=(name := _demo_photo(plan.outfall)),
                size=default_storage.size(name),
                uploaded_by=user,
            )


def _plan(outfall, programmes, user, *, measure, status, deadline, percent, **extra):
    plan = RectificationPlan.objects.create(
        outfall=outfall,
        proposal=decided_proposal(outfall),
        measure=measure,
        actions=ACTIONS[measure],
        deadline=deadline,
        programme=_programme_for(outfall, programmes),
        status=status,
        percent_done=percent,
        created_by=user,
        **_responsible(outfall),
        **extra,
    )
    return plan


def _open_plans(programmes, user):
    created = 0
    for index, outfall in enumerate(_candidates(LifecycleStatus.RECTIFYING, OPEN_COUNT)):
        if RectificationPlan.objects.filter(outfall=outfall).exists():
            continue
        measure = outfall.rectification_measure or RectificationMeasure.REGULARISE
        extra = {}
        if measure == RectificationMeasure.MERGE:
            target = _merge_target(outfall)
            if target is None:
                measure = RectificationMeasure.REGULARISE
            else:
                extra["merge_target"] = target
        deadline = DEFAULT_DEADLINE
        if index % 7 == 3:
            deadline = LATER_DEADLINES[index % 2]
        if index == 5:
            extra.update(
                transitional_until=date(2025, 12, 31), transitional_reason="等待片区污水管网建成后接入"
            )
        kind = "submitted" if index % 10 == 1 else "returned" if index == 4 else "open"
        if kind == "open":
            percents = [20, 40, 60, 80][: 1 + index % 4]
            plan = _plan(
                outfall,
                programmes,
                user,
                measure=measure,
                status=PlanStatus.IN_PROGRESS,
                deadline=deadline,
                percent=percents[-1],
                **extra,
            )
            _steps(plan, [PlanStatus.IN_PROGRESS])
            _updates(plan, user, percents, photo=False)
        else:
            status = PlanStatus.SUBMITTED if kind == "submitted" else PlanStatus.RETURNED
            plan = _plan(
                outfall,
                programmes,
                user,
                measure=measure,
                status=status,
                deadline=deadline,
                percent=100,
                submitted_at=timezone.make_aware(datetime(2024, 11, 20, 10)),
                submission_note="整治完成，申请销号。",
                return_reason="缺少整治后标识牌照片，请补充。" if kind == "returned" else "",
                **extra,
            )
            path = [PlanStatus.IN_PROGRESS, PlanStatus.SUBMITTED]
            if kind == "returned":
                path.append(PlanStatus.RETURNED)
            _steps(plan, path, {PlanStatus.RETURNED: "缺少整治后标识牌照片，请补充。"})
            _updates(plan, user, [50, 100], photo=True)
        created += 1
    return created


def _approved_plans(programmes, user):
    created = 0
    approved_at = timezone.make_aware(datetime(2024, 12, 20, 16))
    for status, limit in APPROVED_COUNTS.items():
        candidates = _candidates(status, limit * 3)
        if status == LifecycleStatus.KEPT:
            # Kept and registered: what an approved 规范整治 close-out leaves (registry CLOSEOUT_STATUS).
            candidates = [
                o
                for o in candidates
                if o.rectification_measure == RectificationMeasure.REGULARISE and o.registered
            ]
        for outfall in candidates[:limit]:
            if RectificationPlan.objects.filter(outfall=outfall).exists():
                continue
            measure = {
                LifecycleStatus.KEPT: RectificationMeasure.REGULARISE,
                LifecycleStatus.MERGED: RectificationMeasure.MERGE,
                LifecycleStatus.CLOSED: RectificationMeasure.REMOVE,
            }[status]
            extra = {}
            if measure == RectificationMeasure.MERGE:
                target = _merge_target(outfall)
                if target is None:
                    continue
                extra["merge_target"] = target
                if outfall.merged_into_id is None:
                    Outfall.objects.filter(pk=outfall.pk).update(merged_into=target)
            plan = _plan(
                outfall,
                programmes,
                user,
                measure=measure,
                status=PlanStatus.APPROVED,
                deadline=DEFAULT_DEADLINE,
                percent=100,
                submitted_at=approved_at,
                submission_note="整治完成，申请销号。",
                approved_at=approved_at,
                approved_by=user,
                **extra,
            )
            _steps(plan, [PlanStatus.IN_PROGRESS, PlanStatus.SUBMITTED, PlanStatus.APPROVED])
            _updates(plan, user, [60, 100], photo=True)
            created += 1
    return created
