"""工作进度 per county-level jurisdiction: found, traced, responsibility fixed, overdue.

Per county (the rows a user may see: a county officer only their own county):

- found: outfalls in the ledger (visible to the user), and suspected points confirmed as outfalls;
- traced: outfalls whose tracing case is concluded or whose lifecycle status is traced or later;
- fixed: outfalls with a responsible entity and a basis other than 尚未确定;
- overdue: after the county's BASELINE deadline (core.Deadline.due_for, falling back to the city's
  default), the outfalls not fixed; and the campaigns past their own deadline that still have open
  (pending or escalated) points.

All counts start from the models' visible_to(user); a handful of grouped queries, whatever the number
of counties.
"""

import io
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS, Milestone
from outfalls.core.models import Deadline, Jurisdiction
from outfalls.core.spreadsheets import csv_writer, printed_table
from outfalls.registry.choices import TRACED_OR_LATER, ResponsibilityBasis
from outfalls.registry.ledger_export import city_name
from outfalls.registry.models import Outfall

from .choices import OPEN_OUTCOMES, CaseStatus, PointOutcome
from .models import Campaign, SuspectedPoint, TracingCase


@dataclass
class ProgressRow:
    county: object
    outfalls: int = 0
    confirmed_points: int = 0
    traced: int = 0
    fixed: int = 0
    open_cases: int = 0
    baseline_due: object = None
    rectification_due: object = None
    overdue_outfalls: int = 0
    overdue_campaigns: int = 0
    past_baseline: bool = False

    @property
    def unfixed(self):
        return self.outfalls - self.fixed

    @property
    def traced_percent(self):
        return 100 * self.traced / self.outfalls if self.outfalls else None

    @property
    def fixed_percent(self):
        return 100 * self.fixed / self.outfalls if self.outfalls else None

    @property
    def overdue(self):
        return bool(self.overdue_outfalls or self.overdue_campaigns)


def counties_for(user):
    return (
        Jurisdiction.objects.visible_to(user)
        .filter(level__in=COUNTY_LEVELS)
        .defer("boundary")
        .order_by("code")
    )


def progress_rows(user, today=None):
    """[ProgressRow] for the counties the user may see, in code order."""
    today = today or timezone.localdate()
    counties = list(counties_for(user))
    rows = {c.pk: ProgressRow(county=c) for c in counties}
    traced_q = Q(status__in=TRACED_OR_LATER) | Q(tracing_case__status=CaseStatus.CONCLUDED)
    fixed_q = ~Q(responsible_entity=None) & ~Q(responsibility_basis=ResponsibilityBasis.UNKNOWN)
    outfall_counts = (
        Outfall.objects.visible_to(user)
        .filter(county_id__in=rows)
        .values("county_id")
        .annotate(total=Count("id"), traced=Count("id", filter=traced_q), fixed=Count("id", filter=fixed_q))
        .order_by()
    )
    for r in outfall_counts:
        row = rows[r["county_id"]]
        row.outfalls, row.traced, row.fixed = r["total"], r["traced"], r["fixed"]
    for r in (
        SuspectedPoint.objects.visible_to(user)
        .filter(outcome=PointOutcome.CONFIRMED, campaign__county_id__in=rows)
        .values("campaign__county_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[r["campaign__county_id"]].confirmed_points = r["n"]
    for r in (
        TracingCase.objects.visible_to(user)
        .filter(status=CaseStatus.OPEN, outfall__county_id__in=rows)
        .values("outfall__county_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[r["outfall__county_id"]].open_cases = r["n"]
    for r in (
        Campaign.objects.visible_to(user)
        .filter(deadline__lt=today, county_id__in=rows, points__outcome__in=OPEN_OUTCOMES)
        .values("county_id")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    ):
        rows[r["county_id"]].overdue_campaigns = r["n"]
    baseline = Deadline.due_dates(Milestone.BASELINE)
    rectification = Deadline.due_dates(Milestone.RECTIFICATION)
    for row in rows.values():
        row.baseline_due = baseline.get(row.county.pk, baseline.get(None))
        row.rectification_due = rectification.get(row.county.pk, rectification.get(None))
        row.past_baseline = row.baseline_due is not None and today > row.baseline_due
        row.overdue_outfalls = row.unfixed if row.past_baseline else 0
    return [rows[c.pk] for c in counties]


def totals(rows):
    total = ProgressRow(county=None)
    for row in rows:
        for name in (
            "outfalls",
            "confirmed_points",
            "traced",
            "fixed",
            "open_cases",
            "overdue_outfalls",
            "overdue_campaigns",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


HEADERS = [
    "县区",
    "台账排口数",
    "确认为排口的疑似点",
    "已溯源",
    "已明确责任主体",
    "未明确责任主体",
    "溯源中案件",
    "查清底数期限",
    "逾期未明确责任主体",
    "逾期未完成的排查任务",
    "完成整治期限",
]


def table(rows):
    """The export rows (headers first): one line per county, then the total."""

    def line(name, row):
        return [
            name,
            row.outfalls,
            row.confirmed_points,
            row.traced,
            row.fixed,
            row.unfixed,
            row.open_cases,
            row.baseline_due.isoformat() if row.baseline_due else "",
            row.overdue_outfalls,
            row.overdue_campaigns,
            row.rectification_due.isoformat() if row.rectification_due else "",
        ]

    lines = [HEADERS] + [line(row.county.name, row) for row in rows]
    if len(rows) > 1:
        lines.append(line("合计", totals(rows)))
    return lines


def as_csv(rows):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv_writer(buffer).writerows(table(rows))
    return buffer.getvalue().encode("utf-8")


# Column widths of the xlsx (units): the county, then the figures and dates (headers wrap to three lines).
XLSX_WIDTHS = [12, 9, 10, 8, 10, 10, 9, 11, 11, 11, 11]


def xlsx_title(today=None):
    """大同市入河排污口排查溯源工作进度（截至2024-01-01）."""
    today = today or timezone.localdate()
    return f"{city_name()}入河排污口排查溯源工作进度（截至{today.isoformat()}）"


def as_xlsx(rows, title=None, today=None):
    """The table as an xlsx that prints as one table (core.spreadsheets.printed_table), the total in bold."""
    from openpyxl import Workbook

    lines = table(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "工作进度"
    body = lines[1:]
    printed_table(
        ws,
        title=title or xlsx_title(today),
        headers=lines[0],
        rows=body,
        widths=XLSX_WIDTHS,
        bold_rows={len(body) - 1} if len(rows) > 1 else set(),
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
