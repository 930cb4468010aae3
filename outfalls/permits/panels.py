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


def _rows_and_count(queryset):
    """The first FOLLOW_UP_ROWS rows and their total, counted apart only when the page is full."""
    rows = list(queryset[: FOLLOW_UP_ROWS + 1])
    if len(rows) <= FOLLOW_UP_ROWS:
        return rows, len(rows)
    return rows[:FOLLOW_UP_ROWS], queryset.count()


def supervision_panel(user, today):
    """Two queries (overdue and due-soon applications together, then conditions) on a page whose query count
    is pinned; a count query only when a list has more rows than it shows."""
    waiting = services.overdue_applications(user, today) | services.due_soon_applications(user, today)
    waiting = list(waiting.select_related("county", "applicant").order_by("due_on", "id"))
    overdue = [a for a in waiting if a.due_on < today]
    due_soon = [a for a in waiting if a.due_on >= today]
    conditions, condition_count = _rows_and_count(
        services.expiring_conditions(user, today)
        .select_related("decision__application", "decision__application__applicant")
        .order_by("due_on", "id")
    )
    counts = {"overdue": len(overdue), "due_soon": len(due_soon), "conditions": condition_count}
    return {
        "template": "permits/supervision_panel.html",
        "today": today,
        "overdue": overdue[:FOLLOW_UP_ROWS],
        "due_soon": due_soon[:FOLLOW_UP_ROWS],
        "conditions": conditions,
        "counts": counts,
    }
