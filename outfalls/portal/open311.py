"""Open311 GeoReport v2 on the citizen reports (docs/portal.md, "Open311"): the same reports, the same checks,
routing and limits as the phone form. JSON only (``.json``). Public: no api_key; nothing private in any
answer (no contact, no description, positions rounded to about 100 m, no photos).

- GET  /open311/v2/discovery.json
- GET  /open311/v2/services.json                 the report categories
- GET  /open311/v2/requests.json                 ?service_request_id=a,b ?service_code= ?status=open|closed
                                                 ?start_date= ?end_date= (ISO 8601); newest first, at most 1000
- GET  /open311/v2/requests/<id>.json
- POST /open311/v2/requests.json                 service_code, lat, long (or address_string), description,
                                                 optional first_name/last_name/phone; photos as ``media``
                                                 files (multipart), 0-6
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from outfalls.core.params import ParamError, parse_float

from . import abuse, services
from .choices import OPEN_STATUSES, ReportCategory
from .models import Report

MAX_REQUESTS = 1000
GROUP = "入河排污口"
DESCRIPTIONS = {
    ReportCategory.ODOUR: "河道或排污口有异味、臭味",
    ReportCategory.COLOUR: "排污口出水或河水颜色异常",
    ReportCategory.DEAD_FISH: "河道出现死鱼",
    ReportCategory.ILLEGAL_PIPE: "发现私设暗管、偷排管道",
    ReportCategory.RAIN_DUMPING: "下雨时趁机偷排",
    ReportCategory.OTHER: "其他违法排污行为",
}


def _json(data, status=200):
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _error(status, description):
    return _json([{"code": status, "description": description}], status=status)


def _iso(value):
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def discovery(request):
    base = settings.PORTAL_BASE_URL or request.build_absolute_uri("/").rstrip("/")
    return _json(
        {
            "changeset": "2026-12-04T00:00:00+08:00",
            "contact": f"举报电话 {settings.PORTAL_HOTLINE}",
            "key_service": "无需 api_key",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base + "/open311/v2",
                    "changeset": "2026-12-04T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


def service_list(request):
    return _json(
        [
            {
                "service_code": value,
                "service_name": label,
                "description": DESCRIPTIONS[value],
                "metadata": False,
                "type": "realtime",
                "keywords": "入河排污口,举报",
                "group": GROUP,
            }
            for value, label in ReportCategory.choices
        ]
    )


def _as_open311(report, request):
    source = report.merged_into or report
    status = "open" if source.status in OPEN_STATUSES else "closed"
    return {
        "service_request_id": report.tracking_code,
        "status": status,
        "status_notes": source.reply or ("与其他举报合并办理" if report.merged_into_id else ""),
        "service_name": report.get_category_display(),
        "service_code": report.category,
        "agency_responsible": report.county.name,
        "service_notice": "",
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(source.updated_at),
        "expected_datetime": _iso(timezone.make_aware(dt.datetime.combine(report.deadline, dt.time(18)))),
        "address": "",
        "zipcode": None,
        "lat": round(report.lat, 3) if report.lat is not None else None,
        "long": round(report.lon, 3) if report.lon is not None else None,
        "media_url": None,
        "url": request.build_absolute_uri(reverse("portal:report_status", args=[report.tracking_code])),
    }


def _date(request, name):
    text = request.GET.get(name)
    if not text:
        return None
    value = parse_datetime(text) if "T" in text else None
    if value is None:
        try:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise ParamError(
                name, f"{name} 应为 ISO 8601 日期或时间，如 2026-12-01T00:00:00+08:00。"
            ) from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


@csrf_exempt
def requests(request):
    if request.method == "POST":
        return _post(request)
    if request.method != "GET":
        return _error(405, "只支持 GET 和 POST。")
    rows = Report.objects.select_related("county", "merged_into").order_by("-created_at")
    unknown = set(request.GET) - {"service_request_id", "service_code", "status", "start_date", "end_date"}
    if unknown:
        return _error(400, f"不支持的参数：{'、'.join(sorted(unknown))}。")
    try:
        if request.GET.get("service_request_id"):
            codes = [c.strip().upper() for c in request.GET["service_request_id"].split(",")][:MAX_REQUESTS]
            rows = rows.filter(tracking_code__in=codes)
        code = request.GET.get("service_code")
        if code:
            if code not in ReportCategory.values:
                return _error(400, f"service_code “{code[:20]}”不存在，见 services.json。")
            rows = rows.filter(category=code)
        status = request.GET.get("status")
        if status:
            if status not in ("open", "closed"):
                return _error(400, "status 只能是 open 或 closed。")
            source_open = [s.value for s in OPEN_STATUSES]
            rows = (
                rows.filter(status__in=source_open)
                if status == "open"
                else rows.exclude(status__in=source_open)
            )
        start, end = _date(request, "start_date"), _date(request, "end_date")
    except ParamError as error:
        return _error(400, error.message)
    if start:
        rows = rows.filter(created_at__gte=start)
    if end:
        rows = rows.filter(created_at__lte=end)
    return _json([_as_open311(r, request) for r in rows[:MAX_REQUESTS]])


def request_detail(request, code):
    report = Report.objects.select_related("county", "merged_into").filter(tracking_code=code.upper()).first()
    if report is None:
        return _error(404, f"没有编号为 {code[:20]} 的举报。")
    return _json([_as_open311(report, request)])


def _post(request):
    client = abuse.client_key(request)
    if abuse.over_limit(client, ""):
        return _error(429, f"提交过于频繁，请稍后再试，或拨打举报电话 {settings.PORTAL_HOTLINE}。")
    post = request.POST
    code = post.get("service_code") or ""
    if code not in ReportCategory.values:
        return _error(400, "service_code 缺失或不存在，见 services.json。")
    try:
        lat = parse_float(post.get("lat"), "lat", default=None, minimum=3, maximum=54, label="lat")
        lon = parse_float(post.get("long"), "long", default=None, minimum=73, maximum=136, label="long")
    except ParamError as error:
        return _error(400, error.message)
    if (lat is None) != (lon is None):
        return _error(400, "lat 和 long 须同时提供。")
    phone = (post.get("phone") or "").strip()
    name = " ".join(
        p for p in ((post.get("last_name") or "").strip(), (post.get("first_name") or "").strip()) if p
    )
    data = {
        "category": code,
        "description": post.get("description") or "",
        "lon": lon,
        "lat": lat,
        "address": post.get("address_string") or "",
        "location_source": "gps" if lon is not None else "address",
        "anonymous": not phone,
        "contact_name": name if phone else "",
        "contact_phone": phone,
        "photos_optional": True,
    }
    if lon is None:
        return _error(400, "请提供 lat 和 long（GeoReport 要求位置）；只有地址时请使用网页表单选择县区。")
    try:
        report = services.submit_report(data, request.FILES.getlist("media"), client_key=client)
    except ValidationError as error:
        return _error(
            400,
            "；".join(f"{field}：{'，'.join(messages)}" for field, messages in error.message_dict.items()),
        )
    return _json(
        [
            {
                "service_request_id": report.tracking_code,
                "service_notice": f"已受理，由{report.county.name}办理，期限 {report.deadline.isoformat()}。",
                "account_id": None,
            }
        ],
        status=201,
    )
