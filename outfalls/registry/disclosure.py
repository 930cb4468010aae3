"""What the public sees (公开): which outfalls, and which of their fields.

- Which outfalls: those whose disclosure state says so (``Outfall.disclosed``). The state is decided in the
  platform: by the rules (settings ``DISCLOSURE_STATUSES`` and ``DISCLOSURE_TYPE_CODES``: retained outfalls and
  those under rectification by default) or by a person of the city bureau, whose decision the rules no longer
  change. The writers are ``registry.services.set_disclosure`` (a decision, or back to the rules),
  ``apply_disclosure_rules`` and ``set_outfall_state`` (which re-applies the rules when the status changes).
- Which fields: ``PUBLIC_FIELDS``, the one list used by the public portal, the anonymous OGC API
  (maps/gis_features.py) and every public export. Responsible persons, phone numbers, addresses of units,
  internal notes and how responsibility was decided are never in it (``NEVER_PUBLIC`` names the ones a
  test plants markers in).
"""

from django.conf import settings

from .models import Outfall

# (model field, Chinese label). Related rows give their name only.
PUBLIC_FIELDS = (
    ("code", "排污口编码"),
    ("national_code", "国家统一编码"),
    ("name", "入河排污口名称"),
    ("type_code", "排污口类型代码"),
    ("type_level2", "二级分类"),
    ("type_level3", "三级分类"),
    ("county", "县区"),
    ("town", "乡镇（街道）"),
    ("water_body", "受纳水体"),
    ("responsible_entity", "排污责任主体"),
    ("status", "状态"),
    ("rectification_measure", "整治类型"),
    ("rectification_status", "整治进展"),
    ("approval_date", "设置审批或排污许可批准时间"),
    ("approval_number", "审批或登记文号"),
    ("permit_number", "排污许可证编号"),
    ("sign_installed", "已设置标识牌"),
    ("lon", "经度"),
    ("lat", "纬度"),
)
PUBLIC_FIELD_NAMES = frozenset(name for name, _ in PUBLIC_FIELDS)
PUBLIC_LABELS = dict(PUBLIC_FIELDS)

# Never public, whatever the list above becomes (a test plants markers in each and reads every public page).
NEVER_PUBLIC = {
    "outfall": ("notes", "responsibility_note", "outlet_description", "source_key", "disclosure_reason"),
    "unit": ("contact", "phone", "address", "notes", "credit_code"),
}
assert not PUBLIC_FIELD_NAMES & set(NEVER_PUBLIC["outfall"])


def rule_discloses(status, type_code):
    """What the disclosure rules say for an outfall of this status and type code."""
    types = settings.DISCLOSURE_TYPE_CODES
    return status in settings.DISCLOSURE_STATUSES and (not types or type_code in types)


def public_outfalls():
    """The outfalls anyone may see (their disclosure state is public)."""
    return Outfall.objects.filter(disclosed=True)


def public_queryset():
    """public_outfalls() with what public_record reads, in one query, without the heavy geometry columns."""
    return (
        public_outfalls()
        .select_related("county", "town", "water_body", "responsible_entity")
        .only(
            *PUBLIC_FIELD_NAMES,
            "id",
            "county__name",
            "county__code",
            "town__name",
            "water_body__name",
            "responsible_entity__name",
        )
    )


def _display(outfall, name):
    value = getattr(outfall, name)
    if value is None or value == "":
        return ""
    if name in ("county", "town", "water_body", "responsible_entity"):
        return value.name
    if name == "sign_installed":
        return "是" if value else "否"
    if name in ("lon", "lat"):
        return f"{value:.6f}"
    if name == "approval_date":
        return value.isoformat()
    display = getattr(outfall, f"get_{name}_display", None)
    return display() if display is not None else str(value)


def public_record(outfall):
    """The outfall's public fields as {field: Chinese text} (empty text for an empty field), in list order."""
    return {name: _display(outfall, name) for name, _ in PUBLIC_FIELDS}


def public_rows(outfall):
    """(label, text) pairs of the public fields that hold something, for a page."""
    record = public_record(outfall)
    return [(PUBLIC_LABELS[name], record[name]) for name, _ in PUBLIC_FIELDS if record[name]]
