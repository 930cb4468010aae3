"""The change history of an outfall file: who changed what and when, from django-simple-history rows."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist

from outfalls.core.models import user_display

from .models import Outfall, OutfallUnitLink, outfall_scope_q

HIDDEN_FIELDS = {"updated_at", "created_at", "name_auto", "version"}
ACTIONS = {"+": "新建", "~": "修改", "-": "删除"}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    action: str
    subject: str
    reason: str = ""
    changes: list = field(default_factory=list)


def _display(model, field_name, value):
    if value in (None, ""):
        return "—"
    try:
        model_field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return str(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        related = model_field.related_model.objects.filter(pk=value).first()
        return str(related) if related else f"#{value}"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _label(model, field_name):
    try:
        return str(model._meta.get_field(field_name).verbose_name)
    except FieldDoesNotExist:
        return field_name


def _entries(records, model, subject_of):
    entries = []
    previous = {}
    for record in records:  # oldest first
        key = record.id
        prior = previous.get(key)
        changes = []
        if prior is not None and record.history_type == "~":
            delta = record.diff_against(prior)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                changes.append(
                    Change(
                        _label(model, change.field),
                        _display(model, change.field, change.old),
                        _display(model, change.field, change.new),
                    )
                )
            if not changes:
                previous[key] = record
                continue
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=user_display(record.history_user),
                action=ACTIONS.get(record.history_type, record.history_type),
                subject=subject_of(record),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
        previous[key] = record
    return entries


def outfall_history(outfall):
    """All changes to the outfall and its unit links, newest first."""
    own = outfall.history.select_related("history_user").order_by("history_date", "history_id")
    links = (
        OutfallUnitLink.history.filter(outfall_id=outfall.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    entries = _entries(own, Outfall, lambda r: "排污口信息")
    entries += _entries(
        links,
        OutfallUnitLink,
        lambda r: (
            f"关联单位：{_display(OutfallUnitLink, 'unit', r.unit_id)}（{_display(OutfallUnitLink, 'role', r.role)}）"
        ),
    )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def outfalls_as_of(when, user):
    """The ledger as it stood at `when` (a datetime), within the user's scope.

    Rows are Outfall instances rebuilt from history; outfalls deleted by then are left out.
    """
    q = outfall_scope_q(user)
    snapshot = Outfall.history.as_of(when)
    return snapshot if q is None else snapshot.filter(q)
