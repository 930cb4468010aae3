"""The 排查溯源 panel on the outfall's file (registry.panels, through SurveyConfig.outfall_panel): the suspected
points that found the outfall and its tracing case, or the button that opens one."""

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall

from .models import SuspectedPoint, TracingCase


def outfall_panel(outfall, user):
    case = TracingCase.objects.visible_to(user).filter(outfall=outfall).first()
    points = list(
        SuspectedPoint.objects.visible_to(user)
        .filter(outfall=outfall)
        .select_related("campaign")
        .order_by("id")
    )
    can_open = (
        case is None
        and outfall.status == LifecycleStatus.VERIFIED
        and Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists()
    )
    if case is None and not points and not can_open:
        return None
    return {
        "template": "survey/outfall_panel.html",
        "case": case,
        "points": points,
        "can_open_case": can_open,
        "outfall_id": outfall.pk,
        "borrowed": outfall.is_borrowed,
    }
