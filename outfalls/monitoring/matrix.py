"""The exceedance matrix: outfalls × parameters over a period, each cell coloured by the worst finding.

Cell states, worst first: chronic (持续超标), exceedance (超标, with the largest multiple), missing (缺测),
unjudged (无法判定), compliant (有样品且均达标), and none (no value in the period).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q

from .choices import FindingKind
from .models import Finding, HourValue, Parameter, SampleValue

STATE_ORDER = ("chronic", "exceedance", "missing", "unjudged", "compliant", "none")
STATE_LABELS = {
    "chronic": "持续超标",
    "exceedance": "超标",
    "missing": "缺测",
    "unjudged": "无法判定",
    "compliant": "达标",
    "none": "无数据",
}
STATE_CSS = {
    "chronic": "cell-chronic",
    "exceedance": "cell-exceedance",
    "missing": "cell-missing",
    "unjudged": "cell-unjudged",
    "compliant": "cell-compliant",
    "none": "cell-none",
}


@dataclass
class Cell:
    samples: int = 0
    hours: int = 0
    exceedances: int = 0
    chronic: int = 0
    missing: int = 0
    unjudged: int = 0
    max_multiple: float | None = None

    @property
    def state(self):
        if self.chronic:
            return "chronic"
        if self.exceedances:
            return "exceedance"
        if self.missing:
            return "missing"
        if self.unjudged:
            return "unjudged"
        if self.samples or self.hours:
            return "compliant"
        return "none"

    @property
    def css(self):
        return STATE_CSS[self.state]

    @property
    def title(self):
        parts = [STATE_LABELS[self.state]]
        if self.samples:
            parts.append(f"样品 {self.samples} 个")
        if self.hours:
            parts.append(f"小时值 {self.hours} 个")
        if self.exceedances:
            parts.append(f"超标 {self.exceedances} 次")
        if self.max_multiple is not None:
            parts.append(f"最大超标 {self.max_multiple:.2f} 倍")
        if self.missing:
            parts.append(f"缺测 {self.missing} 期")
        return "，".join(parts)


@dataclass
class Row:
    outfall: object
    cells: list = field(default_factory=list)

    @property
    def worst(self):
        states = [c.state for c in self.cells]
        return min(states, key=STATE_ORDER.index) if states else "none"


def _period(qs, column, start, end):
    return qs.filter(**{f"{column}__gte": start, f"{column}__lt": end})


def build(outfalls, start, end):
    """(parameters, rows, totals) for the outfalls (a queryset, already scoped and filtered) in [start, end).

    Only outfalls with a value or a finding in the period are rows; columns are the parameters that appear."""
    ids = outfalls.values("pk")
    cells = {}

    def cell(outfall_id, parameter_id):
        return cells.setdefault((outfall_id, parameter_id), Cell())

    samples = _period(SampleValue.objects.filter(outfall_id__in=ids), "sampled_at", start, end)
    for row in samples.values("outfall_id", "parameter_id").annotate(n=Count("id")):
        cell(row["outfall_id"], row["parameter_id"]).samples = row["n"]
    hours = _period(HourValue.objects.filter(outfall_id__in=ids), "at", start, end)
    for row in hours.values("outfall_id", "parameter_id").annotate(n=Count("id")):
        cell(row["outfall_id"], row["parameter_id"]).hours = row["n"]
    findings = Finding.objects.filter(outfall_id__in=ids).filter(
        Q(at__gte=start, at__lt=end) | Q(period_end__gte=start, at__lt=end)
    )
    for row in findings.values("outfall_id", "parameter_id", "kind").annotate(
        n=Count("id"), top=Max("multiple")
    ):
        target = cell(row["outfall_id"], row["parameter_id"])
        kind, n = row["kind"], row["n"]
        if kind == FindingKind.EXCEEDANCE:
            target.exceedances, target.max_multiple = n, row["top"]
        elif kind == FindingKind.CHRONIC:
            target.chronic = n
        elif kind == FindingKind.MISSING:
            target.missing = n
        elif kind == FindingKind.UNJUDGED:
            target.unjudged = n
    used = {p for (_, p) in cells}
    parameters = [p for p in Parameter.objects.all() if p.pk in used and p.code != "FLOW"]
    outfall_ids = {o for (o, _) in cells}
    rows = []
    for outfall in (
        outfalls.filter(pk__in=outfall_ids).select_related("county").order_by("county__code", "code")
    ):
        rows.append(Row(outfall, [cells.get((outfall.pk, p.pk), Cell()) for p in parameters]))
    totals = {state: 0 for state in STATE_ORDER}
    for row in rows:
        for c in row.cells:
            totals[c.state] += 1
    return parameters, rows, totals
