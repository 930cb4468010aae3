"""The spatial checks' findings list (空间检查结果). Scope: SpatialFinding.objects.visible_to(user)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, IntegerField, Value, When
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from outfalls.core.views import ScopedListView

from . import jobs
from .choices import FindingKind, FindingSeverity
from .filters import FindingFilter
from .models import Outfall, SpatialFinding

# Most serious first, on the list and the outfall's card.
SEVERITY_ORDER = (FindingSeverity.ERROR, FindingSeverity.WARNING, FindingSeverity.INFO)
SEVERITY_BADGE = {
    FindingSeverity.ERROR: "text-bg-danger",
    FindingSeverity.WARNING: "text-bg-warning",
    FindingSeverity.INFO: "text-bg-secondary",
}


def severity_rank():
    return Case(
        *[When(severity=s, then=Value(n)) for n, s in enumerate(SEVERITY_ORDER)],
        default=Value(len(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )


class FindingListView(ScopedListView):
    model = SpatialFinding
    filterset_class = FindingFilter
    template_name = "registry/finding_list.html"

    def base_queryset(self):
        return (
            SpatialFinding.objects.select_related("outfall", "outfall__county", "outfall__water_body")
            .defer("outfall__county__boundary", "outfall__water_body__geometry")
            .annotate(severity_rank=severity_rank())
            .order_by("severity_rank", "outfall__code", "kind", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = self.object_list.order_by()  # filtered and scoped, before pagination
        by_severity = dict(rows.values_list("severity").annotate(n=Count("id")).order_by())
        by_kind = dict(rows.values_list("kind").annotate(n=Count("id")).order_by())
        query = self.request.GET.copy()
        for name in ("page", "severity", "kind"):
            query.pop(name, None)
        context.update(
            severity_counts=[
                (s, s.label, by_severity.get(s.value, 0), SEVERITY_BADGE[s]) for s in SEVERITY_ORDER
            ],
            kind_counts=[(k, k.label, by_kind.get(k.value, 0)) for k in FindingKind],
            query_without_counts=query.urlencode(),
            can_run_checks=jobs.can_run_spatial_check(self.request.user),
        )
        dress(context["object_list"], self.request.user)
        return context


@login_required
@require_POST
def run_checks(request):
    """The batch spatial check of every outfall, on the task queue (city editors)."""
    job = jobs.start_spatial_check(request.user)
    return redirect("core:job_detail", pk=job.pk)


def dress(findings, user):
    """Give each finding .badge (a Bootstrap class) and .other: the related outfall of a duplicate when
    the user may see it, else None. One query for all the related outfalls."""
    findings = list(findings)
    other_ids = {f.other_outfall_id for f in findings if f.other_outfall_id}
    others = {}
    if other_ids:
        others = Outfall.objects.visible_to(user).only("id", "code", "name").in_bulk(other_ids)
    for finding in findings:
        finding.badge = SEVERITY_BADGE.get(finding.severity, "text-bg-light")
        finding.other = others.get(finding.other_outfall_id)
    return findings
