"""The sign panel on the outfall's file (registry.panels, through PortalConfig.outfall_panel): the sign's
records (files generated, installation confirmed with its photo) and, for those who may edit the outfall,
the form confirming the installation. The download of the sign PDF itself comes with portal/signboard.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from outfalls.core.downloads import attachment
from outfalls.core.models import Attachment
from outfalls.core.params import ParamError
from outfalls.registry.models import Outfall

from . import signs
from .choices import SignSize
from .jobs import start_sign_batch
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
    editable = Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists()
    return {
        "template": "portal/sign_panel.html",
        "sign_events": events,
        "sign_outfall": outfall,
        "sign_can_confirm": not outfall.sign_installed and editable,
        "sign_can_generate": editable,
    }


@login_required
def sign_pdf(request, pk):
    """One outfall's sign as a print-ready PDF (?size=wall|standing), recorded as generated."""
    from .signboard import SignContent, render_sign

    outfall = get_object_or_404(Outfall.objects.for_list().editable_by(request.user), pk=pk)
    size = request.GET.get("size") or SignSize.WALL
    if size not in SignSize.values:
        raise ParamError("size", "标识牌形式 size 只能是 wall（平面固定式）或 standing（立柱式）。")
    pdf = render_sign(SignContent(**signs.sign_fields(outfall)), size)
    signs.record_generated([outfall], user=request.user, size=size)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = attachment(f"标识牌-{outfall.code}-{SignSize(size).label}.pdf")
    return response


@login_required
@require_POST
def sign_batch(request):
    """Signs for the ledger's current filter (within the user's editable scope) as a job; its page offers
    the PDF when it is ready."""
    size = request.POST.get("size") or SignSize.WALL
    if size not in SignSize.values:
        raise ParamError("size", "标识牌形式 size 只能是 wall（平面固定式）或 standing（立柱式）。")
    job = start_sign_batch(request.user, request.POST.get("filter", "")[:2000], size)
    return redirect("core:job_detail", pk=job.pk)


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
