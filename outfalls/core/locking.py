"""Optimistic locking: two people editing one record cannot silently undo each other's work.

A versioned model carries `version`. An edit form sends the version it was opened at (a hidden field,
`VersionedFormMixin`); the service that saves calls `claim_version(obj, expected, user=)` inside its
transaction before it saves. The claim is one conditional UPDATE (`... SET version = version + 1 WHERE pk = ?
AND version = ?`): it bumps the version and locks the row when nobody saved meanwhile, and changes nothing
when somebody did. Then it raises a ValidationError (code "stale") naming who saved meanwhile, when, and
which of the fields on the form now hold something else than what this person sent. The form shows it
above the fields and keeps what was typed, with the current version, so a second save after a look is
deliberate. Every other writer of a versioned row (workflow steps, imports, checks) bumps the version too
(`bump_version`, or `F("version") + 1` in a bulk update), so a form opened before them is stale as well.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone

STALE = "stale"


class VersionedModel(models.Model):
    version = models.PositiveIntegerField("版本", default=1, editable=False)

    class Meta:
        abstract = True


def bump_version(obj):
    """For a writer that saves obj with update_fields: count this write (add "version" to the fields)."""
    obj.version = (obj.version or 0) + 1
    return "version"


def claim_version(obj, expected, *, user=None, sent=None):
    """Claim the right to save obj over version `expected` (None: no check, e.g. a new object or a system
    write that bumps the version itself). sent: {field name: value} the person submitted, to name the fields
    that now differ. Must run inside the transaction that then saves obj."""
    if expected is None or obj.pk is None:
        return
    model = type(obj)
    updated = model._default_manager.filter(pk=obj.pk, version=expected).update(version=F("version") + 1)
    if updated:
        obj.version = int(expected) + 1
        return
    raise ValidationError(stale_message(obj, expected, sent or {}), code=STALE)


def stale_message(obj, expected, sent):
    model = type(obj)
    current = model._default_manager.filter(pk=obj.pk).first()
    if current is None:
        return "保存未完成：该记录已被删除。"
    who, when = _last_writer(current)
    differing = []
    for name, value in sent.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a form field that is not a model field
            continue
        now = getattr(current, field.attname)
        if _same(now, value):
            continue
        differing.append(f"{field.verbose_name}：现为“{_shown(current, field)}”")
    head = (
        f"保存未完成：您打开本页后，{who}于{when}修改了此记录（第 {expected} 版 → 第 {current.version} 版）。"
    )
    if differing:
        head += "与您填写的不同的当前内容：" + "；".join(differing[:12]) + "。"
    return head + "您填写的内容已保留；请核对后再保存（再次保存将以您填写的为准）。"


def _same(now, sent):
    if isinstance(sent, models.Model):
        sent = sent.pk
    if isinstance(sent, models.QuerySet | list | tuple | set):
        return True  # many-to-many: not compared here
    if now in (None, "") and sent in (None, ""):
        return True
    if isinstance(now, float) and sent not in (None, ""):
        try:
            return abs(now - float(sent)) < 1e-9
        except (TypeError, ValueError):
            return False
    return now == sent


def _shown(obj, field):
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")() or "（空）"
    value = getattr(obj, field.name)
    if value in (None, ""):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _last_writer(obj):
    """(who, when) of the latest change: from django-simple-history where the model keeps it."""
    history = getattr(obj, "history", None)
    if history is not None:
        record = history.order_by("-history_date", "-history_id").select_related("history_user").first()
        if record is not None:
            user = record.history_user
            name = (user.get_full_name() or user.username) if user is not None else "系统"
            return name, timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
    stamp = getattr(obj, "updated_at", None)
    return "他人", timezone.localtime(stamp).strftime("%Y-%m-%d %H:%M") if stamp else "刚才"


class VersionedFormMixin:
    """For a ModelForm of a VersionedModel: a hidden `version` field holding the version the form was opened
    at (`expected_version()` for the service). After a stale refusal (core.forms.add_service_errors) the
    re-shown form carries the current version, keeping every typed value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput,
            required=False,
            min_value=1,
            initial=instance.version if instance is not None and instance.pk is not None else None,
        )

    def expected_version(self):
        instance = getattr(self, "instance", None)
        if instance is None or instance.pk is None:
            return None
        sent = self.cleaned_data.get("version") if hasattr(self, "cleaned_data") else None
        return sent if sent is not None else instance.version

    def sent_values(self):
        """{model field: value the person submitted} for the stale message."""
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items() if name != "version"}

    def refresh_version(self):
        instance = getattr(self, "instance", None)
        if instance is None or instance.pk is None or not self.is_bound:
            return
        current = (
            type(instance)._default_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
        )
        if current is not None:
            self.data = self.data.copy()
            self.data[self.add_prefix("version")] = str(current)


def is_stale(error):
    """True when a ValidationError is claim_version's refusal."""
    return any(getattr(e, "code", None) == STALE for e in getattr(error, "error_list", [error]))
