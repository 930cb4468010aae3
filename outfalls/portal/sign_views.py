"""The sign panel on the outfall's file (registry.panels, through PortalConfig.outfall_panel): the sign's
records (files generated, installation confirmed with its photo) and, for those who may edit the outfall,
the form confirming the installation. The download of the sign PDF itself comes with portal/signboard.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from outfalls.core.models import Attachment
from outfalls.registry.models import Outfall

from . import signs
from .models import SignEvent


def outfall_panel(outfall, user):
    events = list(SignEvent.objects.filter(outfall=outfall).select_related("by")[:20])
    photos = {}
    if events:
        for photo in Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(SignEvent), object_id__in=[e.pk for e in events]
        ):
            photos[photo.object_id] = photo
    for event in events:
        event.photo = photos.get(event.pk)
    return {
        "template": "portal/sign_panel.html",
        "sign_events": events,
        "sign_outfall": outfall,
        "sign_can_confirm": not outfall.sign_installed
        and Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists(),
    }


@login_required
@require_POST
def confirm_installed(request, pk):
    outfall = get_object_or_404(Outfall.objects.visible_to(request.user), pk=pk)
    try:
        signs.confirm_installed(
            outfall, user=request.user, photo=request.FILES.get("photo"), note=request.POST.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, "未完成：" + "；".join(error.messages))
    else:
        messages.success(request, "已确认标识牌安装，台账“已设置标识牌”已更新。")
    return redirect("registry:outfall_detail", pk=outfall.pk)
