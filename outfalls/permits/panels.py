"""What the setup review and the permits add to other pages through registry.panels (AppConfig hooks): the
outfall's file (its applications, decisions, permits and limits), the supervision page (overdue applications
and expiring conditions)."""

from django.utils import timezone

from . import services
from .models import DischargePermit, PermitOutfall, SetupApplication

FOLLOW_UP_ROWS = 100


def outfall_panel(outfall, user):
    applications = list(
        SetupApplication.objects.visible_to(user)
        .filter(outfall=outfall)
        .select_related("decision")
        .order_by("-created_at")
    )
    entries = list(
        PermitOutfall.objects.filter(outfall=outfall, permit__in=DischargePermit.objects.visible_to(user))
        .select_related("permit", "permit__unit")
        .prefetch_related("limits", "monitoring")
        .order_by("-permit__valid_until")
    )
    if not applications and not entries:
        return None
    return {
        "template": "permits/outfall_panel.html",
        "applications": applications,
        "entries": entries,
        "today": timezone.localdate(),
    }


def supervision_panel(user, today):
    overdue = (
        services.overdue_applications(user, today).select_related("county", "applicant").order_by("due_on")
    )
    due_soon = (
        services.due_soon_applications(user, today).select_related("county", "applicant").order_by("due_on")
    )
    conditions = (
        services.expiring_conditions(user, today)
        .select_related("decision__application", "decision__application__applicant")
        .order_by("due_on")
    )
    counts = {"overdue": overdue.count(), "due_soon": due_soon.count(), "conditions": conditions.count()}
    return {
        "template": "permits/supervision_panel.html",
        "today": today,
        "overdue": list(overdue[:FOLLOW_UP_ROWS]),
        "due_soon": list(due_soon[:FOLLOW_UP_ROWS]),
        "conditions": list(conditions[:FOLLOW_UP_ROWS]),
        "counts": counts,
    }
