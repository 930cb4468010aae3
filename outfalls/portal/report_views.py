"""The citizen's side of reports: the phone form, the tracking code and the public status page, and the
"near a known outfall" lookup. Never cached (a form with a CSRF token, a person's own report)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from outfalls.core.params import parse_float
from outfalls.core.services import status_changes_for
from outfalls.registry.disclosure import public_outfalls

from . import abuse, services
from .choices import ReportStatus
from .forms import LookupForm, ReportForm
from .models import Report
from .views import _render

LIMIT_MESSAGE = "提交过于频繁：同一网络或设备一小时内的举报已达上限，请稍后再试，或拨打举报电话 {hotline}。"


def _form_page(request, form, status=200, challenge=None):
    context = {"form": form, "nav": "report", "challenge": challenge}
    response = _render(request, "portal/report.html", context, status=status)
    if not request.COOKIES.get(abuse.DEVICE_COOKIE):
        response.set_signed_cookie(
            abuse.DEVICE_COOKIE,
            abuse.device_id(request),
            salt=abuse.DEVICE_COOKIE,
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _challenge_for(client, device, form=None):
    if not abuse.needs_challenge(client, device):
        return None
    question, token = abuse.new_challenge()
    if form is not None:
        data = form.data.copy()
        data["challenge_token"] = token
        data["challenge_answer"] = ""
        form.data = data
    return {"question": question, "token": token}


@never_cache
def report(request):
    client, device = abuse.client_key(request), abuse.device_key(request)
    if request.method != "POST":
        initial = {}
        code = (request.GET.get("outfall") or "")[:48]
        about = public_outfalls().filter(code=code).only("code", "lon", "lat").first() if code else None
        if about is not None:  # "举报该排污口的问题" on an outfall's public page
            initial = {
                "outfall_code": about.code,
                "lon": about.lon,
                "lat": about.lat,
                "location_source": "map",
            }
        return _form_page(request, ReportForm(initial=initial), challenge=_challenge_for(client, device))
    form = ReportForm(request.POST)
    if abuse.over_limit(client, device):
        form.is_valid()
        form.add_error(None, LIMIT_MESSAGE.format(hotline=settings.PORTAL_HOTLINE))
        return _form_page(request, form, status=429)
    if abuse.needs_challenge(client, device) and not abuse.challenge_passed(
        request.POST.get("challenge_token"), request.POST.get("challenge_answer")
    ):
        form.is_valid()
        form.add_error("challenge_answer", "提交较多，请先正确计算下面的算式再提交（防止自动提交）。")
        return _form_page(request, form, status=400, challenge=_challenge_for(client, device, form))
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            created = services.submit_report(
                data, request.FILES.getlist("photos"), client_key=client, device_key=device
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                target = field if field in form.fields else None
                for message in messages:
                    form.add_error(target, message)
        else:
            return redirect(reverse("portal:report_status", args=[created.tracking_code]) + "?new=1")
    return _form_page(request, form, status=400, challenge=_challenge_for(client, device, form))


def nearby(request):
    """Disclosed outfalls near a point, for the form's "is it about this outfall?" question."""
    lon = parse_float(request.GET.get("lon"), "lon", minimum=73, maximum=136, label="经度")
    lat = parse_float(request.GET.get("lat"), "lat", minimum=3, maximum=54, label="纬度")
    found = services.nearby_public_outfalls(lon, lat)
    return JsonResponse(
        {
            "outfalls": [
                {
                    "code": o.code,
                    "name": o.name,
                    "type": o.type_label,
                    "water_body": o.water_body.name,
                    "distance_m": round(o.distance_m),
                }
                for o in found
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )


PUBLIC_STEPS = {
    ReportStatus.RECEIVED: "已受理",
    ReportStatus.ASSIGNED: "已分派",
    ReportStatus.INVESTIGATING: "正在处理",
    ReportStatus.ANSWERED: "已答复",
    ReportStatus.CLOSED: "已办结",
    ReportStatus.MERGED: "与其他群众反映的同一问题合并办理",
}


@never_cache
def lookup(request):
    form = LookupForm(request.GET or None)
    if form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        if Report.objects.filter(tracking_code=code).exists():
            return redirect("portal:report_status", code=code)
        form.add_error("code", "没有找到该查询码，请核对后再试。")
    return _render(request, "portal/lookup.html", {"form": form, "nav": "lookup"})


@never_cache
def report_status(request, code):
    """The reporter's page: category, when, the steps (dates and labels, no names) and the reply. Nothing the
    reporter did not write is shown, and nothing private (contact, position, photos)."""
    found = get_object_or_404(Report.objects.select_related("merged_into"), tracking_code=code.upper())
    source = found.merged_into or found
    steps = [
        (row.changed_at, PUBLIC_STEPS.get(row.to_value, ""))
        for row in reversed(list(status_changes_for(found).filter(field="status")))
    ]
    if found.merged_into_id:
        steps += [
            (row.changed_at, PUBLIC_STEPS.get(row.to_value, ""))
            for row in reversed(list(status_changes_for(source).filter(field="status")))
            if row.to_value != ReportStatus.RECEIVED
        ]
    return _render(
        request,
        "portal/report_status.html",
        {
            "report": found,
            "status_label": PUBLIC_STEPS[ReportStatus(source.status)],
            "steps": steps,
            "reply": source.reply,
            "replied_at": source.replied_at,
            "new": request.GET.get("new") == "1",
            "nav": "lookup",
        },
    )
