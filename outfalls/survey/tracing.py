"""溯源 workflow steps: open a case, record steps, link the units found, conclude, reopen.

Each function checks that the user may edit the case's outfall and that the case is in the right state,
changes the rows inside transaction.atomic, and leaves a status-change row where a status moves. Views,
the demo loader and tests all call these.
"""

from collections import defaultdict
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from outfalls.core.choices import AttachmentKind
from outfalls.core.models import Attachment
from outfalls.core.services import PHOTO_SUFFIXES, add_attachment, record_status_change
from outfalls.registry import services as registry_services
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis, UnitKind, Workflow
from outfalls.registry.classification import TypeCode
from outfalls.registry.dry_weather import Observation, TracingRequest
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from .choices import CaseStatus, FlowState, StepKind
from .models import FieldCheck, TracingCase, TracingStep

OUT_OF_SCOPE = "该排口不在您可编辑的范围内。"
CASE_CLOSED = "案件已结案，不能修改；如需补充请先重新开启。"
NOTE_MAX = 200  # Outfall.responsibility_note


def _check_outfall_editable(outfall, user):
    if not Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists():
        raise PermissionDenied(OUT_OF_SCOPE)


def _locked_case(case, user):
    case = TracingCase.objects.select_for_update().select_related("outfall").get(pk=case.pk)
    _check_outfall_editable(case.outfall, user)
    return case


def _require_open(case):
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"status": CASE_CLOSED})


def government_body_for(county_id):
    """The county government (or the 经开区 committee) of a county: the default fallback body, or None."""
    bodies = DischargeUnit.objects.filter(county_id=county_id, kind=UnitKind.GOVERNMENT).order_by("id")
    for unit in bodies:
        if unit.name.endswith(("人民政府", "管理委员会")):
            return unit
    return bodies.first()


@transaction.atomic
def open_case(outfall, *, user, campaign=None, deadline=None, reason=""):
    """立案溯源 on a verified outfall that has no case yet."""
    outfall = Outfall.objects.select_for_update().get(pk=outfall.pk)
    _check_outfall_editable(outfall, user)
    if TracingCase.objects.filter(outfall=outfall).exists():
        raise ValidationError({"outfall": f"排口“{outfall}”已有溯源案件。"})
    if outfall.status != LifecycleStatus.VERIFIED:
        raise ValidationError(
            {"outfall": f"只有“已核实”的排口可以立案溯源，该排口状态为“{outfall.get_status_display()}”。"}
        )
    if campaign is not None and campaign.county_id != outfall.county_id:
        raise ValidationError({"campaign": "排查任务须与排口属于同一县区。"})
    case = TracingCase(outfall=outfall, campaign=campaign, deadline=deadline, opened_by=user)
    case.full_clean(exclude=["outfall"])
    case.save()
    record_status_change(
        case, user=user, from_value="", to_value=CaseStatus.OPEN, reason=reason or "立案溯源"
    )
    return case


@transaction.atomic
def add_step(case, *, user, kind, date, findings, staff="", files=()):
    """A dated tracing step with its findings; files (uploads) are attached to the step, all or nothing."""
    case = _locked_case(case, user)
    _require_open(case)
    step = TracingStep(case=case, kind=kind, date=date, findings=findings, staff=staff, created_by=user)
    step.full_clean(exclude=["case"])
    if date and date > timezone.localdate():
        raise ValidationError({"date": "步骤日期不能晚于今天。"})
    step.save()
    for upload in files:
        # Photos (manholes, dye in the pipe...) and documents (permits, drawings) keep their own kind.
        is_photo = Path(upload.name).suffix.lower() in PHOTO_SUFFIXES
        try:
            add_attachment(
                step,
                upload,
                user=user,
                kind=AttachmentKind.OTHER if is_photo else AttachmentKind.DOCUMENT,
                title="溯源照片" if is_photo else "溯源资料",
            )
        except ValidationError as error:  # shown beside the step form's file input
            raise ValidationError({"files": error.messages}) from error
    return step


def steps_with_files(case):
    """The case's steps in date order, each with .files (its attachments): two
    queries whatever the number of steps."""
    steps = list(case.steps.select_related("created_by"))
    files = defaultdict(list)
    for attachment in Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(TracingStep), object_id__in=[s.pk for s in steps]
    ).order_by("uploaded_at", "id"):
        files[attachment.object_id].append(attachment)
    for step in steps:
        step.files = files[step.pk]
    return steps


def _check_link_rules(outfall, unit, role, via_channel, share_note, share_percent):
    errors = {}
    if role not in LinkRole.values:
        errors["role"] = "请选择单位与排口的关系。"
    if role == LinkRole.SHARES and not share_note.strip():
        errors["share_note"] = "共用排口须写明本单位的责任分担说明。"
    if role == LinkRole.BORROWS and not via_channel.strip():
        errors["via_channel"] = "借道排污须写明经由的通道（如某路雨水管网）。"
    if share_percent is not None:
        if not 0 <= share_percent <= 100:
            errors["share_percent"] = "责任份额应在 0–100 之间。"
        else:
            others = OutfallUnitLink.objects.filter(outfall=outfall).exclude(share_percent=None)
            if unit.pk is not None:
                others = others.exclude(unit_id=unit.pk)
            others = others.values_list("share_percent", flat=True)
            total = sum(others) + share_percent
            if total > 100:
                errors["share_percent"] = (
                    f"各单位责任份额合计 {total}% 超过 100%（其他单位已占 {total - share_percent}%）。"
                )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def link_found_unit(case, unit, *, user, role, via_channel="", share_note="", share_percent=None):
    """Link a unit found by tracing to the case's outfall (owner, shares or borrows)."""
    case = _locked_case(case, user)
    _require_open(case)
    if not DischargeUnit.objects.visible_to(user).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": "所选排污单位不在您的可见范围内。"})
    _check_link_rules(case.outfall, unit, role, via_channel, share_note, share_percent)
    link = registry_services.link_unit(
        case.outfall,
        unit,
        user=user,
        role=role,
        via_channel=via_channel.strip(),
        share_note=share_note.strip(),
    )
    if link.share_percent != share_percent:
        link.share_percent = share_percent
        link.save(update_fields=["share_percent"])
    return link


@transaction.atomic
def create_and_link_unit(case, unit, *, user, role, via_channel="", share_note="", share_percent=None):
    """Create a unit found on the spot (registry.services.save_unit) and link it; all or nothing. A unit
    given without a county belongs to the outfall's county."""
    case = _locked_case(case, user)
    _require_open(case)
    if unit.county_id is None:
        unit.county_id = case.outfall.county_id
    _check_link_rules(case.outfall, unit, role, via_channel, share_note, share_percent)
    registry_services.save_unit(unit, user=user)
    return link_found_unit(
        case,
        unit,
        user=user,
        role=role,
        via_channel=via_channel,
        share_note=share_note,
        share_percent=share_percent,
    )


@transaction.atomic
def unlink_found_unit(case, link, *, user):
    case = _locked_case(case, user)
    _require_open(case)
    if link.outfall_id != case.outfall_id:
        raise ValidationError({"link": "该关联不属于本案件的排口。"})
    if case.outfall.responsible_entity_id == link.unit_id:
        raise ValidationError({"link": "该单位是排口的责任主体，不能移除关联。"})
    registry_services.unlink_unit(link, user=user)


@transaction.atomic
def conclude_case(case, *, user, basis, entity=None, note=""):
    """结案: the responsible entity and how it was determined, copied to the outfall (VERIFIED → TRACED).

    basis TRACED: the entity must be one of the units linked to the outfall.
    basis GOVERNMENT_FALLBACK: the reason is required; the entity defaults to the county's government
    (or the 经开区 committee); another body (a unit the user can see) may be named instead.
    """
    case = _locked_case(case, user)
    _require_open(case)
    outfall = case.outfall
    note = (note or "").strip()
    errors = {}
    if basis == ResponsibilityBasis.TRACED:
        if entity is None:
            errors["entity"] = "溯源确定责任主体时须选择责任主体单位。"
        elif not OutfallUnitLink.objects.filter(outfall=outfall, unit=entity).exists():
            errors["entity"] = f"“{entity}”不是本排口已关联的排污单位，请先关联再结案。"
    elif basis == ResponsibilityBasis.GOVERNMENT_FALLBACK:
        if not note:
            errors["note"] = "政府兜底须写明无法溯源的原因。"
        if entity is None:
            entity = government_body_for(outfall.county_id)
            if entity is None:
                errors["entity"] = f"{outfall.county.name}没有政府（兜底）单位，请选择或新建承担责任的单位。"
        elif not DischargeUnit.objects.visible_to(user).filter(pk=entity.pk).exists():
            errors["entity"] = "所选单位不在您的可见范围内。"
    else:
        errors["basis"] = "请选择责任主体确定方式（溯源确定或政府兜底）。"
    if len(note) > NOTE_MAX:
        errors["note"] = f"结论说明不超过 {NOTE_MAX} 字（现 {len(note)} 字），会写入台账的责任主体说明。"
    if errors:
        raise ValidationError(errors)

    case.responsible_entity = entity
    case.basis = basis
    case.conclusion = note
    case.status = CaseStatus.CONCLUDED
    case.concluded_by = user
    case.concluded_at = timezone.now()
    case.save()
    record_status_change(
        case, user=user, from_value=CaseStatus.OPEN, to_value=CaseStatus.CONCLUDED, reason=note or str(entity)
    )

    outfall = Outfall.objects.select_for_update().get(pk=outfall.pk)
    outfall.responsible_entity = entity
    outfall.responsibility_basis = basis
    outfall.responsibility_note = note
    outfall._change_reason = "溯源结案"
    registry_services.save_outfall(outfall, user=user, reason="溯源结案")
    if outfall.status == LifecycleStatus.VERIFIED:
        registry_services.set_outfall_state(
            outfall, user=user, workflow=Workflow.TRACING, reason="溯源结案", status=LifecycleStatus.TRACED
        )
    case.outfall = Outfall.objects.get(pk=outfall.pk)
    return case


@transaction.atomic
def reopen_case(case, *, user, reason):
    """Reopen a concluded case (the outfall keeps its entity until the case is concluded again)."""
    case = _locked_case(case, user)
    if case.status != CaseStatus.CONCLUDED:
        raise ValidationError({"status": "只有已结案的案件可以重新开启。"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新开启须写明原因。"})
    case.status = CaseStatus.OPEN
    case.concluded_at = None
    case.concluded_by = None
    case.save(update_fields=["status", "concluded_at", "concluded_by"])
    record_status_change(
        case, user=user, from_value=CaseStatus.CONCLUDED, to_value=CaseStatus.OPEN, reason=reason
    )
    return case


# Dry-weather flow at storm outfalls (registry.dry_weather, through SurveyConfig) ------------------------------
DRY_WEATHER_STEP = "旱天排水证据"


@transaction.atomic
def open_dry_weather_case(outfall, *, user, reason, evidence):
    """Evidence of dry-weather flow at a storm outfall (实施方案（十）): a tracing case with the evidence as a step.

    The outfall's open case gets the step; a concluded case is reopened with the reason, then gets it; an outfall
    without a case gets one, whatever its lifecycle status (the case looks for the sewage behind the storm outfall
    and moves no status until it is concluded). ``user`` None is the platform's own scan; a person must be able
    to edit the outfall. Returns registry.dry_weather.TracingRequest."""
    outfall = Outfall.objects.select_for_update().get(pk=outfall.pk)
    if user is not None:
        _check_outfall_editable(outfall, user)
    case = TracingCase.objects.select_for_update().filter(outfall=outfall).first()
    if case is None:
        case = TracingCase.objects.create(outfall=outfall, opened_by=user)
        record_status_change(case, user=user, from_value="", to_value=CaseStatus.OPEN, reason=reason)
        text = "已立案溯源"
    elif case.status == CaseStatus.CONCLUDED:
        case.status = CaseStatus.OPEN
        case.concluded_at = None
        case.concluded_by = None
        case.save(update_fields=["status", "concluded_at", "concluded_by"])
        record_status_change(
            case, user=user, from_value=CaseStatus.CONCLUDED, to_value=CaseStatus.OPEN, reason=reason
        )
        text = "已重新开启溯源案件"
    else:
        text = "已补充至溯源案件"
    TracingStep.objects.create(
        case=case,
        kind=StepKind.OTHER,
        date=timezone.localdate(),
        findings=f"{DRY_WEATHER_STEP}：{evidence}"[:4000],
        staff="" if user is None else (user.get_full_name() or user.username),
        created_by=user,
    )
    return TracingRequest(
        opened=text == "已立案溯源", text=text, url=reverse("survey:case_detail", args=[case.pk])
    )


def dry_weather_observations(outfall_ids, since=None):
    """Field checks that found a storm outfall's point flowing in dry weather (registry.dry_weather provider)."""
    checks = FieldCheck.objects.filter(
        point__outfall_id__in=outfall_ids,
        point__outfall__type_code=TypeCode.YH,
        dry_weather=True,
        flow=FlowState.FLOWING,
    ).select_related("point")
    if since is not None:
        checks = checks.filter(checked_at__gte=since)
    found = []
    for check in checks:
        details = "，".join(
            text
            for text in (
                check.get_colour_display() if check.colour else "",
                check.get_odour_display() if check.odour else "",
                check.get_turbidity_display() if check.turbidity else "",
                "有油膜" if check.oil_film else "",
                "有泡沫" if check.foam else "",
            )
            if text
        )
        staff = "、".join(str(s) for s in check.staff) if isinstance(check.staff, list) else ""
        found.append(
            Observation(
                outfall_id=check.point.outfall_id,
                observed_at=check.checked_at,
                source="field_check",
                key=f"field_check:{check.pk}",
                evidence=(
                    f"{timezone.localtime(check.checked_at):%Y-%m-%d %H:%M} 现场核查（疑似点 {check.point.number}）旱天排水"
                    + (f"（{details}）" if details else "")
                    + (f"，核查人员：{staff}" if staff else "")
                ),
            )
        )
    return found
