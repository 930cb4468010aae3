"""整治督办: overdue and due-soon plans, rankings of jurisdictions and departments, dashboard figures.

Every figure starts from RectificationPlan.objects.visible_to(user): a county officer's page counts only
their county. The supervision page, the notice (notice.py) and the dashboard read the same functions.

Definitions (also in docs/remediation-closeout.md):
- a plan is *completed* when its close-out is approved (PlanStatus.APPROVED), *open* otherwise;
- *overdue*: open and its deadline (整治期限) is before today;
- *due soon*: open and its deadline falls within the next DUE_SOON_DAYS days (today included);
- *completion rate*: completed / all plans, in percent with one decimal (None without plans);
- a *lagging* jurisdiction has overdue plans, or a completion rate below the city's (or the scope's) rate.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.models import Department, Jurisdiction
from outfalls.registry.choices import NOT_TRACED, LifecycleStatus, RectificationMeasure
from outfalls.registry.models import Outfall

from .choices import PlanStatus
from .models import MeasureProposal, RectificationPlan
from .proposals import DECIDED

DUE_SOON_DAYS = 30


def today_or(today=None):
    return today or timezone.localdate()


def plans_for(user):
    """The plans a user sees; user None is the system (management commands): every plan."""
    if user is None:
        return RectificationPlan.objects.all()
    return RectificationPlan.objects.visible_to(user)


def open_q():
    return ~Q(status=PlanStatus.APPROVED)


def overdue_q(today):
    return open_q() & Q(deadline__lt=today)


def due_soon_q(today, days=DUE_SOON_DAYS):
    return open_q() & Q(deadline__gte=today, deadline__lte=today + timedelta(days=days))


def list_rows(queryset):
    return queryset.select_related(
        "outfall", "outfall__county", "outfall__water_body", "responsible_unit", "programme"
    ).defer("outfall__county__boundary", "outfall__water_body__geometry")


def overdue_plans(user, today=None):
    today = today_or(today)
    return list_rows(plans_for(user).filter(overdue_q(today))).order_by("deadline", "outfall__code")


def due_soon_plans(user, today=None, days=DUE_SOON_DAYS):
    today = today_or(today)
    return list_rows(plans_for(user).filter(due_soon_q(today, days))).order_by("deadline", "outfall__code")


def open_reason(plan):
    """Why a plan whose progress is 100 % is still open (and so still counted overdue after its deadline),
    in Chinese; "" for a plan below 100 % or already closed out. Read by the notice.

    Progress reaches 100 % when the county reports the work done; the plan closes only when the city
    bureau approves the close-out (销号), which the county must first submit with its evidence."""
    if plan.percent_done < 100 or plan.status == PlanStatus.APPROVED:
        return ""
    if plan.status == PlanStatus.SUBMITTED:
        if plan.submitted_at is None:
            return "已申请销号，待审核"
        day = timezone.localtime(plan.submitted_at).date()
        return f"已于{day.year}年{day.month}月{day.day}日申请销号，待审核"
    if plan.status == PlanStatus.RETURNED:
        reason = " ".join(plan.return_reason.split())
        return f"销号申请被退回：{reason}" if reason else "销号申请被退回，待重新申请"
    return "尚未申请销号"


def rate(done, total):
    return round(done * 100 / total, 1) if total else None


@dataclass
class Row:
    """One ranked unit (a jurisdiction or a department)."""

    name: str
    total: int = 0
    completed: int = 0
    submitted: int = 0
    returned: int = 0
    overdue: int = 0
    due_soon: int = 0
    code: str = ""
    overdue_plans: list = field(default_factory=list)

    @property
    def completion_rate(self):
        return rate(self.completed, self.total)

    @property
    def open(self):
        return self.total - self.completed


def _counts(today):
    return {
        "total": Count("id"),
        "completed": Count("id", filter=Q(status=PlanStatus.APPROVED)),
        "submitted": Count("id", filter=Q(status=PlanStatus.SUBMITTED)),
        "returned": Count("id", filter=Q(status=PlanStatus.RETURNED)),
        "overdue": Count("id", filter=overdue_q(today)),
        "due_soon": Count("id", filter=due_soon_q(today)),
    }


def _ranked(rows):
    """Best first: highest completion rate, then fewest overdue, then name."""
    return sorted(
        rows,
        key=lambda r: (
            -(r.completion_rate if r.completion_rate is not None else -1),
            r.overdue,
            r.code,
            r.name,
        ),
    )


def totals(user, today=None):
    today = today_or(today)
    figures = plans_for(user).aggregate(**_counts(today))
    return Row(name="合计", **figures)


def county_ranking(user, today=None, *, with_overdue_plans=False):
    """Every county-level jurisdiction the user sees that has plans, ranked; one query (two with the
    overdue plans)."""
    today = today_or(today)
    grouped = (
        plans_for(user)
        .values("outfall__county_id", "outfall__county__code", "outfall__county__name")
        .annotate(**_counts(today))
        .order_by()
    )
    rows = {}
    for g in grouped:
        rows[g["outfall__county_id"]] = Row(
            name=g["outfall__county__name"] or "未填县区",
            code=g["outfall__county__code"] or "",
            **{k: g[k] for k in ("total", "completed", "submitted", "returned", "overdue", "due_soon")},
        )
    if with_overdue_plans:
        for plan in overdue_plans(user, today):
            rows[plan.outfall.county_id].overdue_plans.append(plan)
    return _ranked(rows.values())


def department_ranking(user, today=None):
    """Each department's plans are those of outfalls whose level-2 type it is responsible for
    (Department.responsible_types). One query for the plans by type, one for the departments."""
    today = today_or(today)
    by_type = {
        g["outfall__type_level2"]: g
        for g in plans_for(user).values("outfall__type_level2").annotate(**_counts(today)).order_by()
    }
    rows = []
    for department in Department.objects.all():
        row = Row(name=department.name, code=f"{department.order:04d}")
        for level2 in department.responsible_types:
            g = by_type.get(level2)
            if g:
                for key in ("total", "completed", "submitted", "returned", "overdue", "due_soon"):
                    setattr(row, key, getattr(row, key) + g[key])
        if row.total:
            rows.append(row)
    return _ranked(rows)


def lagging(rows, overall_rate):
    """Units with overdue plans or a completion rate below the overall rate, most overdue first."""
    behind = [
        r
        for r in rows
        if r.overdue
        or (overall_rate is not None and r.completion_rate is not None and r.completion_rate < overall_rate)
    ]
    return sorted(behind, key=lambda r: (-r.overdue, r.completion_rate or 0, r.code))


def outfalls_without_plan(user):
    """Outfalls under rectification (整治中), or with a decided measure proposal, that have no plan yet."""
    decided = MeasureProposal.objects.filter(status__in=DECIDED).values("outfall_id")
    return (
        Outfall.objects.for_list()
        .visible_to(user)
        .filter(rectification_plan__isnull=True)
        .filter(Q(status=LifecycleStatus.RECTIFYING) | Q(pk__in=decided))
        .exclude(status__in=NOT_TRACED)
        .order_by("county__code", "code")
    )


# Dashboard -------------------------------------------------------------------------------------------------
def dashboard_data(user, today=None):
    """Measures by type and by status per jurisdiction (stacked bars) and completion rates, for ECharts."""
    today = today_or(today)
    plans = plans_for(user)
    counties = list(
        Jurisdiction.objects.visible_to(user)
        .filter(level__in=COUNTY_LEVELS, pk__in=plans.values("outfall__county_id"))
        .order_by("code")
        .values_list("pk", "name")
    )
    names = [name for _, name in counties]
    index = {pk: i for i, (pk, _) in enumerate(counties)}
    grouped = plans.values("outfall__county_id", "measure", "status").annotate(n=Count("id")).order_by()
    by_measure = {m: [0] * len(counties) for m in RectificationMeasure.values}
    by_status = {s: [0] * len(counties) for s in PlanStatus.values}
    for g in grouped:
        i = index.get(g["outfall__county_id"])
        if i is None:
            continue
        by_measure[g["measure"]][i] += g["n"]
        by_status[g["status"]][i] += g["n"]
    ranking = {r.name: r for r in county_ranking(user, today)}
    return {
        "counties": names,
        "measures": [
            {"name": RectificationMeasure(m).label, "data": by_measure[m]}
            for m in RectificationMeasure.values
        ],
        "statuses": [{"name": PlanStatus(s).label, "data": by_status[s]} for s in PlanStatus.values],
        "completion": [ranking[n].completion_rate or 0 if n in ranking else 0 for n in names],
        "overdue": [ranking[n].overdue if n in ranking else 0 for n in names],
    }
