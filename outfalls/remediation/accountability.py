"""问责: 通报批评 and 公开约谈 of a county-level jurisdiction or a department (实施方案（十五）), each with its reason
drawn from the supervision figures (supervision.py: completion rate against the city's, overdue plans, close-outs
returned), kept as they were the day it was recorded. The notice (notice.py) and the statutory reports cite
the records.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.scopes import scope_of
from outfalls.core.services import record_status_change

from . import supervision
from .choices import AccountabilityKind
from .models import Accountability

REASON_MIN = 10
CITED_DAYS = 365  # the notice cites the records of the last year


def _pct(value):
    return "—" if value is None else f"{value}%"


def figures_for(*, county=None, department=None, today=None):
    """The supervision figures of one county or department today, over every plan (the system's view), with the
    city's completion rate beside them: {as_of, total, completed, completion_rate, submitted, returned, overdue,
    city_completion_rate}."""
    today = supervision.today_or(today)
    total = supervision.totals(None, today)
    if county is not None:
        rows = [r for r in supervision.county_ranking(None, today) if r.code == county.code]
    else:
        rows = [r for r in supervision.department_ranking(None, today) if r.name == department.name]
    row = rows[0] if rows else supervision.Row(name=county.name if county is not None else department.name)
    return {
        "as_of": today.isoformat(),
        "total": row.total,
        "completed": row.completed,
        "completion_rate": row.completion_rate,
        "submitted": row.submitted,
        "returned": row.returned,
        "overdue": row.overdue,
        "city_completion_rate": total.completion_rate,
    }


def suggested_reason(name, figures):
    """The reason's first draft, from the figures: what a clerk would write and then edit."""
    parts = [
        f"截至{figures['as_of']}，{name}入河排污口整治方案{figures['total']}个，已销号{figures['completed']}个，"
        f"完成率{_pct(figures['completion_rate'])}（全市{_pct(figures['city_completion_rate'])}）"
    ]
    if figures["overdue"]:
        parts.append(f"逾期未完成{figures['overdue']}个")
    if figures["returned"]:
        parts.append(f"销号申请被退回{figures['returned']}个")
    lagging = figures["overdue"] or (
        figures["completion_rate"] is not None
        and figures["city_completion_rate"] is not None
        and figures["completion_rate"] < figures["city_completion_rate"]
    )
    text = "，".join(parts) + "。"
    return text + ("整治进展迟缓，履职不力。" if lagging else "")


@transaction.atomic
def record(*, user, kind, decided_on, reason, county=None, department=None, document_number=""):
    """Record a 通报批评 or 公开约谈 with the figures of its target as of today."""
    if not scope_of(user).can_hold_accountable:
        raise PermissionDenied("只有市生态环境局可以记录通报批评和公开约谈。")
    errors = {}
    if kind not in AccountabilityKind.values:
        errors["kind"] = "请选择问责方式。"
    if (county is None) == (department is None):
        errors["county"] = "请选择一个县区或一个部门（二者选一）。"
    elif county is not None and county.level not in COUNTY_LEVELS:
        errors["county"] = f"“{county.name}”不是县区或开发区。"
    if decided_on is None:
        errors["decided_on"] = "请填写日期。"
    elif decided_on > timezone.localdate():
        errors["decided_on"] = "日期不能晚于今天。"
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        errors["reason"] = f"请写明事由（至少 {REASON_MIN} 个字）。"
    if errors:
        raise ValidationError(errors)
    entry = Accountability(
        kind=kind,
        county=county,
        department=department,
        decided_on=decided_on,
        document_number=(document_number or "").strip()[:64],
        reason=reason,
        figures=figures_for(county=county, department=department),
        decided_by=user,
    )
    entry.full_clean()
    entry.save()
    record_status_change(entry, user=user, from_value="", to_value=kind, reason=reason[:200])
    return entry


def cited(user, today=None, days=CITED_DAYS):
    """The records the user sees of the last `days` days, newest first: what a notice or a report cites."""
    today = supervision.today_or(today)
    return (
        Accountability.objects.visible_to(user)
        .filter(decided_on__gt=today - timedelta(days=days), decided_on__lte=today)
        .select_related("county", "department")
        .defer("county__boundary")
    )
