"""Ledger workflow steps. Views, the API, commands and imports all call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from outfalls.core.scopes import scope_of
from outfalls.core.services import record_status_change

from . import checks
from .choices import LIFECYCLE_TRANSITIONS, LifecycleStatus
from .models import DischargeUnit, Outfall, OutfallUnitLink

OUT_OF_SCOPE = "该记录不在您的管辖范围内，不能保存。"


def _check_editable(queryset, obj, user):
    if not queryset.editable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied(OUT_OF_SCOPE)


def _check_may_edit(user):
    if not scope_of(user).can_edit_anything:
        raise PermissionDenied("您的角色只能查看，不能修改台账。")


@transaction.atomic
def save_outfall(outfall, *, user, reason=""):
    """Create or update an outfall; it must lie within what the user may edit, before and after."""
    _check_may_edit(user)
    creating = outfall.pk is None
    old_measure = (
        ""
        if creating
        else Outfall.objects.filter(pk=outfall.pk).values_list("rectification_measure", flat=True)[0]
    )
    outfall.full_clean(exclude=None if outfall.code else ["code"])
    outfall.save()
    _check_editable(Outfall.objects, outfall, user)
    if creating:
        record_status_change(
            outfall, user=user, from_value="", to_value=outfall.status, reason=reason or "新建"
        )
    if outfall.rectification_measure != old_measure:
        # Edited on the ledger form: the measure's history has a row like a decided proposal's.
        record_status_change(
            outfall,
            user=user,
            from_value=old_measure,
            to_value=outfall.rectification_measure,
            reason=reason or "编辑台账",
            field="rectification_measure",
        )
    checks.check_outfall(outfall, user=user)  # spatial findings, and 断面区间 when the check may fill it
    return outfall


@transaction.atomic
def change_status(outfall, to_status, *, user, reason=""):
    """Move an outfall along its lifecycle (DESIGN.md), leaving a status-change row."""
    outfall = Outfall.objects.select_for_update().get(pk=outfall.pk)
    _check_editable(Outfall.objects, outfall, user)
    allowed = LIFECYCLE_TRANSITIONS[LifecycleStatus(outfall.status)]
    if to_status not in allowed:
        names = "、".join(LifecycleStatus(s).label for s in allowed) or "无"
        raise ValidationError(
            {
                "status": f"状态不能从“{outfall.get_status_display()}”变为“{LifecycleStatus(to_status).label}”，可选：{names}。"
            }
        )
    from_status = outfall.status
    outfall.status = to_status
    outfall._change_reason = reason
    outfall.save(update_fields=["status", "updated_at"])
    record_status_change(outfall, user=user, from_value=from_status, to_value=to_status, reason=reason)
    return outfall


@transaction.atomic
def save_unit(unit, *, user):
    _check_may_edit(user)
    unit.full_clean()
    unit.save()
    _check_editable(DischargeUnit.objects, unit, user)
    return unit


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


def set_rectification_measure(outfall, measure, *, user, reason):
    """Record the outfall's decided rectification measure (整治类型) and leave a status-change row (field
    "rectification_measure"), also when a decision confirms the measure it already had. The caller has
    checked permission (the rectification services)."""
    old = outfall.rectification_measure
    if old != measure:
        outfall.rectification_measure = measure
        outfall._change_reason = reason[:100]
        if user is not None and user.is_authenticated:
            outfall._history_user = user
        outfall.save(update_fields=["rectification_measure", "updated_at"])
    record_status_change(
        outfall, user=user, from_value=old, to_value=measure, reason=reason, field="rectification_measure"
    )
    return outfall
