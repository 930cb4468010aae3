"""The setup review's workflow steps (设置审核、登记) and the permit register. Pages, the API, the import and the
demo all call these.

Who does what (Scope rules in core/scopes.py):
- file, edit, submit, withdraw: the applicant's side: the responsible entity for its own unit, the county
  officer for a unit of their county, the city bureau's editors (SetupApplication.objects.editable_by);
- forward (转报) or return a submitted application: the county officer of its county, or the city bureau;
- consult the water authority, return one under review, decide, withhold a decision, keep permits: the city
  bureau (Scope.can_decide_setup).

An entity's submission waits for its county (待县区转报); a county's or the bureau's goes straight to review.
Reaching the bureau starts the legal time limit: PERMITS_DECISION_WORKING_DAYS Chinese working days
(core/workdays.py). Each step leaves a status-change row on the application. The decision writes the outfall's
approval fields through registry.services.set_outfall_state(workflow=Workflow.SETUP_REVIEW), after creating
the ledger entry of a new outfall (or updating the one changed) through registry.services.save_outfall.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from outfalls.core.choices import AttachmentKind
from outfalls.core.locking import bump_version, claim_version
from outfalls.core.models import Attachment
from outfalls.core.scopes import scope_of
from outfalls.core.services import add_attachment, attachments_for, record_status_change, validate_upload
from outfalls.core.workdays import add_working_days
from outfalls.registry import checks as ledger_checks
from outfalls.registry import services as ledger
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis, Workflow
from outfalls.registry.classification import LEVEL2_CODE, LEVEL3_PARENT, Level2, Level3
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.registry.validators import validate_permit_number

from . import checks
from .choices import (
    DECIDED,
    EDITABLE,
    MATERIALS,
    OUTCOME_STATUS,
    ApplicationKind,
    ApplicationStatus,
    Authority,
    ChangeItem,
    Opinion,
    Outcome,
    Procedure,
    procedure_for,
)
from .models import (
    ApplicationMaterial,
    ApplicationPollutant,
    Consultation,
    Decision,
    DecisionCondition,
    SetupApplication,
)

# Fields of an application its filer sets (forms, the API).
APPLICATION_FIELDS = (
    "kind",
    "change_items",
    "authority",
    "national_basis",
    "applicant",
    "county",
    "outfall",
    "outfall_name",
    "type_level2",
    "type_level3",
    "lon",
    "lat",
    "water_body",
    "zone",
    "entry_mode",
    "discharge_mode",
    "daily_volume_m3",
    "production_to_municipal",
    "exception_reason",
    "description",
)
NOT_YOURS = "该申请不在您的办理范围内。"


# Permissions -------------------------------------------------------------------------------------------------
def can_file(user):
    return scope_of(user).can_file_setup


def can_edit(user, application):
    return (
        application.status in EDITABLE
        and SetupApplication.objects.editable_by(user).filter(pk=application.pk).exists()
    )


def can_forward(user, application):
    scope = scope_of(user)
    return application.status == ApplicationStatus.SUBMITTED and (
        scope.can_edit_citywide or application.county_id in scope.county_ids
    )


def can_decide(user):
    return scope_of(user).can_decide_setup


def _check_editable(user, application):
    if not SetupApplication.objects.editable_by(user).filter(pk=application.pk).exists():
        raise PermissionDenied(NOT_YOURS)


def _check_decider(user):
    if not can_decide(user):
        raise PermissionDenied("只有市生态环境局可以征求意见、作出审核决定和决定是否公开。")


def _check_status(application, allowed, action):
    if application.status not in allowed:
        names = "、".join(ApplicationStatus(s).label for s in allowed)
        raise ValidationError(
            {"status": f"申请状态为“{application.get_status_display()}”，不能{action}（须为：{names}）。"}
        )


def _locked(application):
    return SetupApplication.objects.select_for_update().get(pk=application.pk)


def _set_status(application, to_status, *, user, reason=""):
    old = application.status
    application.status = to_status
    record_status_change(application, user=user, from_value=old, to_value=to_status, reason=reason)


# Filing and editing --------------------------------------------------------------------------------------------
def _next_number(today):
    prefix = f"SQ{today:%Y}"
    last = (
        SetupApplication.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{(int(last[len(prefix) :]) + 1 if last else 1):04d}"


def normalise(application):
    """Type code from the level-2 type, level 2 from level 3, the procedure from the type, the county from the
    outfall changed (改设、扩大)."""
    if application.type_level3 and not application.type_level2:
        application.type_level2 = LEVEL3_PARENT[application.type_level3]
    if application.type_level2:
        application.type_code = LEVEL2_CODE[Level2(application.type_level2)]
        application.procedure = procedure_for(application.type_level2)
    if application.outfall_id and application.kind != ApplicationKind.NEW:
        application.county_id = application.outfall.county_id
    application.change_items = sorted({str(v) for v in (application.change_items or [])})
    return application


def validate_application(application, user):
    """{field: Chinese message} for everything wrong with the application as a draft (empty: it may be saved)."""
    errors = {}
    normalise(application)
    try:
        application.full_clean(
            exclude=["applicant", "county", "outfall", "water_body", "zone", "procedure", "number", "status"]
        )
    except ValidationError as error:
        errors.update({k: " ".join(v) for k, v in error.message_dict.items()})
    scope = scope_of(user)
    if application.applicant_id is None:
        errors.setdefault("applicant", "请选择申请单位（责任主体）。")
    elif not scope.can_edit_citywide:
        units = DischargeUnit.objects.visible_to(user)
        if scope.unit_ids and not scope.county_ids:
            units = units.filter(pk__in=scope.unit_ids)
        if not units.filter(pk=application.applicant_id).exists():
            errors["applicant"] = "责任主体只能为本单位申请；县区只能为本辖区的排污单位申请。"
    if application.county_id is None:
        errors.setdefault("county", "请选择所在县区。")
    elif scope.county_ids and not scope.can_edit_citywide and not scope.unit_ids:
        if application.county_id not in scope.county_ids:
            errors["county"] = "县区只能填报本辖区的申请。"
    if application.water_body_id is None:
        errors.setdefault("water_body", "请选择受纳水体。")
    if not application.type_level2:
        errors.setdefault("type_level2", "请选择排污口类型（二级分类）。")
    elif (
        application.type_level3
        and LEVEL3_PARENT.get(Level3(application.type_level3)) != application.type_level2
    ):
        errors["type_level3"] = f"三级分类“{Level3(application.type_level3).label}”不属于所选二级分类。"
    bad_items = [v for v in application.change_items if v not in ChangeItem.values]
    if bad_items:
        errors["change_items"] = f"改设内容“{'、'.join(bad_items)}”无效。"
    if application.kind == ApplicationKind.NEW:
        if application.change_items:
            errors["change_items"] = "只有改设时填写改设内容。"
    else:
        if application.outfall_id is None:
            errors["outfall"] = f"{application.get_kind_display()}须选择台账中的入河排污口。"
        elif not Outfall.objects.visible_to(user).filter(pk=application.outfall_id).exists():
            errors["outfall"] = "所选入河排污口不存在或不在您的权限范围内。"
        if application.kind == ApplicationKind.CHANGE and not application.change_items:
            errors["change_items"] = "改设须选择改设内容（位置、类型、排放方式、排放量）。"
    if application.outfall_id and application.kind == ApplicationKind.NEW:
        if not Outfall.objects.visible_to(user).filter(pk=application.outfall_id).exists():
            errors["outfall"] = "所选入河排污口不存在或不在您的权限范围内。"
    if application.authority == Authority.NATIONAL and not application.national_basis.strip():
        errors["national_basis"] = "审批权限为国家时，须写明属国家设置审核权限的依据。"
    if (
        "lon" not in errors
        and "lat" not in errors
        and application.lon is not None
        and application.lat is not None
    ):
        problem = ledger_checks.outside_city(application.lon, application.lat)
        if problem:
            errors["lon"] = problem + "，请核对坐标和坐标系。"
    if application.zone_id and application.zone.water_body_id not in (None, application.water_body_id):
        errors["zone"] = f"水功能区“{application.zone.name}”不在所选受纳水体上。"
    return errors


def _sync_materials(application):
    """The checklist of the application's procedure: missing items added (files kept on the others)."""
    wanted = dict(MATERIALS[Procedure(application.procedure)])
    existing = {m.item: m for m in application.materials.all()}
    for item, required in wanted.items():
        material = existing.get(item)
        if material is None:
            ApplicationMaterial.objects.create(application=application, item=item, required=required)
        elif material.required != required:
            material.required = required
            material.save(update_fields=["required"])
    for item, material in existing.items():
        if item not in wanted and material.required:
            material.required = False
            material.save(update_fields=["required"])


def _save_pollutants(application, pollutants):
    """Replace the pollutant rows: pollutants is a list of dicts (parameter, concentration, unit, annual_load_t)."""
    errors, rows = [], []
    for n, row in enumerate(pollutants, 1):
        parameter = str(row.get("parameter") or "").strip()
        if not parameter:
            continue
        item = ApplicationPollutant(
            application=application,
            parameter=parameter[:32],
            concentration=row.get("concentration"),
            unit=(str(row.get("unit") or "").strip() or "mg/L")[:16],
            annual_load_t=row.get("annual_load_t"),
        )
        try:
            item.full_clean(exclude=["application"])
        except ValidationError as error:
            errors += [f"第 {n} 个污染物（{parameter}）：{m}" for m in error.messages]
        rows.append(item)
    if errors:
        raise ValidationError({"pollutants": errors})
    application.pollutants.all().delete()
    ApplicationPollutant.objects.bulk_create(rows)


@transaction.atomic
def save_application(application, *, user, pollutants=None, expected_version=None, sent=None):
    """Create (no pk) or change a draft or returned application. pollutants: None keeps them, a list replaces
    them. A new one gets its number and the materials checklist of its procedure."""
    creating = application.pk is None
    if creating:
        if not can_file(user):
            raise PermissionDenied("您的角色不能填报入河排污口设置申请。")
        application.status = ApplicationStatus.DRAFT
        application.filed_by = user if user.is_authenticated else None
    else:
        old = SetupApplication.objects.get(pk=application.pk)
        _check_editable(user, old)
        _check_status(old, EDITABLE, "修改")
    errors = validate_application(application, user)
    if errors:
        raise ValidationError(errors)
    if expected_version is not None:
        claim_version(application, expected_version, user=user, sent=sent)
    elif not creating:
        bump_version(application)
    if creating:
        today = timezone.localdate()
        for attempt in range(5):
            application.number = _next_number(today)
            try:
                with transaction.atomic():
                    application.save()
                break
            except IntegrityError:
                if attempt == 4:
                    raise
    else:
        application.save()
    if not SetupApplication.objects.editable_by(user).filter(pk=application.pk).exists():
        raise PermissionDenied("申请的县区或申请单位不在您的办理范围内。")
    if pollutants is not None:
        _save_pollutants(application, pollutants)
    _sync_materials(application)
    if creating:
        record_status_change(
            application, user=user, from_value="", to_value=application.status, reason="填报"
        )
    return application


def material_files(application):
    """{material id: [attachments]} for the application's checklist (one query)."""
    from django.contrib.contenttypes.models import ContentType

    ids = list(application.materials.values_list("pk", flat=True))
    files = {}
    rows = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(ApplicationMaterial), object_id__in=ids
    ).order_by("id")
    for attachment in rows:
        files.setdefault(attachment.object_id, []).append(attachment)
    return files


@transaction.atomic
def add_material_file(material, upload, *, user, title=""):
    application = _locked(material.application)
    _check_editable(user, application)
    _check_status(application, EDITABLE, "上传材料")
    try:
        validate_upload(upload, AttachmentKind.DOCUMENT)
    except ValidationError as error:
        raise ValidationError({"file": error.message_dict.get("file", error.messages)}) from None
    return add_attachment(material, upload, user=user, kind=AttachmentKind.DOCUMENT, title=title)


def missing_materials(application):
    files = material_files(application)
    return [m for m in application.materials.all() if m.required and not files.get(m.pk)]


# Steps -----------------------------------------------------------------------------------------------------------
def _start_clock(application):
    """The application reaches the bureau: the legal time limit starts (city decisions only)."""
    if application.authority != Authority.CITY:
        application.accepted_on = timezone.localdate()
        application.due_on = None
        application.time_limit_days = None
        return
    days = settings.PERMITS_DECISION_WORKING_DAYS
    application.accepted_on = timezone.localdate()
    application.time_limit_days = days
    application.due_on = add_working_days(application.accepted_on, days)


def submission_problems(application, results):
    """What stops a submission, as {field: message}: blocking checks, required materials without a file, no
    pollutant."""
    problems = {}
    stops = checks.blocking(application, results)
    if stops:
        problems["checks"] = [r.message for r in stops]
    missing = missing_materials(application)
    if missing:
        problems["materials"] = (
            "须上传的材料尚未上传：" + "、".join(m.get_item_display() for m in missing) + "。"
        )
    if not application.pollutants.exists():
        problems["pollutants"] = "请填写至少一项主要污染物及其排放浓度。"
    return problems


@transaction.atomic
def submit(application, *, user):
    """Run the checks and submit: an entity's waits for its county; a county's or the bureau's goes to review."""
    application = _locked(application)
    _check_editable(user, application)
    _check_status(application, EDITABLE, "提交")
    errors = validate_application(application, user)
    if errors:
        raise ValidationError(errors)
    results = checks.run_checks(application)
    problems = submission_problems(application, results)
    if problems:
        raise ValidationError(problems)
    if application.zone_id is None:
        zone = checks.Context(application).zone
        application.zone = zone
    application.check_results = [r.as_dict() for r in results]
    application.consultation_required = checks.needs_consultation(results)
    application.submitted_at = timezone.now()
    application.return_reason = ""
    scope = scope_of(user)
    if scope.can_edit_citywide or application.county_id in scope.county_ids:
        _start_clock(application)
        _set_status(
            application,
            ApplicationStatus.UNDER_REVIEW,
            user=user,
            reason="提交（县区或市局填报，直接进入审查）",
        )
    else:
        _set_status(application, ApplicationStatus.SUBMITTED, user=user, reason="提交，待县区转报")
    application.save()
    return application


@transaction.atomic
def forward(application, *, user, note=""):
    """The county forwards a submitted application to the city bureau (转报); the time limit starts."""
    application = _locked(application)
    if not can_forward(user, application):
        _check_status(application, (ApplicationStatus.SUBMITTED,), "转报")
        raise PermissionDenied("只有申请所在县区或市生态环境局可以转报。")
    _start_clock(application)
    _set_status(
        application, ApplicationStatus.UNDER_REVIEW, user=user, reason=(note or "").strip() or "县区转报"
    )
    application.save()
    return application


@transaction.atomic
def return_application(application, *, user, reason):
    """Back to the applicant for correction (退回补正): by the county while it waits for forwarding, by the bureau
    while under review. The time limit stops; it starts again when the application comes back."""
    application = _locked(application)
    reason = (reason or "").strip()
    if application.status == ApplicationStatus.SUBMITTED:
        if not can_forward(user, application):
            raise PermissionDenied("只有申请所在县区或市生态环境局可以退回。")
    elif application.status == ApplicationStatus.UNDER_REVIEW:
        _check_decider(user)
    else:
        _check_status(application, (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW), "退回")
    if not reason:
        raise ValidationError({"reason": "退回须写明须补正的内容。"})
    application.return_reason = reason
    application.due_on = application.accepted_on = application.time_limit_days = None
    _set_status(application, ApplicationStatus.RETURNED, user=user, reason=reason)
    application.save()
    return application


@transaction.atomic
def withdraw(application, *, user, reason=""):
    application = _locked(application)
    _check_editable(user, application)
    if not application.is_open:
        _check_status(
            application, (*EDITABLE, ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW), "撤回"
        )
    _set_status(
        application, ApplicationStatus.WITHDRAWN, user=user, reason=(reason or "").strip() or "申请人撤回"
    )
    application.due_on = None
    application.save()
    return application


# Consultation ------------------------------------------------------------------------------------------------------
CONSULTATION_FIELDS = ("authority", "sent_on", "replied_on", "opinion", "reply")


@transaction.atomic
def save_consultation(application, *, user, consultation=None, files=(), **fields):
    """Record a consultation of the water authority (意见征询), or its reply: the body, the date sent, and when
    answered the date, the opinion, the reply and its attachment."""
    _check_decider(user)
    application = _locked(application)
    _check_status(application, (ApplicationStatus.UNDER_REVIEW,), "征求意见")
    unknown = set(fields) - set(CONSULTATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown consultation fields: {sorted(unknown)}")
    if consultation is None:
        consultation = Consultation(application=application, created_by=user)
    elif consultation.application_id != application.pk:
        raise PermissionDenied(NOT_YOURS)
    for name, value in fields.items():
        setattr(consultation, name, value.strip() if isinstance(value, str) else value)
    errors = {}
    try:
        consultation.full_clean(exclude=["application", "created_by"])
    except ValidationError as error:
        errors.update({k: " ".join(v) for k, v in error.message_dict.items()})
    today = timezone.localdate()
    if consultation.sent_on and consultation.sent_on > today:
        errors["sent_on"] = "发函日期不能晚于今天。"
    answered_any = consultation.replied_on or consultation.opinion or consultation.reply
    if answered_any:
        if not consultation.replied_on:
            errors["replied_on"] = "记录回复时须填写回复日期。"
        elif consultation.sent_on and consultation.replied_on < consultation.sent_on:
            errors["replied_on"] = "回复日期不能早于发函日期。"
        elif consultation.replied_on > today:
            errors["replied_on"] = "回复日期不能晚于今天。"
        if not consultation.opinion:
            errors["opinion"] = "记录回复时须选择意见（同意、有条件同意、不同意）。"
        if not consultation.reply:
            errors["reply"] = "记录回复时须填写回复意见。"
    for upload in files or ():
        try:
            validate_upload(upload, AttachmentKind.DOCUMENT)
        except ValidationError as error:
            errors["files"] = " ".join(error.message_dict.get("file", error.messages))
    if errors:
        raise ValidationError(errors)
    consultation.save()
    for upload in files or ():
        add_attachment(consultation, upload, user=user, kind=AttachmentKind.DOCUMENT, title="回复函")
    what = "记录意见征询回复" if consultation.answered else "征求意见"
    record_status_change(
        application,
        user=user,
        from_value=application.status,
        to_value=application.status,
        reason=f"{what}：{consultation.authority}",
    )
    return consultation


def consultation_state(application):
    """(complete, message): a consultation the decision needs has its reply and the reply's attachment."""
    if not application.consultation_required:
        return True, ""
    answered = [c for c in application.consultations.all() if c.answered]
    if not answered:
        return (
            False,
            "须先征求流域管理机构或水行政主管部门意见，并记录回复（回复日期、意见、回复内容和回复函）。",
        )
    with_file = [c for c in answered if attachments_for(c).exists()]
    if not with_file:
        return False, "意见征询的回复须附回复函（附件）。"
    return True, ""


def latest_opinion(application):
    answered = [c for c in application.consultations.all() if c.answered]
    return max(answered, key=lambda c: (c.replied_on, c.pk)).opinion if answered else ""


# Decision -------------------------------------------------------------------------------------------------------------
def _outcome_errors(application, outcome, number, decided_on, reasons, issuing_authority, permit_number):
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = "请选择审核决定。"
        return errors
    if outcome == Outcome.APPROVE and application.procedure != Procedure.APPROVAL:
        errors["outcome"] = f"该排口类型（{application.type_label}）适用登记程序，应“予以登记”。"
    if outcome == Outcome.REGISTER and application.procedure != Procedure.REGISTRATION:
        errors["outcome"] = f"该排口类型（{application.type_label}）须经审批，应“批准设置”或“不予批准”。"
    if outcome in (Outcome.APPROVE, Outcome.REGISTER) and not number:
        errors["number"] = "批准或登记须填写批复文号或备案编号。"
    if outcome == Outcome.REFUSE and not reasons:
        errors["reasons"] = "不予批准须写明理由。"
    if decided_on is None:
        errors["decided_on"] = "请填写决定日期。"
    elif decided_on > timezone.localdate():
        errors["decided_on"] = "决定日期不能晚于今天。"
    if application.authority == Authority.NATIONAL and not issuing_authority:
        errors["issuing_authority"] = (
            "国家审批的申请须填写决定机关（如 生态环境部海河流域北海海域生态环境监督管理局）。"
        )
    if permit_number:
        try:
            validate_permit_number(permit_number)
        except ValidationError as error:
            errors["permit_number"] = " ".join(error.messages)
    return errors


def _conditions(text):
    return [line.strip(" \t;；") for line in (text or "").splitlines() if line.strip(" \t;；")]


@transaction.atomic
def decide(
    application,
    *,
    user,
    outcome,
    number="",
    decided_on=None,
    conditions="",
    conditions_due=None,
    reasons="",
    permit_number="",
    issuing_authority="",
):
    """Approve (批复文号, conditions, each due by conditions_due), refuse (reasons) or register (备案编号).

    The city bureau decides its own applications and records the state's (authority national: recorded). An
    approval or registration of a city application needs no blocking check now (a refusal is always possible),
    the water authority's answered consultation when one was required, and no 不同意 from it. It writes the
    outfall's approval fields (registered, approval date, number, permit number) through set_outfall_state
    (Workflow.SETUP_REVIEW), creating the ledger entry of a new outfall first (save_outfall) or applying a
    change's new position, type, mode and volume to the outfall changed."""
    _check_decider(user)
    application = _locked(application)
    _check_status(application, (ApplicationStatus.UNDER_REVIEW,), "作出决定")
    number, reasons = (number or "").strip(), (reasons or "").strip()
    issuing_authority = (issuing_authority or "").strip()
    permit_number = (permit_number or "").strip().upper()
    decided_on = decided_on or timezone.localdate()
    errors = _outcome_errors(
        application, outcome, number, decided_on, reasons, issuing_authority, permit_number
    )
    grants = outcome in (Outcome.APPROVE, Outcome.REGISTER)
    if grants and not errors and application.authority == Authority.CITY:
        stops = checks.blocking(application, checks.run_checks(application))
        if stops:
            errors["checks"] = [r.message for r in stops]
        complete, message = consultation_state(application)
        if not complete:
            errors["consultation"] = message
        elif latest_opinion(application) == Opinion.DISAGREE:
            errors["consultation"] = "水利部门意见为“不同意”，不能批准或登记。"
    if errors:
        raise ValidationError(errors)
    decision = Decision.objects.create(
        application=application,
        outcome=outcome,
        number=number,
        decided_on=decided_on,
        conditions=conditions.strip() if outcome == Outcome.APPROVE else "",
        reasons=reasons if outcome == Outcome.REFUSE else "",
        permit_number=permit_number,
        recorded=application.authority == Authority.NATIONAL,
        issuing_authority=issuing_authority,
        decided_by=user,
    )
    if outcome == Outcome.APPROVE:
        DecisionCondition.objects.bulk_create(
            [
                DecisionCondition(decision=decision, text=t[:300], due_on=conditions_due)
                for t in _conditions(conditions)
            ]
        )
    label = Outcome(outcome).label
    reason = f"{label}：{number}" if number else label
    if grants:
        outfall = _write_ledger(application, decision, user=user)
        application.outfall = outfall
    _set_status(application, OUTCOME_STATUS[Outcome(outcome)], user=user, reason=reason)
    application.save()
    return decision


def _write_ledger(application, decision, *, user):
    """The outfall's ledger entry: created for a new outfall, its fields changed for a change or enlargement;
    then its approval fields, through the one writer of the outfall's state."""
    label = f"设置审核（{application.number}）{decision.get_outcome_display()}"
    if application.outfall_id is None:
        outfall = Outfall(
            county=application.county,
            lon=application.lon,
            lat=application.lat,
            water_body=application.water_body,
            type_code=application.type_code,
            type_level2=application.type_level2,
            type_level3=application.type_level3,
            entry_mode=application.entry_mode,
            daily_volume_m3=application.daily_volume_m3,
            responsible_entity=application.applicant,
            responsibility_basis=ResponsibilityBasis.DECLARED,
            status=LifecycleStatus.VERIFIED,
            name_auto=not application.outfall_name,
            name=application.outfall_name,
            landmark=application.applicant.name[:64],
            source_key=f"SETUP-{application.number}",
            notes=f"经入河排污口设置审核{decision.get_outcome_display()}（申请编号 {application.number}）。",
        )
        ledger.save_outfall(outfall, user=user, reason=label, confirm_placement=True)
        ledger.link_unit(outfall, application.applicant, user=user, role=LinkRole.OWNER)
    else:
        outfall = Outfall.objects.get(pk=application.outfall_id)
        changed = False
        if application.kind != ApplicationKind.NEW:
            updates = {
                "lon": application.lon,
                "lat": application.lat,
                "water_body_id": application.water_body_id,
                "daily_volume_m3": application.daily_volume_m3,
            }
            if application.type_level2 != outfall.type_level2:
                updates.update(
                    type_code=application.type_code,
                    type_level2=application.type_level2,
                    type_level3=application.type_level3,
                )
            if application.entry_mode:
                updates["entry_mode"] = application.entry_mode
            for name, value in updates.items():
                if getattr(outfall, name) != value:
                    setattr(outfall, name, value)
                    changed = True
        if changed:
            ledger.save_outfall(outfall, user=user, reason=label, confirm_placement=True)
    approval = {
        "registered": True,
        "approval_date": decision.decided_on,
        "approval_number": decision.number[:64],
    }
    if decision.permit_number:
        approval["permit_number"] = decision.permit_number
    return ledger.set_outfall_state(
        outfall, user=user, workflow=Workflow.SETUP_REVIEW, reason=label, **approval
    )


@transaction.atomic
def withhold(decision, *, user, reason):
    """Keep a decision from the public (信息公开) with a reason; by default every decision is public."""
    _check_decider(user)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "不予公开须写明理由（如 涉及国家秘密、商业秘密）。"})
    decision.public = False
    decision.withheld_reason = reason
    decision.withheld_by = user
    decision.withheld_at = timezone.now()
    decision._change_reason = reason[:100]
    decision.save()
    return decision


@transaction.atomic
def disclose(decision, *, user):
    _check_decider(user)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    decision.public = True
    decision.withheld_reason = ""
    decision.withheld_by = None
    decision.withheld_at = None
    decision._change_reason = "恢复公开"
    decision.save()
    return decision


@transaction.atomic
def fulfil_condition(condition, *, user, fulfilled_on=None, note=""):
    _check_decider(user)
    condition = DecisionCondition.objects.select_for_update().get(pk=condition.pk)
    fulfilled_on = fulfilled_on or timezone.localdate()
    if fulfilled_on > timezone.localdate():
        raise ValidationError({"fulfilled_on": "落实日期不能晚于今天。"})
    condition.fulfilled_on = fulfilled_on
    condition.note = (note or "").strip()[:300]
    condition.save(update_fields=["fulfilled_on", "note"])
    return condition


# To-do and follow-ups ------------------------------------------------------------------------------------------------
def todo(user):
    """{key: (title, queryset)} of the applications waiting for this user: the applicant side's drafts and
    returned ones; the county's submitted ones to forward; the bureau's under review. Each within scope."""
    scope = scope_of(user)
    editable = SetupApplication.objects.editable_by(user)
    lists = {}
    if scope.can_file_setup:
        # The entity's own drafts and returned ones; a county officer's or the bureau's: those they filed.
        mine = editable.filter(status__in=EDITABLE)
        if scope.county_ids or scope.can_edit_citywide:
            mine = mine.filter(filed_by=user)
        lists["drafts"] = ("待填报或补正", mine)
    if scope.county_ids or scope.can_edit_citywide:
        waiting = SetupApplication.objects.visible_to(user).filter(status=ApplicationStatus.SUBMITTED)
        if not scope.can_edit_citywide:
            waiting = waiting.filter(county_id__in=scope.county_ids)
        lists["to_forward"] = ("待转报", waiting)
    if scope.can_decide_setup:
        review = SetupApplication.objects.filter(status=ApplicationStatus.UNDER_REVIEW)
        lists["to_consult"] = (
            "待征求意见",
            review.filter(consultation_required=True).exclude(consultations__replied_on__isnull=False),
        )
        lists["to_decide"] = ("待决定", review)
    return lists


def overdue_applications(user, today=None):
    today = today or timezone.localdate()
    return SetupApplication.objects.visible_to(user).filter(
        status=ApplicationStatus.UNDER_REVIEW, due_on__lt=today
    )


def due_soon_applications(user, today=None):
    today = today or timezone.localdate()
    limit = add_working_days(today, settings.PERMITS_DUE_SOON_WORKING_DAYS)
    return SetupApplication.objects.visible_to(user).filter(
        status=ApplicationStatus.UNDER_REVIEW, due_on__gte=today, due_on__lte=limit
    )


def expiring_conditions(user, today=None):
    """Unmet approval conditions past or within PERMITS_CONDITION_DUE_SOON_DAYS of their date."""
    today = today or timezone.localdate()
    limit = today + timedelta(days=settings.PERMITS_CONDITION_DUE_SOON_DAYS)
    return DecisionCondition.objects.visible_to(user).filter(fulfilled_on__isnull=True, due_on__lte=limit)


def is_decided(application):
    return application.status in DECIDED


def scoped_other_outfalls(user, ids):
    """The outfalls of a duplicate finding that this user may see (the others stay unnamed)."""
    return (
        Outfall.objects.visible_to(user).filter(pk__in=ids).order_by("code")
        if ids
        else Outfall.objects.none()
    )


def pending_q():
    return Q(status__in=(ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW))
