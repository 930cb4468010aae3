"""The 监测 panel on the outfall's file (registry.panels, through MonitoringConfig.outfall_panel): which limits
apply and why, the latest findings, and the way to the outfall's monitoring page."""

from datetime import timedelta

from django.utils import timezone

from .choices import FindingKind
from .limits import limits_for
from .models import Finding, Sample


def outfall_panel(outfall, user):
    since = timezone.now() - timedelta(days=365)
    limits = limits_for([outfall]).get(outfall.pk)
    findings = Finding.objects.filter(outfall=outfall, at__gte=since)
    counts = {kind: 0 for kind in FindingKind.values}
    for kind in findings.values_list("kind", flat=True):
        counts[kind] += 1
    return {
        "template": "monitoring/outfall_panel.html",
        "outfall_id": outfall.pk,
        "limits": limits,
        "permit_parameters": limits.permit_parameters if limits else [],
        "counts": [(FindingKind(k).label, n, k) for k, n in counts.items() if n],
        "latest": findings.select_related("parameter").order_by("-at")[:3],
        "samples": Sample.objects.filter(outfall=outfall, sampled_at__gte=since).count(),
    }
