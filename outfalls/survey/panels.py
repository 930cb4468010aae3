"""The 排查溯源 panel on the outfall's file (registry.panels, through SurveyConfig.outfall_panel): the suspected
points that found the outfall and its tracing case, or the button that opens one."""

from django.contrib.contenttypes.models import ContentType

from outfalls.core.models import Attachment
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall

from .models import FieldCheck, SuspectedPoint, TracingCase


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
    # The photos taken at the field checks of those points belong to the outfall's file too (一口一档).
    checks = FieldCheck.objects.visible_to(user).filter(point__in=[p.pk for p in points]).values("pk")
    photos = list(
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(FieldCheck), object_id__in=checks
        ).order_by("uploaded_at", "id")
    )
    return {
        "template": "survey/outfall_panel.html",
        "case": case,
        "points": points,
        "photos": [photo for photo in photos if photo.is_photo],
        "can_open_case": can_open,
        "outfall_id": outfall.pk,
        "borrowed": outfall.is_borrowed,
    }
