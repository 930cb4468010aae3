"""执法 workflow: open a case (from a citizen report, a tracing conclusion, an exceedance, an entity's 借道排污
report, or directly), record its steps, keep its evidence; the entities' 借道排污 reports.

Every function checks the user's right and the case's state, changes the rows inside transaction.atomic and
writes a status-change row (core.StatusChange). Views, the API, the portal's report page and the demo loader
call these. Who may do what (core.scopes): opening, investigating, notifying and enforcing are the county's
(its own cases) and the city bureau's; the decision and 结案 are the city bureau's, in whose name penalties
are decided (实施方案（十一））.

A source object is read through its content type and its model's visible_to(user) (supervision does not import
the apps above or beside it); what a case takes from it is in SOURCES.
"""

from datetime import date as date_type
from decimal import Decimal
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS, AttachmentKind, FollowUp
from outfalls.core.locking import bump_version, claim_version
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import PHOTO_SUFFIXES, add_attachment, copy_attachments, record_status_change
from outfalls.registry.models import DischargeUnit, Outfall

from .choices import (
    NEXT_STEPS,
    SOURCE_MODELS,
    STEP_DATES,
    STEP_NAMES,
    CaseKind,
    CaseSource,
    CaseStatus,
    EntityReportStatus,
    Outcome,
)
from .models import EnforcementCase, EntityReport

NOT_YOURS = "该案件不在您的办理范围内。"
TEXT_MIN = 5
# The kinds of evidence a case keeps (core attachment kinds): photos, sampling and test reports, documents.
EVIDENCE_KINDS = (
    AttachmentKind.PHOTO_CLOSE,
    AttachmentKind.PHOTO_DISTANT,
    AttachmentKind.DOCUMENT,
    AttachmentKind.OTHER,
)
# What each step writes besides its date: {status: [(field, label, required, shortest text)]}; the decision's
# outcome and penalty amount are checked together (_clean_step).
STEP_FIELDS = {
    CaseStatus.INVESTIGATED: [("findings", "调查情况", True, TEXT_MIN)],
    CaseStatus.NOTIFIED: [("notice", "告知内容", True, TEXT_MIN)],
    CaseStatus.DECIDED: [
        ("outcome", "决定结果", True, 0),
        ("decision_number", "决定书文号", False, 0),
        ("legal_basis", "法律依据", True, TEXT_MIN),
    ],
    CaseStatus.ENFORCED: [("enforcement", "执行情况", True, TEXT_MIN)],
    CaseStatus.CLOSED: [("closing_note", "结案说明", True, TEXT_MIN)],
}


# Permissions ---------------------------------------------------------------------------------------------------
def can_open(user):
    return scope_of(user).can_open_case


def can_decide(user):
    return scope_of(user).can_decide_case


def editable(case, user):
    return EnforcementCase.objects.editable_by(user).filter(pk=case.pk).exists()


def next_steps(case, user):
    """The steps this user may record on the case now (statuses), in order."""
    if not editable(case, user):
        return []
    steps = []
    for status in NEXT_STEPS[CaseStatus(case.status)]:
        if status in (CaseStatus.DECIDED, CaseStatus.CLOSED) and not can_decide(user):
            continue
        if (
            status == CaseStatus.CLOSED
            and case.status == CaseStatus.DECIDED
            and case.outcome == Outcome.PENALTY
        ):
            continue  # a penalty is enforced before the case closes
        steps.append(status)
    return steps


def _locked(case, user):
    try:
        return EnforcementCase.objects.editable_by(user).select_for_update().get(pk=case.pk)
    except EnforcementCase.DoesNotExist:
        raise PermissionDenied(NOT_YOURS) from None


def _check_date(value, field, label, *, after=None, after_label=""):
    if value is None:
        raise ValidationError({field: f"请填写{label}。"})
    if not isinstance(value, date_type):
        raise ValidationError({field: f"{label}不是有效的日期。"})
    if value > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})
    if after is not None and value < after:
        raise ValidationError({field: f"{label}不能早于{after_label}（{after:%Y-%m-%d}）。"})


def _text(value):
    return (value or "").strip() if isinstance(value, str) else value


# Sources -------------------------------------------------------------------------------------------------------
def _report_facts(report):
    return {
        "label": f"群众举报 {report.tracking_code}",
        "county_id": report.county_id,
        "outfalls": [report.outfall] if report.outfall_id else [],
        "units": [],
        "summary": f"{report.get_category_display()}：{report.description}",
        "kind": {"illegal_pipe": CaseKind.HIDDEN_PIPE, "rain_dumping": CaseKind.RAIN_DUMPING}.get(
            report.category, CaseKind.OTHER
        ),
    }


def _tracing_facts(tracing):
    outfall = tracing.outfall
    return {
        "label": f"溯源案件 {tracing.pk}（{outfall.code}）",
        "county_id": outfall.county_id,
        "outfalls": [outfall],
        "units": [tracing.responsible_entity] if tracing.responsible_entity_id else [],
        "summary": f"溯源结论：{tracing.conclusion}"
        if tracing.conclusion
        else f"{outfall.name}溯源发现的问题",
        "kind": CaseKind.ILLEGAL_SETUP,
    }


def _exceedance_facts(finding):
    outfall = finding.outfall
    return {
        "label": f"监测超标 {outfall.code} {finding.at:%Y-%m-%d}",
        "county_id": outfall.county_id,
        "outfalls": [outfall],
        "units": [outfall.responsible_entity] if outfall.responsible_entity_id else [],
        "summary": finding.reason,
        "kind": CaseKind.OVER_LIMIT,
    }


def _entity_report_facts(report):
    suspect = f"，疑似借道方：{report.suspect}" if report.suspect else ""
    return {
        "label": f"借道排污报告 {report.pk}（{report.unit.name}）",
        "county_id": report.county_id,
        "outfalls": [report.outfall],
        "units": [],
        "summary": f"{report.unit.name}报告借道排污{suspect}：{report.description}",
        "kind": CaseKind.BORROWING,
    }


def _patrol_facts(finding):
    patrol = finding.patrol
    outfall = finding.outfall
    return {
        "label": f"巡河发现 {finding.pk}（{patrol.water_body.name} {patrol.patrolled_on:%Y-%m-%d}）",
        "county_id": outfall.county_id if outfall is not None else patrol.county_id,
        "outfalls": [outfall] if outfall is not None else [],
        "units": [outfall.responsible_entity]
        if outfall is not None and outfall.responsible_entity_id
        else [],
        "summary": f"巡河发现：{finding.description}",
        "kind": CaseKind.OTHER,
    }


SOURCES = {
    CaseSource.PATROL: _patrol_facts,
    CaseSource.REPORT: _report_facts,
    CaseSource.TRACING: _tracing_facts,
    CaseSource.EXCEEDANCE: _exceedance_facts,
    CaseSource.ENTITY: _entity_report_facts,
}


def source_object(source, source_id, user):
    """The object a case is opened from, among those the user sees; a ValidationError naming the source when
    there is none (or it is out of the user's scope: the same answer)."""
    if source not in SOURCE_MODELS:
        raise ValidationError({"source": f"“{source}”不是可以立案的来源。"})
    label = CaseSource(source).label
    model = ContentType.objects.get_by_natural_key(*SOURCE_MODELS[source]).model_class()
    try:
        return model._default_manager.visible_to(user).get(pk=source_id)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise ValidationError({"source": f"找不到编号为 {source_id} 的{label}，或不在您的范围内。"}) from None


def source_facts(source, obj):
    """What a case opened from obj starts with: {label, county_id, outfalls, units, summary, kind}."""
    return SOURCES[source](obj)


def cases_from(obj):
    """The cases opened from obj (any source object), newest first."""
    return EnforcementCase.objects.filter(
        source_type=ContentType.objects.get_for_model(obj), source_id=obj.pk
    ).order_by("-id")


# Opening -------------------------------------------------------------------------------------------------------
def _next_number(year):
    prefix = f"ZF{year}"
    last = EnforcementCase.objects.filter(number__startswith=prefix).aggregate(last=Max("number"))["last"]
    return f"{prefix}{(int(last[len(prefix) :]) + 1) if last else 1:04d}"


def _check_county(county, user):
    if county is None:
        raise ValidationError({"county": "请选择属地县区。"})
    if county.level not in COUNTY_LEVELS:
        raise ValidationError({"county": f"“{county.name}”不是县区或开发区。"})
    scope = scope_of(user)
    if not scope.can_edit_citywide and county.pk not in scope.county_ids:
        raise ValidationError({"county": f"{county.name}不在您的管辖范围内。"})


def _check_links(outfalls, units, user):
    seen = set(
        Outfall.objects.visible_to(user).filter(pk__in=[o.pk for o in outfalls]).values_list("pk", flat=True)
    )
    missing = [o.code for o in outfalls if o.pk not in seen]
    if missing:
        raise ValidationError({"outfalls": f"排口 {'、'.join(missing)} 不在您的范围内。"})
    seen = set(
        DischargeUnit.objects.visible_to(user)
        .filter(pk__in=[u.pk for u in units])
        .values_list("pk", flat=True)
    )
    missing = [u.name for u in units if u.pk not in seen]
    if missing:
        raise ValidationError({"units": f"单位 {'、'.join(missing)} 不在您的范围内。"})


@transaction.atomic
def open_case(
    *,
    user,
    kind,
    county,
    summary,
    opened_on,
    outfalls=(),
    units=(),
    source=CaseSource.DIRECT,
    source_obj=None,
):
    """立案. With a source object (source_object()), its evidence (photos, documents) is copied to the case and
    the source's history says the case was opened; an entity's report is marked as such."""
    if not can_open(user):
        raise PermissionDenied("只有市生态环境局和县区可以立案。")
    errors = {}
    if kind not in CaseKind.values:
        errors["kind"] = "请选择案件类型。"
    summary = _text(summary)
    if len(summary or "") < TEXT_MIN:
        errors["summary"] = f"请填写案情摘要（至少 {TEXT_MIN} 个字）。"
    elif len(summary) > 2000:
        errors["summary"] = f"案情摘要最多 2000 个字（现有 {len(summary)} 个）。"
    if source not in CaseSource.values:
        errors["source"] = "案件来源无效。"
    elif (source in SOURCE_MODELS) != (source_obj is not None):
        errors["source"] = (
            f"“{CaseSource(source).label}”须指明来源记录。" if source in SOURCE_MODELS else "来源无效。"
        )
    for check in (
        lambda: _check_county(county, user),
        lambda: _check_date(opened_on, "opened_on", "立案日期"),
    ):
        try:
            check()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    outfalls, units = list(outfalls), list(units)
    _check_links(outfalls, units, user)
    label = ""
    if source_obj is not None:
        label = source_facts(source, source_obj)["label"]
        if source == CaseSource.ENTITY:
            report = EntityReport.objects.select_for_update().get(pk=source_obj.pk)
            if report.status != EntityReportStatus.SUBMITTED:
                raise ValidationError({"source": f"该报告已{report.get_status_display()}，不能再立案。"})
    case = EnforcementCase(
        number=_next_number(opened_on.year),
        kind=kind,
        county=county,
        summary=summary,
        source=source,
        source_type=ContentType.objects.get_for_model(source_obj) if source_obj is not None else None,
        source_id=source_obj.pk if source_obj is not None else None,
        source_label=label[:200],
        opened_on=opened_on,
        opened_by=user,
    )
    case.full_clean()
    case.save()
    case.outfalls.set(outfalls)
    case.units.set(units)
    record_status_change(
        case,
        user=user,
        from_value="",
        to_value=CaseStatus.OPENED,
        reason=f"立案（来源：{label or CaseSource(source).label}）",
    )
    if source_obj is not None:
        copy_attachments(source_obj, case, note=label)
        record_status_change(
            source_obj,
            user=user,
            from_value="",
            to_value=FollowUp.ENFORCEMENT_CASE,
            field="action",
            reason=f"已立案查处（案件 {case.number}）",
        )
        if source == CaseSource.ENTITY:
            EntityReport.objects.filter(pk=source_obj.pk).update(
                status=EntityReportStatus.CASE_OPENED, case=case
            )
            record_status_change(
                source_obj,
                user=user,
                from_value=EntityReportStatus.SUBMITTED,
                to_value=EntityReportStatus.CASE_OPENED,
                reason=f"立案查处（案件 {case.number}）",
            )
    return case


def _amount(value):
    """A penalty amount as a Decimal (None when empty, "invalid" when not a number)."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except ArithmeticError:
        return "invalid"


# Steps ---------------------------------------------------------------------------------------------------------
def _clean_step(case, to_status, on, fields):
    """The step's values checked: {field: value} to set; a ValidationError naming each field otherwise."""
    errors, values = {}, {}
    previous = getattr(case, STEP_DATES[CaseStatus(case.status)])
    try:
        _check_date(
            on,
            "on",
            f"{STEP_NAMES[to_status]}日期",
            after=previous,
            after_label=f"{CaseStatus(case.status).label}的日期",
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    for field, label, required, shortest in STEP_FIELDS[to_status]:
        value = _text(fields.get(field)) or ""
        if required and not value:
            errors[field] = f"请填写{label}。"
        elif value and len(value) < shortest:
            errors[field] = f"{label}至少 {shortest} 个字。"
        values[field] = value
    if to_status == CaseStatus.DECIDED:
        outcome = values["outcome"]
        amount = _amount(fields.get("penalty_amount"))
        if outcome and outcome not in Outcome.values:
            errors["outcome"] = "请选择决定结果。"
        elif amount == "invalid":
            errors["penalty_amount"] = "罚款金额须是数字（元）。"
        elif outcome == Outcome.PENALTY:
            if amount is None or amount <= 0:
                errors["penalty_amount"] = "行政处罚须填写罚款金额（大于 0 元）。"
            if not values["decision_number"]:
                errors["decision_number"] = "行政处罚须填写决定书文号。"
        elif outcome and amount:
            errors["penalty_amount"] = f"“{Outcome(outcome).label}”不处罚款，请清空罚款金额。"
        values["penalty_amount"] = amount if outcome == Outcome.PENALTY else None
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def record_step(case, to_status, *, user, on, expected_version=None, units=None, **fields):
    """Record the next step (to_status) of the case, dated `on`, with that step's fields (STEP_FIELDS). The
    investigation may name the units found (units: replaces the case's units when given)."""
    locked = _locked(case, user)
    claim_version(locked, expected_version, user=user)
    to_status = CaseStatus(to_status) if to_status in CaseStatus.values else to_status
    if to_status not in NEXT_STEPS[CaseStatus(locked.status)]:
        step = STEP_NAMES.get(to_status, to_status)
        raise ValidationError({"status": f"案件状态为“{locked.get_status_display()}”，不能记录“{step}”。"})
    if to_status in (CaseStatus.DECIDED, CaseStatus.CLOSED) and not can_decide(user):
        raise PermissionDenied(f"“{STEP_NAMES[to_status]}”由市生态环境局作出。")
    if (
        to_status == CaseStatus.CLOSED
        and locked.status == CaseStatus.DECIDED
        and locked.outcome == Outcome.PENALTY
    ):
        raise ValidationError({"status": "行政处罚须先记录执行情况，再结案。"})
    values = _clean_step(locked, to_status, on, fields)
    if units is not None:
        if to_status != CaseStatus.INVESTIGATED:
            raise ValidationError({"units": "涉及单位在调查时确定。"})
        _check_links([], list(units), user)
    old = locked.status
    for field, value in values.items():
        setattr(locked, field, value)
    setattr(locked, STEP_DATES[to_status], on)
    locked.status = to_status
    if expected_version is None:
        bump_version(locked)
    locked.save()
    if units is not None:
        locked.units.set(list(units))
    reason = f"{STEP_NAMES[to_status]}（{on:%Y-%m-%d}）"
    if to_status == CaseStatus.DECIDED:
        reason += f"：{locked.get_outcome_display()}"
        if locked.penalty_amount:
            reason += f"，罚款 {locked.penalty_amount:,.2f} 元"
    record_status_change(locked, user=user, from_value=old, to_value=to_status, reason=reason)
    return locked


@transaction.atomic
def add_evidence(case, upload, *, user, kind, title=""):
    """Keep a piece of evidence (photo, sampling or test report, document) on an open case."""
    locked = _locked(case, user)
    if locked.status == CaseStatus.CLOSED:
        raise ValidationError({"file": "案件已结案，不能再补充证据。"})
    if kind not in EVIDENCE_KINDS:
        raise ValidationError({"kind": "请选择证据类别。"})
    title = _text(title)
    if not title:
        raise ValidationError({"title": "请写明证据内容，如“2026年5月3日采样检测报告”。"})
    return add_attachment(locked, upload, user=user, kind=kind, title=title[:200])


# Entity reports ------------------------------------------------------------------------------------------------
def reportable_outfalls(user):
    """The outfalls a responsible entity may report 借道排污 at: those it sees (its own and shared ones)."""
    if not scope_of(user).unit_ids:
        return Outfall.objects.none()
    return Outfall.objects.visible_to(user)


@transaction.atomic
def submit_entity_report(*, user, unit, outfall, description, found_on, suspect="", files=()):
    """A responsible entity reports 借道排污 at one of its outfalls, with evidence (photos, documents); the report
    goes to the county of the outfall."""
    scope = scope_of(user)
    if not scope.unit_ids:
        raise PermissionDenied("只有责任主体可以报告借道排污。")
    errors = {}
    if unit is None or unit.pk not in scope.unit_ids:
        errors["unit"] = "请选择您所在的单位。"
    if outfall is None or not reportable_outfalls(user).filter(pk=outfall.pk).exists():
        errors["outfall"] = "请选择本单位的排污口。"
    description = _text(description)
    if len(description or "") < 10:
        errors["description"] = "请写明发现情况（至少 10 个字）：时间、位置、排放情况。"
    try:
        _check_date(found_on, "found_on", "发现日期")
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    report = EntityReport(
        unit=unit,
        outfall=outfall,
        county_id=outfall.county_id,
        suspect=_text(suspect)[:128],
        description=description,
        found_on=found_on,
        reported_by=user,
    )
    report.full_clean()
    report.save()
    for upload in files:
        photo = Path(upload.name).suffix.lower() in PHOTO_SUFFIXES
        kind = AttachmentKind.PHOTO_CLOSE if photo else AttachmentKind.DOCUMENT
        add_attachment(report, upload, user=user, kind=kind, title=f"借道排污证据 {upload.name}"[:200])
    county = Jurisdiction.objects.get(pk=outfall.county_id)
    record_status_change(
        report,
        user=user,
        from_value="",
        to_value=EntityReportStatus.SUBMITTED,
        reason=f"{unit.name}报告借道排污，送{county.name}处理",
    )
    return report


@transaction.atomic
def dismiss_entity_report(report, *, user, reason):
    """不予立案, with the reason the entity reads."""
    try:
        locked = EntityReport.objects.editable_by(user).select_for_update().get(pk=report.pk)
    except EntityReport.DoesNotExist:
        raise PermissionDenied("该报告不在您的处理范围内。") from None
    reason = _text(reason)
    if len(reason or "") < TEXT_MIN:
        raise ValidationError({"reason": f"请写明不予立案的理由（至少 {TEXT_MIN} 个字），报告单位将看到。"})
    if locked.status != EntityReportStatus.SUBMITTED:
        raise ValidationError({"reason": f"该报告已{locked.get_status_display()}。"})
    locked.status = EntityReportStatus.DISMISSED
    locked.handling_note = reason
    locked.save()
    record_status_change(
        locked,
        user=user,
        from_value=EntityReportStatus.SUBMITTED,
        to_value=EntityReportStatus.DISMISSED,
        reason=reason,
    )
    return locked
