"""一口一策 and 销号: the workflow steps of a rectification plan.

Each step checks permission and state, changes rows inside transaction.atomic and leaves a status-change
row: on the plan (field "status") for every step; the outfall's state (status, measure, progress, merge
target) changes through registry.services.set_outfall_state, one save per step. Messages are Chinese and name the field.

Who does what:
- create_plan / update_plan / add_progress / submit_closeout: whoever may edit the outfall (a county
  officer in their county, a city editor; submit_closeout only county officers and city editors);
- return_closeout / approve_closeout / reopen_closeout: the city bureau only (Scope.can_review_closeout).
  A county officer cannot approve its own close-out.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core.choices import AttachmentKind, Milestone
from outfalls.core.locking import bump_version, claim_version
from outfalls.core.models import Attachment, Deadline
from outfalls.core.scopes import scope_of
from outfalls.core.services import add_attachment, record_status_change, validate_upload
from outfalls.registry.choices import (
    CLOSEOUT_STATUS,
    CLOSEOUT_VIA,
    FINISHED,
    TRACED_OR_LATER,
    LifecycleStatus,
    RectificationMeasure,
    RectificationStatus,
    Workflow,
    storm_measure_error,
)
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.registry.services import set_outfall_state

from .choices import PlanStatus
from .models import MeasureProposal, ProgressUpdate, RectificationPlan
from .proposals import DECIDED

# Plan fields a user sets (create_plan / update_plan).
PLAN_FIELDS = (
    "measure",
    "actions",
    "responsible_unit",
    "responsible_org",
    "deadline",
    "transitional_until",
    "transitional_reason",
    "merge_target",
    "programme",
    "proposal",
)
# Plans whose content may still change and which take progress updates.
OPEN_FOR_WORK = (PlanStatus.IN_PROGRESS, PlanStatus.RETURNED)
# An outfall in one of these states cannot take another one merged into it (registry.choices.FINISHED).
NOT_A_MERGE_TARGET = FINISHED


# Permissions ---------------------------------------------------------------------------------------------
def can_edit_outfall(user, outfall):
    """Plan, edit and report progress: whoever may edit the outfall (editable_by holds only edit grants)."""
    return Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists()


def _check_edit(user, outfall):
    if not can_edit_outfall(user, outfall):
        raise PermissionDenied("您无权修改该排污口的整治方案。")


def can_submit(user, plan):
    return scope_of(user).can_submit_closeout and can_edit_outfall(user, plan.outfall)


def can_review(user):
    """Return, approve and reopen a close-out: the city bureau only."""
    return scope_of(user).can_review_closeout


def _check_review(user):
    if not can_review(user):
        raise PermissionDenied("只有市生态环境局可以审核（退回、通过、重新打开）销号申请。")


def _check_state(plan, allowed, action):
    if plan.status not in allowed:
        names = "、".join(PlanStatus(s).label for s in allowed)
        raise ValidationError(
            {"status": f"方案状态为“{plan.get_status_display()}”，不能{action}（须为：{names}）。"}
        )


def _locked(plan):
    return RectificationPlan.objects.select_for_update().select_related("outfall").get(pk=plan.pk)


def _set_status(plan, to_status, *, user, reason=""):
    from_status = plan.status
    plan.status = to_status
    record_status_change(plan, user=user, from_value=from_status, to_value=to_status, reason=reason)


# Proposals -----------------------------------------------------------------------------------------------
def decided_proposal(outfall):
    """The outfall's latest accepted or overridden measure proposal, or None."""
    return (
        MeasureProposal.objects.filter(outfall=outfall, status__in=DECIDED)
        .order_by("-decided_at", "-id")
        .first()
    )


def proposal_measure(proposal):
    if proposal is None:
        return ""
    return proposal.decided_measure or proposal.measure


def county_deadline(outfall):
    """The county's rectification deadline (core.Deadline: a city default, 2024-12-31 in the demo, or the
    county's own date), or None."""
    return Deadline.due_for(Milestone.RECTIFICATION, outfall.county_id)


def default_deadline(outfall):
    """The deadline a new plan starts with: the county's rectification deadline while it is still ahead;
    None once it has passed (a plan never starts already overdue: the person sets a date)."""
    due = county_deadline(outfall)
    return due if due is not None and due >= timezone.localdate() else None


# Plans ---------------------------------------------------------------------------------------------------
def _validate(plan, user):
    errors = {}
    if not plan.measure:
        errors["measure"] = "请选择整治措施。"
    elif plan.measure not in RectificationMeasure.values:
        errors["measure"] = f"整治措施“{plan.measure}”无效。"
    elif storm_measure_error(plan.outfall.type_code, plan.measure):
        errors["measure"] = storm_measure_error(plan.outfall.type_code, plan.measure)
    if not (plan.actions or "").strip():
        errors["actions"] = "请填写具体整治措施。"
    plan.responsible_org = (plan.responsible_org or "").strip()
    if plan.responsible_unit_id is None and not plan.responsible_org:
        errors["responsible_unit"] = (
            "请选择整治责任单位，或在“整治责任单位（非排污单位）”中填写责任单位名称。"
        )
    elif (
        plan.responsible_unit_id is not None
        and not DischargeUnit.objects.visible_to(user).filter(pk=plan.responsible_unit_id).exists()
    ):
        errors["responsible_unit"] = "所选整治责任单位不存在或不在您的权限范围内。"
    if plan.deadline is None:
        due = county_deadline(plan.outfall)
        errors["deadline"] = (
            f"请填写整治期限：本县区的整治期限（{due:%Y-%m-%d}）已过，请另定期限。"
            if due is not None
            else "请填写整治期限（本县区未设置默认期限）。"
        )
    plan.transitional_reason = (plan.transitional_reason or "").strip()
    if plan.transitional_until and not plan.transitional_reason:
        errors["transitional_reason"] = "设置过渡期时须填写过渡期理由。"
    if plan.transitional_reason and not plan.transitional_until:
        errors["transitional_until"] = "填写了过渡期理由，请同时填写过渡期截止日期。"
    if plan.transitional_until and plan.deadline and plan.transitional_until < plan.deadline:
        errors["transitional_until"] = "过渡期截止日期不能早于整治期限。"
    if plan.measure == RectificationMeasure.MERGE:
        target = plan.merge_target if plan.merge_target_id else None
        if target is None:
            errors["merge_target"] = "措施为“清理合并”时，须选择并入的排污口。"
        elif target.pk == plan.outfall_id:
            errors["merge_target"] = "并入排口不能是本排口。"
        elif not Outfall.objects.visible_to(user).filter(pk=target.pk).exists():
            errors["merge_target"] = "所选并入排口不存在或不在您的权限范围内。"
        elif target.status in NOT_A_MERGE_TARGET:
            errors["merge_target"] = (
                f"并入排口“{target}”状态为“{target.get_status_display()}”，不能作为并入目标。"
            )
    elif plan.merge_target_id is not None:
        errors["merge_target"] = "只有措施为“清理合并”时才填写并入排口。"
    if plan.proposal_id is not None and plan.proposal.outfall_id != plan.outfall_id:
        errors["proposal"] = "来源建议不属于该排污口。"
    if errors:
        raise ValidationError(errors)


def _outfall_into_rectification(outfall, *, user, measure, reason):
    """The outfall enters 整治中 with the plan's measure (traced or classified outfalls, or kept/finished ones
    whose rectification starts again); suspected and verified ones must be traced first."""
    if outfall.status not in TRACED_OR_LATER:
        raise ValidationError(
            {
                "outfall": f"排污口状态为“{outfall.get_status_display()}”，须先完成核实、溯源（溯源结案）后才能制定整治方案。"
            }
        )
    return set_outfall_state(
        outfall,
        user=user,
        workflow=Workflow.REMEDIATION,
        reason=reason,
        status=LifecycleStatus.RECTIFYING,
        measure=measure,
        rectification_status=RectificationStatus.IN_PROGRESS,
        merged_into=None,
    )


@transaction.atomic
def create_plan(outfall, *, user, **fields):
    """一口一策 for one outfall. `fields`: PLAN_FIELDS (measure defaults to the decided proposal's,
    deadline to the county's rectification deadline). The outfall moves into 整治中."""
    outfall = Outfall.objects.select_for_update().get(pk=outfall.pk)
    _check_edit(user, outfall)
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    if RectificationPlan.objects.filter(outfall=outfall).exists():
        raise ValidationError({"outfall": f"排污口“{outfall}”已有整治方案（一口一策），请修改原方案。"})
    plan = RectificationPlan(outfall=outfall, created_by=user, status=PlanStatus.IN_PROGRESS)
    for name, value in fields.items():
        setattr(plan, name, value)
    if plan.proposal_id is None:
        plan.proposal = decided_proposal(outfall)
    if not plan.measure:
        plan.measure = proposal_measure(plan.proposal)
    if plan.deadline is None:
        plan.deadline = default_deadline(outfall)
    _validate(plan, user)
    plan.save()
    record_status_change(plan, user=user, from_value="", to_value=plan.status, reason="制定整治方案")
    _outfall_into_rectification(
        outfall, user=user, measure=plan.measure, reason=f"制定整治方案：{plan.get_measure_display()}"
    )
    return plan


@transaction.atomic
def update_plan(plan, *, user, expected_version=None, **fields):
    """Change an open plan. expected_version: the version the editing form was opened at (a save over
    someone else's meanwhile is refused, naming what changed: core.locking)."""
    plan = _locked(plan)
    _check_edit(user, plan.outfall)
    _check_state(plan, OPEN_FOR_WORK, "修改")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(plan, name, value)
    _validate(plan, user)
    if expected_version is None:
        bump_version(plan)
    else:
        claim_version(plan, expected_version, user=user, sent=fields)
    plan.save()
    outfall = plan.outfall
    if outfall.rectification_measure != plan.measure:
        set_outfall_state(
            outfall,
            user=user,
            workflow=Workflow.REMEDIATION,
            reason=f"修改整治方案：{plan.get_measure_display()}",
            measure=plan.measure,
        )
    return plan


# Progress ------------------------------------------------------------------------------------------------
def _check_files(files, *, kind, field):
    """Validate every upload before anything is written (no stray files when one is refused)."""
    for upload in files or ():
        try:
            validate_upload(upload, kind)
        except ValidationError as error:
            messages = error.message_dict.get("file") if hasattr(error, "error_dict") else error.messages
            raise ValidationError({field: messages}) from None


def _attach_all(obj, files, *, user, kind):
    for upload in files or ():
        add_attachment(obj, upload, user=user, kind=kind)


@transaction.atomic
def add_progress(plan, *, user, date, percent, note, photos=(), documents=()):
    """A dated progress report; photos (整治后照片) and documents attach to it. The plan's percent done
    follows its latest report."""
    plan = _locked(plan)
    _check_edit(user, plan.outfall)
    _check_state(plan, OPEN_FOR_WORK, "填报进展")
    errors = {}
    if date is None:
        errors["date"] = "请填写进展日期。"
    elif date > timezone.localdate():
        errors["date"] = "进展日期不能晚于今天。"
    if percent is None:
        errors["percent"] = "请填写完成进度。"
    elif not 0 <= percent <= 100:
        errors["percent"] = "完成进度须在 0 到 100 之间。"
    if not (note or "").strip():
        errors["note"] = "请填写进展说明。"
    if errors:
        raise ValidationError(errors)
    _check_files(photos, kind=AttachmentKind.PHOTO_AFTER, field="photos")
    _check_files(documents, kind=AttachmentKind.DOCUMENT, field="documents")
    update = ProgressUpdate.objects.create(
        plan=plan, date=date, percent=percent, note=note.strip(), created_by=user
    )
    _attach_all(update, photos, user=user, kind=AttachmentKind.PHOTO_AFTER)
    _attach_all(update, documents, user=user, kind=AttachmentKind.DOCUMENT)
    latest = plan.updates.order_by("-date", "-id").first()
    plan.percent_done = latest.percent
    plan.save(update_fields=[bump_version(plan), "percent_done", "updated_at"])
    return update


def evidence_for(plan):
    """Attachments on the plan and on its progress updates (the close-out evidence), newest first."""
    types = ContentType.objects.get_for_models(RectificationPlan, ProgressUpdate)
    update_ids = list(plan.updates.values_list("pk", flat=True))
    return (
        Attachment.objects.filter(content_type=types[RectificationPlan], object_id=plan.pk)
        | Attachment.objects.filter(content_type=types[ProgressUpdate], object_id__in=update_ids)
    ).order_by("-uploaded_at", "-id")


# Close-out (销号) ------------------------------------------------------------------------------------------
@transaction.atomic
def submit_closeout(plan, *, user, note="", files=()):
    """The county submits the completion: percent 100 and at least one piece of evidence."""
    plan = _locked(plan)
    if not can_submit(user, plan):
        raise PermissionDenied("只有本县区工作人员或市生态环境局可以申请销号。")
    _check_state(plan, OPEN_FOR_WORK, "申请销号")
    if plan.percent_done < 100:
        raise ValidationError(
            {"percent_done": f"完成进度为 {plan.percent_done}%，须填报 100% 的进展后才能申请销号。"}
        )
    _check_files(files, kind=AttachmentKind.DOCUMENT, field="files")
    if not files and not evidence_for(plan).exists():
        raise ValidationError({"files": "申请销号须至少上传一份佐证材料（整治后照片或文件）。"})
    _attach_all(plan, files, user=user, kind=AttachmentKind.DOCUMENT)
    plan.submission_note = (note or "").strip()
    plan.submitted_at = timezone.now()
    _set_status(plan, PlanStatus.SUBMITTED, user=user, reason=plan.submission_note or "申请销号")
    plan.save(update_fields=[bump_version(plan), "status", "submission_note", "submitted_at", "updated_at"])
    return plan


@transaction.atomic
def return_closeout(plan, *, user, reason):
    _check_review(user)
    plan = _locked(plan)
    _check_state(plan, (PlanStatus.SUBMITTED,), "退回")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "退回销号申请须填写退回理由。"})
    plan.return_reason = reason
    _set_status(plan, PlanStatus.RETURNED, user=user, reason=reason)
    plan.save(update_fields=[bump_version(plan), "status", "return_reason", "updated_at"])
    return plan


def closeout_keeps(plan):
    """True when the approved close-out leaves the outfall kept (规范整治, 无需整治)."""
    return CLOSEOUT_STATUS[RectificationMeasure(plan.measure)] == LifecycleStatus.KEPT


def closeout_gaps(plan, *, register=False):
    """What the plan promised that the ledger does not record yet, as Chinese lines (shown to the approver
    before the approval): for an outfall that is kept (规范整治, 无需整治), its sign and its registration
    (登记建档; `register`: the approver registers it with the approval)."""
    outfall = plan.outfall
    gaps = []
    if closeout_keeps(plan):
        if not outfall.sign_installed:
            gaps.append("未设置标识牌（台账中“已设置标识牌”未勾选，须由县区在台账中更新）")
        if not outfall.registered and not register:
            gaps.append("未完成登记建档（可在审核时一并登记）")
    return gaps


@transaction.atomic
def approve_closeout(plan, *, user, note="", register=False, accept_gaps=False):
    """The city bureau approves (销号): what it means per measure is CLOSEOUT_STATUS (registry.choices):
    取缔 → removed and closed out; 合并 → merged into the plan's target; 规范整治 / 无需整治 → kept (and
    registered when `register`). The outfall's state changes in one step (registry.set_outfall_state).
    Promises the ledger does not record yet (closeout_gaps) stop the approval unless `accept_gaps`, with a
    note saying why."""
    _check_review(user)
    plan = _locked(plan)
    _check_state(plan, (PlanStatus.SUBMITTED,), "审核通过")
    outfall = plan.outfall
    measure = RectificationMeasure(plan.measure)
    target = None
    if measure == RectificationMeasure.MERGE:
        target = plan.merge_target
        if target is None:
            raise ValidationError({"merge_target": "方案未填写并入排口，请退回后修改方案。"})
        if target.status in NOT_A_MERGE_TARGET:
            raise ValidationError(
                {
                    "merge_target": f"并入排口“{target}”现为“{target.get_status_display()}”，"
                    "不能再并入，请退回后修改方案。"
                }
            )
    note = (note or "").strip()
    register = bool(register) and closeout_keeps(plan)
    gaps = closeout_gaps(plan, register=register)
    if gaps and not accept_gaps:
        raise ValidationError({"gaps": "尚未完成：" + "；".join(gaps) + "。请退回方案，或确认后仍予销号。"})
    if gaps and not note:
        raise ValidationError({"note": "存在未完成事项仍予销号时，须在审核意见中说明理由。"})
    reason = note or f"销号：{plan.get_measure_display()}"
    state = {
        "status": CLOSEOUT_STATUS[measure],
        "measure": measure,
        "rectification_status": RectificationStatus.COMPLETED,
        "merged_into": target,
    }
    if register:
        state["registered"] = True
    set_outfall_state(
        outfall, user=user, workflow=Workflow.CLOSEOUT, reason=reason, via=CLOSEOUT_VIA.get(measure), **state
    )
    plan.approved_at = timezone.now()
    plan.approved_by = user
    _set_status(plan, PlanStatus.APPROVED, user=user, reason=reason)
    plan.save(update_fields=[bump_version(plan), "status", "approved_at", "approved_by", "updated_at"])
    return plan


@transaction.atomic
def reopen_closeout(plan, *, user, reason):
    """The city bureau reopens an approved close-out: the outfall goes back to 整治中."""
    _check_review(user)
    plan = _locked(plan)
    _check_state(plan, (PlanStatus.APPROVED,), "重新打开")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新打开销号须填写理由。"})
    set_outfall_state(
        plan.outfall,
        user=user,
        workflow=Workflow.REMEDIATION,
        reason=f"销号重新打开：{reason}",
        status=LifecycleStatus.RECTIFYING,
        rectification_status=RectificationStatus.IN_PROGRESS,
        merged_into=None,
    )
    plan.approved_at = None
    plan.approved_by = None
    _set_status(plan, PlanStatus.IN_PROGRESS, user=user, reason=reason)
    plan.save(update_fields=[bump_version(plan), "status", "approved_at", "approved_by", "updated_at"])
    return plan
