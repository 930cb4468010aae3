"""The 一口一策 panel on the outfall's file (registry.panels, through RemediationConfig.outfall_panel)."""

from outfalls.registry.choices import TRACED_OR_LATER

from .models import RectificationPlan
from .services import can_edit_outfall


def outfall_panel(outfall, user):
    plan = (
        RectificationPlan.objects.visible_to(user)
        .filter(outfall=outfall)
        .select_related("merge_target", "programme")
        .first()
    )
    can_create = plan is None and outfall.status in TRACED_OR_LATER and can_edit_outfall(user, outfall)
    if plan is None and not can_create:
        return None
    overdue = plan is not None and plan.is_overdue
    return {
        "template": "remediation/plan_panel.html",
        "plan": plan,
        "can_create_plan": can_create,
        "overdue": overdue,
        "outfall_id": outfall.pk,
    }
