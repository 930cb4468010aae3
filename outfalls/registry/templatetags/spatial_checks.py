"""The spatial checks' card on the outfall file (templates/registry/outfall_detail.html)."""

from django import template

from ..findings_views import dress, severity_rank

register = template.Library()


@register.simple_tag(takes_context=True)
def spatial_findings(context, outfall):
    """The outfall's findings, most serious first, dressed for display (findings_views.dress)."""
    findings = outfall.findings.annotate(severity_rank=severity_rank()).order_by(
        "severity_rank", "kind", "id"
    )
    return dress(findings, context["request"].user)
