"""Ledger workflow steps. Views, the API, commands, imports and the workflow apps all call these.

The outfall's state (lifecycle status, rectification measure, rectification progress, merge target, and the
registration a close-out confirms) has one writer: ``set_outfall_state``. It finds the path through
``LIFECYCLE_TRANSITIONS``, refuses a step that belongs to another workflow (``STEP_OWNER``), saves the outfall
once (one history row) and leaves one status-change row per field that really changed. ``save_outfall``
(forms, survey confirmation, tracing conclusion) and ``save_outfalls`` (imports) write everything else and
refuse to touch the state.
"""

import datetime
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from outfalls.core import bulk
from outfalls.core.choices import Role
from outfalls.core.locking import bump_version, claim_version
from outfalls.core.models import Jurisdiction, StatusChange
from outfalls.core.scopes import scope_of
from outfalls.core.services import record_status_change

from . import checks, coding, ledger_version, search_triggers
from .choices import (
    INITIAL,
    LIFECYCLE_TRANSITIONS,
    STEP_OWNER,
    DisclosureBasis,
    DisclosureState,
    LifecycleStatus,
    LinkRole,
    RectificationMeasure,
    RectificationStatus,
    SignState,
    Workflow,
    ledger_steps,
    storm_measure_error,
)
from .classification import Level2
from .disclosure import rule_discloses
from .models import DischargeUnit, Outfall, OutfallUnitLink, SpatialFinding
from .validators import validate_permit_number

OUT_OF_SCOPE = "该记录不在您的管辖范围内，不能保存。"

# Fields only set_outfall_state writes (forms show them read-only, imports may not change them).
STATE_FIELDS = ("status", "rectification_measure", "rectification_status", "merged_into")
# Where each of them changes, for the read-only line on the forms and the refusal messages.
STATE_FIELD_SOURCE = {
    "status": "生命周期状态经核实（台账状态变更）、溯源结案、一口一策方案和销号审核变更",
    "rectification_measure": "整治类型经整治建议的采纳或改定、一口一策方案确定",
    "rectification_status": "整治进展随一口一策方案推进，经销号审核通过后为“已完成”",
    "merged_into": "并入排口经清理合并方案的销号审核确定",
}
# Approval fields: on the forms and in imports only the city bureau's editors change them; the other writer is
# the setup-review decision (permits), through set_outfall_state(workflow=Workflow.SETUP_REVIEW).
APPROVAL_FIELDS = ("registered", "approval_date", "approval_number")
APPROVAL_SOURCE = "登记建档、审批或登记文号和批准时间只能由市生态环境局修改"
# What set_outfall_state writes for a setup-review decision (the approval fields and the permit number).
DECISION_FIELDS = ("approval_date", "approval_number", "permit_number")
DECISION_SOURCE = "批准时间、审批或登记文号和排污许可证编号只能经设置审核决定写入"
BATCH = 2000
# A bulk save of at least this many new outfalls, and no fewer than the ledger holds (a city's first import),
# inserts them with the outfall table's secondary indexes set aside and builds those once after
# (core.bulk.indexes_set_aside): 100,000 rows into its 16 secondary indexes and 3 unique ones took 5.4 s on SQLite;
# with the unique ones only, 1.2 s, and building the 16 after 0.6 s.
REBUILD_OUTFALL_INDEXES_FROM = 50_000
# A bulk save that adds at least this many outfalls and at least a tenth of the ledger refreshes the planner's
# statistics before it reads the rows back (core.bulk.analyze).
ANALYZE_FROM = 1_000
CHECK_CHUNK = 20_000  # outfalls a bulk save checks at once (their findings stand in memory together)


def _check_editable(queryset, obj, user):
    if not queryset.editable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied(OUT_OF_SCOPE)


def _check_may_edit(user):
    if not scope_of(user).can_edit_anything:
        raise PermissionDenied("您的角色只能查看，不能修改台账。")


def _history(outfall, user, reason):
    outfall._change_reason = (reason or "")[:100]
    if user is not None and user.is_authenticated:
        outfall._history_user = user


# The outfall's state ------------------------------------------------------------------------------------
def lifecycle_path(from_status, to_status, via=None):
    """The shortest list of states after from_status that leads to to_status through LIFECYCLE_TRANSITIONS
    (passing through `via` when given), or None when there is no path. [] when they are equal."""
    if via is not None and via not in (from_status, to_status):
        first, rest = lifecycle_path(from_status, via), lifecycle_path(via, to_status)
        return None if first is None or rest is None else first + rest
    start, goal = LifecycleStatus(from_status), LifecycleStatus(to_status)
    came_from = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            path = []
            while current != start:
                path.append(current)
                current = came_from[current]
            return path[::-1]
        for following in LIFECYCLE_TRANSITIONS[current]:
            if following not in came_from:
                came_from[following] = current
                queue.append(following)
    return None


def _path_error(outfall, to_status, workflow, via=None):
    """The Chinese refusal for a status the workflow may not reach from the outfall's status, or None."""
    current = LifecycleStatus(outfall.status)
    target = LifecycleStatus(to_status)
    path = lifecycle_path(current, target, via)
    if path is None:
        return f"状态不能从“{current.label}”变为“{target.label}”。"
    for step_from, step_to in pairwise([current, *path]):
        owner = STEP_OWNER[step_from, step_to]
        if owner not in (Workflow.LEDGER, workflow):
            return f"“{step_from.label}”到“{step_to.label}”只能经{Workflow(owner).label}完成。"
    return None


UNSET = object()


@transaction.atomic
def set_outfall_state(
    outfall,
    *,
    user,
    workflow,
    reason,
    status=None,
    measure=UNSET,
    rectification_status=UNSET,
    merged_into=UNSET,
    registered=UNSET,
    approval_date=UNSET,
    approval_number=UNSET,
    permit_number=UNSET,
    via=None,
    check_user=True,
):
    """The one writer of an outfall's state. Sets whichever of status, measure, rectification progress, merge
    target and registration are given, together: one save (one history row) and one status-change row per
    field that changed (status, rectification_measure). Returns the saved outfall.

    The status may move several steps (traced → classified → rectifying) along LIFECYCLE_TRANSITIONS, through
    `via` when given (a removal: rectifying → removed → closed); each step must belong to no workflow or to
    `workflow` (STEP_OWNER); the status-change row names the states passed through. The calling workflow has checked its own
    permission; this checks again that the user may edit the outfall (check_user=False for system runs).

    The approval fields (registered: city editors; approval_date, approval_number, permit_number: the
    setup-review decision, Workflow.SETUP_REVIEW, by city editors) are written here too; a setup-review decision
    that changes any of them leaves one status-change row (field approval_number: the old and new number).
    """
    workflow = Workflow(workflow)
    locked = Outfall.objects.select_for_update().get(pk=outfall.pk)
    if check_user:
        _check_editable(Outfall.objects, locked, user)
    errors = {}
    old_status, old_measure = locked.status, locked.rectification_measure
    changed = []
    if status is not None and status != locked.status:
        problem = _path_error(locked, status, workflow, via)
        if problem:
            errors["status"] = problem
        else:
            locked.status = LifecycleStatus(status)
            changed.append("status")
    if measure is not UNSET and measure != locked.rectification_measure:
        if measure and measure not in RectificationMeasure.values:
            errors["rectification_measure"] = f"整治措施“{measure}”无效。"
        else:
            locked.rectification_measure = measure
            changed.append("rectification_measure")
    problem = storm_measure_error(locked.type_code, locked.rectification_measure)
    if problem and "rectification_measure" in changed:
        errors["rectification_measure"] = problem
    if rectification_status is not UNSET and rectification_status != locked.rectification_status:
        if rectification_status == RectificationStatus.COMPLETED and workflow != Workflow.CLOSEOUT:
            errors["rectification_status"] = "整治进展“已完成”只能经销号审核通过产生。"
        locked.rectification_status = RectificationStatus(rectification_status)
        changed.append("rectification_status")
    if merged_into is not UNSET:
        target_id = merged_into.pk if merged_into is not None else None
        if target_id != locked.merged_into_id:
            if target_id is not None and (
                workflow != Workflow.CLOSEOUT or locked.status != LifecycleStatus.MERGED
            ):
                errors["merged_into"] = "并入排口只能经清理合并方案的销号审核确定。"
            locked.merged_into = merged_into
            changed.append("merged_into")
    if locked.status != LifecycleStatus.MERGED and locked.merged_into_id is not None:
        locked.merged_into = None
        if "merged_into" not in changed:
            changed.append("merged_into")
    if registered is not UNSET and registered != locked.registered:
        if not scope_of(user).can_edit_citywide:
            errors["registered"] = APPROVAL_SOURCE + "。"
        locked.registered = registered
        changed.append("registered")
    old_number = locked.approval_number
    decision = {
        "approval_date": approval_date,
        "approval_number": approval_number,
        "permit_number": permit_number,
    }
    for name, value in decision.items():
        if value is UNSET or (value or None) == (getattr(locked, name) or None):
            continue
        if workflow != Workflow.SETUP_REVIEW or not scope_of(user).can_edit_citywide:
            errors[name] = DECISION_SOURCE + "（市生态环境局）。"
        setattr(locked, name, value or ("" if name != "approval_date" else None))
        changed.append(name)
    if "permit_number" in changed and locked.permit_number and "permit_number" not in errors:
        locked.permit_number = locked.permit_number.strip().upper()
        try:
            validate_permit_number(locked.permit_number)
        except ValidationError as error:
            errors["permit_number"] = " ".join(error.messages)
    if errors:
        raise ValidationError(errors)
    if not changed:
        return locked
    old_disclosed = locked.disclosed
    if "status" in changed:
        changed += _follow_disclosure_rules(locked)
    _history(locked, user, reason)
    locked.save(update_fields=[*changed, bump_version(locked), "updated_at"])
    if locked.disclosed != old_disclosed:
        record_status_change(
            locked,
            user=user,
            from_value=disclosure_value(old_disclosed),
            to_value=disclosure_value(locked.disclosed),
            reason=f"{DisclosureBasis.RULE.label}（状态变为“{locked.get_status_display()}”）",
            field="disclosed",
        )
    if "status" in changed:
        path = lifecycle_path(old_status, locked.status, via)
        via = "、".join(s.label for s in path[:-1])
        record_status_change(
            locked,
            user=user,
            from_value=old_status,
            to_value=locked.status,
            reason=f"{reason}（经：{via}）" if via else reason,
        )
    if "rectification_measure" in changed:
        record_status_change(
            locked,
            user=user,
            from_value=old_measure,
            to_value=locked.rectification_measure,
            reason=reason,
            field="rectification_measure",
        )
    if workflow == Workflow.SETUP_REVIEW and set(changed) & {*APPROVAL_FIELDS, *DECISION_FIELDS}:
        record_status_change(
            locked,
            user=user,
            from_value=(old_number or "")[:32],
            to_value=(locked.approval_number or "")[:32],
            reason=reason,
            field="approval_number",
        )
    return locked


# Disclosure (公开) -----------------------------------------------------------------------------------------
DISCLOSURE_FIELDS = ("disclosed", "disclosure_basis", "disclosure_decided_by", "disclosure_decided_at")


def disclosure_value(disclosed):
    """The value a status-change row of the field "disclosed" stores."""
    return DisclosureState.PUBLIC if disclosed else DisclosureState.WITHHELD


def _follow_disclosure_rules(outfall):
    """Apply the disclosure rules to an outfall whose disclosure follows them; the fields that changed."""
    if outfall.disclosure_basis != DisclosureBasis.RULE:
        return []
    wanted = rule_discloses(outfall.status, outfall.type_code)
    if wanted == outfall.disclosed:
        return []
    outfall.disclosed = wanted
    outfall.disclosure_decided_at = timezone.now()
    return ["disclosed", "disclosure_decided_at"]


def _disclosure_rows(rows, changes, user, reason):
    StatusChange.objects.bulk_create(
        StatusChange(
            content_type=ContentType.objects.get_for_model(Outfall),
            object_id=outfall.pk,
            field="disclosed",
            from_value=disclosure_value(old),
            to_value=disclosure_value(outfall.disclosed),
            reason=reason,
            changed_by=user if user is not None and user.is_authenticated else None,
        )
        for outfall, old in zip(rows, changes, strict=True)
    )


@transaction.atomic
def set_disclosure(outfalls, *, user, disclose, reason=""):
    """The city bureau decides whether outfalls are public (disclose True / False: a decision the rules no
    longer change) or hands them back to the rules (disclose None). outfalls: a queryset or ids; those outside
    the user's editable scope are left out. One history row and, where the public state changed, one
    status-change row (field "disclosed") per outfall. Returns how many outfalls changed their public state."""
    if not scope_of(user).can_disclose:
        raise PermissionDenied("只有市生态环境局可以决定入河排污口是否向社会公开。")
    reason = (reason or "").strip()
    if disclose is not None and not reason:
        raise ValidationError({"reason": "请填写公开或不公开的理由（将记录在状态变更中）。"})
    ids = outfalls.values("pk") if hasattr(outfalls, "values") else list(outfalls)
    rows = list(Outfall.objects.editable_by(user).filter(pk__in=ids).select_for_update().order_by("pk"))
    now = timezone.now()
    changed_rows, old_values = [], []
    for outfall in rows:
        old = outfall.disclosed
        if disclose is None:
            outfall.disclosure_basis = DisclosureBasis.RULE
            outfall.disclosed = rule_discloses(outfall.status, outfall.type_code)
        else:
            outfall.disclosure_basis = DisclosureBasis.DECISION
            outfall.disclosed = disclose
        outfall.disclosure_decided_by = user
        outfall.disclosure_decided_at = now
        outfall.disclosure_reason = reason[:200]
        outfall.version = (outfall.version or 0) + 1
        _history(outfall, user, reason or DisclosureBasis.RULE.label)
        if outfall.disclosed != old:
            changed_rows.append(outfall)
            old_values.append(old)
    bulk_update_with_history(
        rows,
        Outfall,
        [*DISCLOSURE_FIELDS, "disclosure_reason", "version"],
        batch_size=BATCH,
        default_user=user,
        default_change_reason=(reason or DisclosureBasis.RULE.label)[:100],
    )
    _disclosure_rows(changed_rows, old_values, user, reason or DisclosureBasis.RULE.label)
    return len(changed_rows)


@transaction.atomic
def apply_disclosure_rules(queryset=None):
    """Apply the rules to every outfall (or those of queryset) whose disclosure follows them: after the rules
    changed in settings, and by the demo. A system run: no user. Returns how many changed."""
    rows = []
    old_values = []
    base = Outfall.objects.all() if queryset is None else queryset
    now = timezone.now()
    for outfall in base.filter(disclosure_basis=DisclosureBasis.RULE).select_for_update():
        old = outfall.disclosed
        if _follow_disclosure_rules(outfall):
            outfall.disclosure_decided_at = now
            outfall.version = (outfall.version or 0) + 1
            rows.append(outfall)
            old_values.append(old)
    bulk_update_with_history(
        rows,
        Outfall,
        ["disclosed", "disclosure_decided_at", "version"],
        batch_size=BATCH,
        default_change_reason=DisclosureBasis.RULE.label,
    )
    _disclosure_rows(rows, old_values, None, DisclosureBasis.RULE.label)
    return len(rows)


@transaction.atomic
def set_sign_installed(outfall, *, user, installed=True, reason=""):
    """The ledger's 标识牌 field, set when the county confirms a sign is installed (with its photo: the portal's
    sign workflow) or cleared when it is gone. One history row and a status-change row (field
    "sign_installed"). The user must be able to edit the outfall."""
    locked = Outfall.objects.select_for_update().get(pk=outfall.pk)
    _check_editable(Outfall.objects, locked, user)
    if locked.sign_installed == installed:
        return locked
    _history(locked, user, reason)
    locked.sign_installed = installed
    locked.save(update_fields=["sign_installed", bump_version(locked), "updated_at"])
    record_status_change(
        locked,
        user=user,
        from_value=SignState.NOT_INSTALLED if installed else SignState.INSTALLED,
        to_value=SignState.INSTALLED if installed else SignState.NOT_INSTALLED,
        reason=reason,
        field="sign_installed",
    )
    return locked


@transaction.atomic
def change_status(outfall, to_status, *, user, reason=""):
    """The generic status change on the outfall's page: only the steps that belong to no workflow
    (registry.choices.ledger_steps); the others are made by tracing, plans and close-out."""
    locked = Outfall.objects.select_for_update().get(pk=outfall.pk)
    _check_editable(Outfall.objects, locked, user)
    allowed = ledger_steps(locked.status)
    if to_status not in allowed:
        names = "、".join(LifecycleStatus(s).label for s in allowed) or "无"
        problem = (
            _path_error(locked, to_status, Workflow.LEDGER) if to_status in LifecycleStatus.values else None
        )
        raise ValidationError(
            {
                "status": (problem or f"状态不能从“{locked.get_status_display()}”变为“{to_status}”。")
                + f"此处可选：{names}。"
            }
        )
    return set_outfall_state(locked, user=user, workflow=Workflow.LEDGER, reason=reason, status=to_status)


def set_rectification_measure(outfall, measure, *, user, reason, workflow=Workflow.REMEDIATION):
    """Record the outfall's decided rectification measure (整治类型) through set_outfall_state, and leave a
    status-change row also when a decision confirms the measure it already had (a decided proposal is an
    event on the outfall's measure history). The caller has checked permission (the rectification services)."""
    old = outfall.rectification_measure
    saved = set_outfall_state(outfall, user=user, workflow=workflow, reason=reason, measure=measure)
    if old == measure:
        record_status_change(
            saved, user=user, from_value=old, to_value=measure, reason=reason, field="rectification_measure"
        )
    return saved


# Everything else about an outfall ------------------------------------------------------------------------
# Relations: always set from rows the caller read (form choices limited to the user's scope, resolved import
# names, survey and tracing objects), so clean_fields need not query each of them again.
RELATIONS = ("county", "town", "village", "water_body", "responsible_entity", "merged_into")
_FIELD_NAMES = {f.name for f in Outfall._meta.concrete_fields}
_DEFAULTS = {f.attname: (f.name, f.get_default()) for f in Outfall._meta.concrete_fields}
_CHECKED_FIELDS = tuple(f for f in Outfall._meta.fields if not f.generated)


def set_fields(outfall):
    """The fields of a new outfall that hold something else than their default (what its field checks need to
    look at: a default is valid by construction)."""
    values = outfall.__dict__
    return {name for attname, (name, default) in _DEFAULTS.items() if values.get(attname, default) != default}


_IMMUTABLE = (str, int, float, bool, type(None), datetime.date)
_template = []


def new_outfall(**values):
    """An unsaved Outfall with these values and the model's defaults, as Outfall(**values) builds it, made by
    copying one blank instance: Model.__init__ costs about 100 µs at this model's 45 fields, and an import
    builds one per row. (Outfall(**values) itself when a default is mutable or made per call.)"""
    if not _template:
        blank = Outfall()
        _template.append(blank if all(isinstance(v, _IMMUTABLE) for v in blank.__dict__.values()
                                      if not isinstance(v, ModelState)) else None)  # fmt: skip
    blank = _template[0]
    if blank is None:
        return Outfall(**values)
    outfall = Outfall.__new__(Outfall)
    outfall.__dict__.update(blank.__dict__)
    outfall._state = ModelState()
    for name, value in values.items():
        setattr(outfall, name, value)
    return outfall


PLACEMENT_FIELDS = ("lon", "lat", "county_id", "water_body_id")
SNAPSHOT_FIELDS = (
    *(f"{n}_id" if n == "merged_into" else n for n in STATE_FIELDS),
    *APPROVAL_FIELDS,
    *PLACEMENT_FIELDS,
)


def snapshot(outfall):
    """The values validate_outfall compares a change against, read from an instance not yet changed."""
    return None if outfall.pk is None else {name: getattr(outfall, name) for name in SNAPSHOT_FIELDS}


def _stored(outfall):
    if outfall.pk is None:
        return None
    return Outfall.objects.filter(pk=outfall.pk).values(*SNAPSHOT_FIELDS).first()


def _approval_errors(outfall, old, user, errors):
    if scope_of(user).can_edit_citywide:
        return
    for name in APPROVAL_FIELDS:
        new_value = getattr(outfall, name)
        old_value = old[name] if old is not None else Outfall._meta.get_field(name).get_default()
        if (new_value or None) != (old_value or None):
            errors[name] = APPROVAL_SOURCE + "。"


def _state_errors(outfall, old, errors):
    """A save outside set_outfall_state may not change the state; a new outfall starts at the beginning."""
    if old is None:
        if outfall.status not in INITIAL:
            names = "、".join(LifecycleStatus(s).label for s in INITIAL)
            errors["status"] = f"新建排口的状态只能是{names}；之后的状态经溯源、整治和销号流程产生。"
        starts = {
            "rectification_measure": "",
            "rectification_status": RectificationStatus.NOT_STARTED,
            "merged_into_id": None,
        }
        for attname, start in starts.items():
            if (getattr(outfall, attname) or None) != (start or None):
                name = attname.removesuffix("_id")
                errors[name] = STATE_FIELD_SOURCE[name] + "；新建的排口不能直接填写。"
        return
    for name in STATE_FIELDS:
        attname = f"{name}_id" if name == "merged_into" else name
        if (getattr(outfall, attname) or None) != (old[attname] or None):
            errors[name] = STATE_FIELD_SOURCE[name] + "，不能在此修改。"


# Distinct values of one field an import's memo remembers: beyond it (names, coordinates: a new value on every
# row) each value is checked without being kept, so the memo stays small (a few MiB). Above the permit
# numbers of a province's units: at 2,048, a 100,000-row file with 5,000 units checked 52,000 numbers again.
MEMO_VALUES = 8192


def _clean_fields(outfall, checked, memo):
    """Model.clean_fields over the `checked` fields, each field's check remembered per value (memo: a dict the
    caller keeps over many outfalls; an import's columns repeat a few dozen values). The checks are the fields'
    own clean(); relations are never in this (RELATIONS are excluded), so a field's verdict depends on its value
    alone."""
    errors = {}
    for model_field in checked:
        raw = getattr(outfall, model_field.attname)
        if model_field.blank and raw in model_field.empty_values:
            continue
        seen = memo.get(("field", model_field.attname))
        if seen is None:
            seen = memo["field", model_field.attname] = {}
        try:
            cleaned, messages = seen[raw]
        except (KeyError, TypeError):  # not seen, or an unhashable value
            try:
                cleaned, messages = model_field.clean(raw, outfall), None
            except ValidationError as error:
                cleaned, messages = raw, error.error_list
            if len(seen) < MEMO_VALUES:
                try:
                    seen[raw] = (cleaned, messages)
                except TypeError:
                    pass
        if messages:
            errors[model_field.name] = messages
        else:
            setattr(outfall, model_field.attname, cleaned)
    if errors:
        raise ValidationError(errors)


def _full_clean(outfall, exclude, unique, memo):
    """outfall.full_clean(exclude, validate_unique=unique); with a memo, the field checks are remembered."""
    if memo is None:
        outfall.full_clean(exclude=exclude, validate_unique=unique)
        return
    if unique or Outfall._meta.constraints:
        raise ValueError("a memo is for many outfalls checked without uniqueness or constraints (imports)")
    exclude, errors = set(exclude), {}
    try:
        _clean_fields(outfall, [f for f in _CHECKED_FIELDS if f.name not in exclude], memo)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        outfall.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def validate_outfall(outfall, *, user, old=UNSET, unique=True, city=None, fields=None, memo=None):
    """Every rule an outfall keeps when it is saved, as {field: message} (empty when it may be saved): the
    model's field checks and clean(), the state that only workflows change, the approval fields only the city
    sets, and coordinates inside the city. save_outfall (forms, survey, tracing) and the imports (per row, so
    the message names the row and column) ask the same function. old: snapshot() of the outfall before the
    change (read from the database when not given); unique=False leaves uniqueness to the caller (an import
    checks it for the whole file at once); city: checks.city_bounds(), read once by a caller of many;
    fields: the field checks only for these (what an import row set; clean() and the rules below always
    run), None for all; memo: a dict the caller keeps over many outfalls (imports) to remember each field's
    check per value (only with unique=False)."""
    if old is UNSET:
        old = _stored(outfall)
    errors = {}
    outfall.normalise()
    exclude = {*RELATIONS, *(() if outfall.code else ("code",))}
    if fields is not None:
        exclude |= _FIELD_NAMES - set(fields)
    try:
        _full_clean(outfall, exclude, unique, memo)
    except ValidationError as error:
        errors.update({name: " ".join(messages) for name, messages in error.message_dict.items()})
    if outfall.county_id is None:
        errors.setdefault("county", "请选择县区。")
    if outfall.water_body_id is None:
        errors.setdefault("water_body", "请选择受纳水体。")
    _state_errors(outfall, old, errors)
    _approval_errors(outfall, old, user, errors)
    if "lon" not in errors and "lat" not in errors and outfall.lon is not None and outfall.lat is not None:
        problem = checks.outside_city(outfall.lon, outfall.lat, city)
        if problem:
            errors["lon"] = problem + "，请核对坐标和坐标系。"
    return errors


def scope_errors(outfall, user):
    """What to change so that the outfall lies within what the user may edit, as {field: message}; empty
    when it does. A refusal says what to change: a county officer is told the county, a responsible entity
    that it must name itself as 责任主体, a department the level-2 types it is responsible for. With several
    memberships any one of them is enough, and each says its own."""
    grants = [g for g in scope_of(user).grants if g.can_edit]
    if any(g.citywide for g in grants):
        return {}
    errors = {}
    for grant in grants:
        if grant.role == Role.COUNTY:
            if outfall.county_id == grant.county_id:
                return {}
            county = Jurisdiction.objects.only("name").get(pk=grant.county_id)
            errors.setdefault("county", f"您只能登记和修改{county.name}的排污口：县区请选择“{county.name}”。")
        elif grant.role == Role.ENTITY:
            owner = (
                outfall.pk is not None
                and OutfallUnitLink.objects.filter(
                    outfall_id=outfall.pk, unit_id=grant.unit_id, role=LinkRole.OWNER
                ).exists()
            )
            if outfall.responsible_entity_id == grant.unit_id or owner:
                return {}
            unit = DischargeUnit.objects.only("name").get(pk=grant.unit_id)
            errors.setdefault(
                "responsible_entity",
                f"您以“{unit.name}”的身份登录，只能登记和修改本单位为责任主体的排污口："
                f"责任主体请选择“{unit.name}”。",
            )
        elif grant.role == Role.DEPARTMENT:
            if outfall.type_level2 in grant.department_types:
                return {}
            types = "、".join(Level2(t).label for t in sorted(grant.department_types)) or "（未设置）"
            errors.setdefault(
                "type_level2",
                f"您所在部门负责的二级分类为{types}：请按实际选择其中之一，或交由负责部门登记。",
            )
    return errors


def placement_changed(outfall, old):
    return old is None or any(getattr(outfall, name) != old[name] for name in PLACEMENT_FIELDS)


@transaction.atomic
def save_outfall(outfall, *, user, reason="", confirm_placement=False, expected_version=None, sent=None):
    """Create or update an outfall (not its state: see set_outfall_state). It must lie within what the user
    may edit, before and after, and inside the city. A new or moved point outside its declared county or
    farther than SPATIAL_RIVER_WARN_M from its declared river is saved only with confirm_placement; the
    findings stay on the outfall's file either way. expected_version: the version the editing form was
    opened at; a save over someone else's meanwhile is refused, naming what changed (core.locking)."""
    _check_may_edit(user)
    creating = outfall.pk is None
    old = _stored(outfall)
    errors = validate_outfall(outfall, user=user, old=old) or scope_errors(outfall, user)
    if errors:
        raise ValidationError(errors)
    if expected_version is not None:
        claim_version(outfall, expected_version, user=user, sent=sent)
    elif not creating:
        bump_version(outfall)
    _history(outfall, user, reason)
    outfall.save()
    _check_editable(Outfall.objects, outfall, user)
    if creating:
        record_status_change(
            outfall, user=user, from_value="", to_value=outfall.status, reason=reason or "新建"
        )
    computation = checks.compute([outfall.pk])
    warnings = checks.placement_warnings(computation)
    if warnings and not confirm_placement and placement_changed(outfall, old):
        raise ValidationError({"confirm_placement": warnings}, code="placement")
    checks.write(computation, user=user)
    if outfall.pk in computation.intervals:
        outfall.section_interval = computation.intervals[outfall.pk]
    return outfall


# Many outfalls at once (imports) -------------------------------------------------------------------------
class New(NamedTuple):
    """A new outfall for save_outfalls: the unsaved outfall, its owner (an owner link is added), the label that
    names it in a refusal ("第 12 行"), and `saved(outfall)`, told once it is written (key and code set)."""

    outfall: Outfall
    owner: DischargeUnit | None = None
    label: str = ""
    saved: Callable | None = None


class Changed(NamedTuple):
    """An outfall for save_outfalls to update: the outfall with the caller's changes, `old` its snapshot()
    from before them, and the label that names it in a refusal."""

    outfall: Outfall
    old: dict
    label: str = ""


@dataclass
class BulkResult:
    created: list = field(default_factory=list)  # ids of the new outfalls, in the order given
    updated: list = field(default_factory=list)  # the updated outfalls


def prepare_new_outfall(outfall):
    """The HJ 1235 name of a new outfall whose name was not typed (save() does the same for one outfall)."""
    outfall.normalise()
    if outfall.name_auto or not outfall.name:
        outfall.name = outfall.generated_name()
    return outfall


def error_lines(errors, label=""):
    """{field: message} from validate_outfall as lines naming the field in Chinese (for commands and logs)."""
    names = {f.name: str(f.verbose_name) for f in Outfall._meta.fields}
    return [f"{label}{names.get(k, k)}：{v}" for k, v in errors.items()]


@transaction.atomic
def save_outfalls(new=(), updates=(), *, user, reason, update_fields=(), count=None, progress=None):
    """Create and update many outfalls in one transaction (imports), under the rules of save_outfall.

    new: `New` items, taken a batch at a time (a generator is never held whole: as a list, an import's 100,000
    unsaved outfalls took 250 MiB); count: how many it holds when it has no len(). updates: `Changed` items,
    `old` being snapshot() taken before the caller changed `update_fields`. Every outfall goes through
    validate_outfall, national codes are checked across the batch and the ledger, local codes come from one
    allocator, inserts and updates are bulk with history rows carrying `reason`, each new outfall gets a
    status-change row and its owner link, and everything written gets the spatial checks. The state fields
    are never written here (set_outfall_state). All or nothing: the updates are judged first, then each batch
    of new outfalls before it is written; once a row fails nothing more is written, the rest are still judged
    (the refusal names every failing row), and the refusal rolls back what was written.
    progress(done, total), when given, is told after each batch written.
    """
    _check_may_edit(user)
    updates = list(updates)
    count = len(new) if count is None else count
    fields = sorted({*update_fields, "updated_at", "version"})
    written_state = set(fields) & {f"{n}_id" if n == "merged_into" else n for n in STATE_FIELDS} | (
        set(fields) & set(STATE_FIELDS)
    )
    if written_state:
        raise ValueError(f"save_outfalls does not write the state fields {sorted(written_state)}")

    problems, memo, national = [], {}, {}
    city = checks.city_bounds()

    def judge(outfall, old, label):
        label = label or outfall.name or outfall.code or "新排口"
        fields = set_fields(outfall) if old is None else set(update_fields)
        errors = validate_outfall(
            outfall, user=user, old=old, unique=False, city=city, fields=fields, memo=memo
        )
        if errors:
            problems.extend(error_lines(errors, f"{label}："))
        return outfall, label

    problems += _national_code_conflicts([judge(o, old, label) for o, old, label in updates], national)
    result, positions = BulkResult(), []  # positions: (longitude, id) of every outfall written
    total = count + len(updates)
    allocator = coding.CodeAllocator(Outfall.codes_with_prefix)
    now = timezone.now()
    connection = connections[Outfall.objects.db]
    held = Outfall.objects.count() if count >= ANALYZE_FROM else None
    with ExitStack() as inserting:  # left in reverse: indexes built, the version bumped, the texts written
        searched = inserting.enter_context(search_triggers.refreshed_after(connection))
        inserting.enter_context(ledger_version.counted_once(connection))
        if count >= REBUILD_OUTFALL_INDEXES_FROM and count >= held:
            inserting.enter_context(bulk.indexes_set_aside(Outfall))
        for batch in bulk.chunks(new, BATCH):
            problems += _national_code_conflicts(
                [judge(o, None, label) for o, _, label, _ in batch], national
            )
            if problems:  # judge the rest, write nothing more
                continue
            for item in batch:
                prepare_new_outfall(item.outfall)
                try:
                    item.outfall.code = item.outfall.code or allocator.code(item.outfall.code_prefix())
                except coding.SequenceExhausted as exhausted:
                    problems.append(f"{item.label or item.outfall.name}：{exhausted.message}")
                item.outfall.created_at = item.outfall.updated_at = now
            if problems:
                continue
            _insert_outfalls(batch, user=user, reason=reason, now=now)
            for item in batch:
                searched.add(item.outfall.pk)
                result.created.append(item.outfall.pk)
                positions.append((item.outfall.lon, item.outfall.pk))
                if item.saved is not None:
                    item.saved(item.outfall)
            if progress is not None:
                progress(len(result.created), total)
        if problems:
            raise ValidationError(problems)
    if held is not None and len(result.created) * 10 >= held:
        bulk.analyze(Outfall, OutfallUnitLink)  # (not the text table: PostgreSQL samples its gram index, 2 s)
    if updates:
        changed = [o for o, _, _ in updates]
        for outfall in changed:
            outfall.updated_at = now
            bump_version(outfall)
        bulk_update_with_history(
            changed, Outfall, fields, batch_size=BATCH, default_user=user, default_change_reason=reason[:100]
        )
        result.updated = changed
        if progress is not None:
            progress(total, total)
    created = result.created
    written = created + [o.pk for o in result.updated]
    editable = Outfall.objects.editable_by(user)
    for start in range(0, len(written), BATCH):
        chunk = written[start : start + BATCH]
        if editable.filter(pk__in=chunk).count() != len(set(chunk)):
            raise PermissionDenied(OUT_OF_SCOPE)
    # The checks fill the new outfalls' 断面区间 before their first history row is copied from them. A chunk
    # of outfalls at a time: the findings of 100,000 at once took 130 MiB (a duplicate pair across two chunks
    # is found from both sides, as one outfall's check on save finds it: the same rows in the end). The
    # chunks are bands of longitude: each reads the outfalls in its own box for duplicates, so the reading
    # grows with the outfalls written, not with their square (chunks in the file's order each read the city).
    positions += [(o.lon, o.pk) for o in result.updated]
    positions.sort()
    filled, unrecorded = {}, set(created)
    grows = held is not None and len(created) * 10 >= held  # the findings table grows as much
    for n, chunk in enumerate(bulk.chunks((pk for _, pk in positions), CHECK_CHUNK)):
        filled.update(checks.check_outfalls(chunk, user=user, unrecorded=unrecorded).filled)
        if n == 0 and grows and len(created) > CHECK_CHUNK:
            # The next chunks read the findings of their outfalls by key: SQLite planned that from the old
            # statistics as a walk of every finding of a kind (1.2 s a chunk at 300,000 outfalls).
            bulk.analyze(SpatialFinding)
    del positions
    bulk.copy_history(Outfall, created, user=user, reason=reason, date=now)
    for outfall in result.updated:
        outfall.section_interval = filled.get(outfall.pk, outfall.section_interval)
    return result


# The columns a new outfall is inserted with: all but the key, which the database gives.
_INSERTED = tuple(f for f in Outfall._meta.concrete_fields if not f.primary_key)
_LINK_FIELDS = ("outfall", "unit", "role", "via_channel", "share_note", "share_percent", "created_at")


def _insert_outfalls(batch, *, user, reason, now):
    """Insert prepared new outfalls (`New` items) as rows (core.bulk), read their keys back by code, and add each
    one's status-change row and owner link (with the link's history row). Their own history rows are copied
    after the spatial checks (save_outfalls)."""
    outfalls = [item.outfall for item in batch]
    bulk.insert_rows(
        Outfall, [f.name for f in _INSERTED], [[getattr(o, f.attname) for f in _INSERTED] for o in outfalls]
    )
    keys = dict(Outfall.objects.filter(code__in=[o.code for o in outfalls]).values_list("code", "pk"))
    for outfall in outfalls:
        outfall.pk = keys[outfall.code]
        outfall._state.adding = False
    changed_by = user.pk if user is not None and user.is_authenticated else None
    bulk.insert_rows(
        StatusChange,
        (
            "content_type",
            "object_id",
            "field",
            "from_value",
            "to_value",
            "reason",
            "changed_by",
            "changed_at",
        ),
        [(_outfall_type().pk, o.pk, "status", "", o.status, reason, changed_by, now) for o in outfalls],
    )
    linked = [(item.outfall.pk, item.owner.pk) for item in batch if item.owner is not None]
    if linked:
        defaults = [OutfallUnitLink._meta.get_field(name).get_default() for name in _LINK_FIELDS[2:-1]]
        bulk.insert_rows(OutfallUnitLink, _LINK_FIELDS, [(o, u, *defaults, now) for o, u in linked])
        link_ids = OutfallUnitLink.objects.filter(outfall_id__in=[o for o, _ in linked]).values_list(
            "pk", flat=True
        )
        bulk.copy_history(OutfallUnitLink, list(link_ids), user=user, reason=reason, date=now)


def _national_code_conflicts(judged, seen):
    """National codes used twice among the outfalls judged so far, or already used by another outfall of the
    ledger. judged: (outfall, label) of one batch; seen: {code: (label, key or None)} kept across the batches
    (a code first seen in an earlier batch was looked up then, and may since have been written by it)."""
    problems, first = [], {}
    for outfall, label in judged:
        code = outfall.national_code
        if not code:
            continue
        if code in seen:
            problems.append(f"{label}：国家统一编码 {code} 与{seen[code][0]}重复。")
        else:
            first[code] = (label, outfall.pk)
        seen[code] = (label, outfall.pk)
    codes = list(first)
    for start in range(0, len(codes), BATCH):
        rows = Outfall.objects.filter(national_code__in=codes[start : start + BATCH])
        for pk, code in rows.values_list("pk", "national_code"):
            label, own = first[code]
            if own != pk:
                problems.append(f"{label}：国家统一编码 {code} 已被台账中另一排口使用。")
    return problems


def _outfall_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Outfall)


# Units and links -----------------------------------------------------------------------------------------
@transaction.atomic
def save_unit(unit, *, user, expected_version=None, sent=None):
    _check_may_edit(user)
    unit.full_clean()
    if expected_version is not None:
        claim_version(unit, expected_version, user=user, sent=sent)
    elif unit.pk is not None:
        bump_version(unit)
    unit.save()
    _check_editable(DischargeUnit.objects, unit, user)
    return unit


@transaction.atomic
def create_units(units, *, user, reason):
    """Many new units at once (imports), under the model's rules (clean() and field checks), with history."""
    _check_may_edit(user)
    problems = []
    for unit in units:
        try:
            unit.full_clean(exclude=["county", "town"], validate_unique=False)
        except ValidationError as error:
            problems += [f"排污单位“{unit.name}”：{m}" for m in error.messages]
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    for unit in units:
        unit.created_at = unit.updated_at = now
    keys = bulk.insert_rows(
        DischargeUnit,
        [f.name for f in _UNIT_INSERTED],
        [[getattr(u, f.attname) for f in _UNIT_INSERTED] for u in units],
        returning=True,
    )
    for unit, key in zip(units, keys, strict=True):
        unit.pk = key
        unit._state.adding = False
    bulk.copy_history(DischargeUnit, keys, user=user, reason=reason, date=now)
    return units


_UNIT_INSERTED = tuple(f for f in DischargeUnit._meta.concrete_fields if not f.primary_key)


@transaction.atomic
def link_unit(outfall, unit, *, user, role, via_channel="", share_note=""):
    _check_editable(Outfall.objects, outfall, user)
    link, _ = OutfallUnitLink.objects.update_or_create(
        outfall=outfall,
        unit=unit,
        defaults={"role": role, "via_channel": via_channel, "share_note": share_note},
    )
    return link


@transaction.atomic
def unlink_unit(link, *, user):
    _check_editable(Outfall.objects, link.outfall, user)
    link.delete()


# Reference data kept through the API ---------------------------------------------------------------------
@transaction.atomic
def save_zone(zone, *, user):
    """Create or change a water-function zone (the API; the admin and the GIS import write them too): the city
    bureau's editors, under the model's rules."""
    if not scope_of(user).can_edit_citywide:
        raise PermissionDenied("水功能区为全市基础数据，只有市级管理员和市生态环境局可以修改。")
    zone.full_clean()
    if user is not None and user.is_authenticated:
        zone._history_user = user
    zone.save()
    return zone
