"""Citizen reports: submitting one (checked, photos re-encoded, routed to a county and a department with a
deadline), suggesting the reports of the same problem, and the handling steps (assign, investigate, reply,
close, merge), each with a status-change row; a report can open a tracing case or a field-check point."""

import json
import secrets
from datetime import timedelta

import shapely
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS, AttachmentKind, FollowUp
from outfalls.core.models import Attachment, Department, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import copy_attachments, record_status_change
from outfalls.geo.shapes import degrees_around, distance_m
from outfalls.registry import checks
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.disclosure import public_outfalls
from outfalls.survey import tracing
from outfalls.survey.choices import PointSource
from outfalls.survey.models import Campaign, SuspectedPoint

from .choices import OPEN_STATUSES, REPORT_STEPS, LocationSource, ReportStatus
from .models import Report
from .photos import clean_photo

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone
MAX_PHOTOS = 6


def new_tracking_code():
    return "JB" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


# Where a report lies --------------------------------------------------------------------------------------
def county_at(lon, lat):
    """The county-level jurisdiction (a development zone before the county around it) whose boundary contains
    the point, or None. Read fresh each time: a handful of boundaries, once per report."""
    point = shapely.Point(lon, lat)
    found = []
    rows = Jurisdiction.objects.filter(level__in=COUNTY_LEVELS, boundary__isnull=False).values_list(
        "pk", "boundary"
    )
    for pk, boundary in rows:
        try:
            geom = shapely.from_geojson(boundary if isinstance(boundary, str) else json.dumps(boundary))
        except (shapely.errors.GEOSException, ValueError, TypeError):
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon") and geom.contains(point):
            found.append((geom.area, pk))
    return Jurisdiction.objects.get(pk=min(found)[1]) if found else None


def nearby_public_outfalls(lon, lat, radius_m=None, limit=3):
    """Disclosed outfalls within PORTAL_NEAR_OUTFALL_M, nearest first, each with .distance_m (the form asks
    whether the report is about one of them)."""
    radius_m = settings.PORTAL_NEAR_OUTFALL_M if radius_m is None else radius_m
    dlon, dlat = degrees_around(lat, radius_m)
    rows = public_outfalls().filter(lon__range=(lon - dlon, lon + dlon), lat__range=(lat - dlat, lat + dlat))
    found = []
    for outfall in rows.select_related("water_body").only(
        "id", "code", "name", "lon", "lat", "type_code", "type_level2", "type_level3", "water_body__name"
    ):
        outfall.distance_m = distance_m(lon, lat, outfall.lon, outfall.lat)
        if outfall.distance_m <= radius_m:
            found.append(outfall)
    return sorted(found, key=lambda o: o.distance_m)[:limit]


def department_for(outfall):
    """The department responsible for the outfall's level-2 type, or None."""
    if outfall is None or not outfall.type_level2:
        return None
    for department in Department.objects.order_by("order", "name"):
        if outfall.type_level2 in (department.responsible_types or []):
            return department
    return None


# Submitting ----------------------------------------------------------------------------------------------
def _check_place(data, errors):
    lon, lat = data.get("lon"), data.get("lat")
    if lon is not None and lat is not None:
        if checks.outside_city(lon, lat):
            errors["location"] = "所选位置不在本市范围内，请重新定位或在地图上选点。"
            return None
        county = county_at(lon, lat)
        if county is None:
            county = data.get("county")
        if county is None:
            errors["location"] = "无法确定该位置所属县区，请在“所属县区”中选择。"
        return county
    if not data.get("address", "").strip():
        errors["location"] = "请提供位置：手机定位、在地图上点选，或填写地址。"
        return None
    if data.get("county") is None:
        errors["county"] = "只填写地址时，请选择所属县区。"
    return data.get("county")


@transaction.atomic
def submit_report(data, photos, *, client_key, device_key=""):
    """A new report from the public form (or Open311). data: category, description, lon, lat, accuracy_m,
    location_source, address, county (Jurisdiction, for an address only), outfall_code, anonymous,
    contact_name, contact_phone, share_photo_position. photos: uploaded files (1-6; Open311 may send none
    when PORTAL_OPEN311_PHOTOS_REQUIRED is off). Raises ValidationError {field: Chinese message}."""
    errors = {}
    photos = list(photos)
    if not (data.get("photos_optional") or 1 <= len(photos) <= MAX_PHOTOS):
        errors["photos"] = f"请上传 1 至 {MAX_PHOTOS} 张照片（现有 {len(photos)} 张）。"
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片（现有 {len(photos)} 张）。"
    description = (data.get("description") or "").strip()
    if len(description) < 5:
        errors["description"] = "请描述看到的情况（至少 5 个字）。"
    anonymous = data.get("anonymous")
    name, phone = (data.get("contact_name") or "").strip(), (data.get("contact_phone") or "").strip()
    if anonymous is None:
        errors["anonymous"] = "请选择是否匿名举报。"
    elif anonymous and (name or phone):
        errors["anonymous"] = "选择匿名举报时请不要填写联系方式；如需回访，请选择“留下联系方式”。"
    elif not anonymous and not phone:
        errors["contact_phone"] = "留下联系方式时请填写联系电话。"
    county = _check_place(data, errors)
    outfall = None
    code = (data.get("outfall_code") or "").strip()
    if code and not errors.get("location") and data.get("lon") is not None:
        outfall = next(
            (o for o in nearby_public_outfalls(data["lon"], data["lat"], limit=50) if o.code == code), None
        )
        if outfall is None:
            errors["outfall_code"] = f"排污口“{code[:48]}”不在所选位置附近，请重新选择。"
    cleaned = []
    if "photos" not in errors:
        for number, upload in enumerate(photos, start=1):
            try:
                cleaned.append(clean_photo(upload, number))
            except ValidationError as error:
                errors.setdefault("photos", "；".join(error.messages))
    if errors:
        raise ValidationError(errors)
    if outfall is not None and county is not None and outfall.county_id != county.pk:
        county = Jurisdiction.objects.get(pk=outfall.county_id)  # the outfall's county handles it
    report = Report(
        category=data["category"],
        description=description,
        lon=data.get("lon"),
        lat=data.get("lat"),
        accuracy_m=data.get("accuracy_m"),
        location_source=LocationSource.ADDRESS
        if data.get("lon") is None
        else (data.get("location_source") or LocationSource.MAP),
        address=(data.get("address") or "").strip()[:200],
        outfall=outfall,
        county=county,
        department=department_for(outfall),
        deadline=timezone.localdate() + timedelta(days=settings.PORTAL_REPORT_DAYS),
        anonymous=bool(anonymous),
        contact_name=name[:32],
        contact_phone=phone[:32],
        share_photo_position=bool(data.get("share_photo_position")),
        client_key=client_key,
        device_key=device_key,
    )
    report.full_clean(exclude=["tracking_code", "client_key", "device_key"])
    for attempt in range(5):
        report.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                report.save()
            break
        except IntegrityError:
            if attempt == 4:
                raise
    content_type = ContentType.objects.get_for_model(Report)
    for number, (content, lon, lat) in enumerate(cleaned, start=1):
        keep = report.share_photo_position
        Attachment.objects.create(
            content_type=content_type,
            object_id=report.pk,
            kind=AttachmentKind.PHOTO_CLOSE,
            title=f"举报照片 {number}",
            file=content,
            size=content.size,
            exif_lon=lon if keep else None,
            exif_lat=lat if keep else None,
        )
    route = report.county.name + (f"、{report.department.name}" if report.department_id else "")
    record_status_change(
        report, user=None, from_value="", to_value=ReportStatus.RECEIVED, reason=f"群众举报，分派至{route}"
    )
    return report


# Same problem --------------------------------------------------------------------------------------------
def duplicates_of(report, user):
    """Other reports within PORTAL_DUPLICATE_M and PORTAL_DUPLICATE_DAYS of this one that the user sees and
    that are not merged: suggestions for the handler, never merged without them. Nearest first, each with
    .distance_m."""
    if report.lon is None:
        return []
    metres, days = settings.PORTAL_DUPLICATE_M, settings.PORTAL_DUPLICATE_DAYS
    dlon, dlat = degrees_around(report.lat, metres)
    window = timedelta(days=days)
    rows = (
        Report.objects.visible_to(user)
        .exclude(pk=report.pk)
        .exclude(status=ReportStatus.MERGED)
        .filter(
            lon__range=(report.lon - dlon, report.lon + dlon),
            lat__range=(report.lat - dlat, report.lat + dlat),
            created_at__range=(report.created_at - window, report.created_at + window),
        )
    )
    found = []
    for other in rows:
        other.distance_m = distance_m(report.lon, report.lat, other.lon, other.lat)
        if other.distance_m <= metres:
            found.append(other)
    return sorted(found, key=lambda r: r.distance_m)


# Handling ------------------------------------------------------------------------------------------------
def open_reports(user):
    """The reports still to handle (受理, 分派, 处理中) that the user sees: the handlers' to-do list."""
    return Report.objects.visible_to(user).filter(status__in=OPEN_STATUSES)


def work_items(user):
    """The 工作台's line for the reports' handlers (the city, counties, departments): the open reports, linked to
    the to-do list, which counts them the same way."""
    scope = scope_of(user)
    if not (scope.citywide or scope.county_ids or any(g.department_id for g in scope.grants)):
        return []
    url = reverse("handling:list") + "?status=open"
    return [
        {
            "key": "reports",
            "group": "管",
            "title": "待办的群众举报",
            "url": url,
            "count": open_reports(user).count(),
        }
    ]


def _locked(report, user):
    try:
        return Report.objects.editable_by(user).select_for_update().get(pk=report.pk)
    except Report.DoesNotExist:
        raise PermissionDenied("该举报不在您的办理范围内。") from None


def _step(locked, to_status, user, reason):
    allowed = REPORT_STEPS[ReportStatus(locked.status)]
    if to_status not in allowed:
        raise ValidationError(
            {
                "status": f"举报状态不能从“{locked.get_status_display()}”变为“{ReportStatus(to_status).label}”。"
            }
        )
    old = locked.status
    locked.status = to_status
    locked.save()
    record_status_change(locked, user=user, from_value=old, to_value=to_status, reason=reason)
    return locked


@transaction.atomic
def assign_report(report, *, user, assignee, note=""):
    """分派: name who handles it (a person or unit)."""
    assignee = (assignee or "").strip()
    if not assignee:
        raise ValidationError({"assignee": "请填写承办人或承办单位。"})
    locked = _locked(report, user)
    locked.assignee = assignee[:64]
    return _step(locked, ReportStatus.ASSIGNED, user, f"分派给{assignee}" + (f"：{note}" if note else ""))


@transaction.atomic
def investigate_report(report, *, user, note=""):
    """开始调查 (现场核查)."""
    locked = _locked(report, user)
    return _step(locked, ReportStatus.INVESTIGATING, user, note or "开始调查处理")


@transaction.atomic
def reply_report(report, *, user, reply):
    """答复: the text the reporter reads on the status page."""
    reply = (reply or "").strip()
    if len(reply) < 5:
        raise ValidationError({"reply": "请填写答复内容（至少 5 个字），举报人将在查询页面看到。"})
    locked = _locked(report, user)
    locked.reply = reply
    locked.replied_at = timezone.now()
    return _step(locked, ReportStatus.ANSWERED, user, "答复举报人")


@transaction.atomic
def close_report(report, *, user, note=""):
    """办结 after the reply."""
    locked = _locked(report, user)
    return _step(locked, ReportStatus.CLOSED, user, note or "办结")


@transaction.atomic
def merge_report(report, into, *, user, note=""):
    """合并: the handler decides that this report is the same problem as `into` (an open report they may
    handle); the reporter's status page then follows `into`."""
    locked = _locked(report, user)
    target = _locked(into, user)
    if target.pk == locked.pk:
        raise ValidationError({"merged_into": "不能合并到本举报自身。"})
    if target.status == ReportStatus.MERGED:
        raise ValidationError(
            {"merged_into": f"举报 {target.tracking_code} 已合并到其他举报，请合并到其主举报。"}
        )
    if locked.status not in OPEN_STATUSES:
        raise ValidationError({"status": f"“{locked.get_status_display()}”的举报不能再合并。"})
    old = locked.status
    locked.status = ReportStatus.MERGED
    locked.merged_into = target
    locked.save()
    Report.objects.filter(merged_into=locked).update(merged_into=target)
    reason = f"与举报 {target.tracking_code} 为同一问题，合并办理" + (f"：{note}" if note else "")
    record_status_change(locked, user=user, from_value=old, to_value=ReportStatus.MERGED, reason=reason)
    return locked


@transaction.atomic
def open_tracing_case(report, *, user):
    """立案溯源 on the verified outfall the report is about (survey.tracing.open_case checks the rest)."""
    locked = _locked(report, user)
    if locked.outfall_id is None:
        raise ValidationError({"outfall": "该举报未关联排污口，可改为“转为现场核查点”。"})
    if locked.outfall.status != LifecycleStatus.VERIFIED:
        raise ValidationError(
            {
                "outfall": f"只有“已核实”的排口可以立案溯源，该排口状态为“{locked.outfall.get_status_display()}”。"
            }
        )
    case = tracing.open_case(locked.outfall, user=user, reason=f"群众举报 {locked.tracking_code}")
    record_status_change(
        locked,
        user=user,
        from_value="",
        to_value=FollowUp.TRACING_CASE,
        field="action",
        reason=f"已立案溯源（案件 {case.pk}）",
    )
    return case


@transaction.atomic
def open_field_point(report, *, user, campaign):
    """转为现场核查点: a suspected point (source 群众举报) in one of the county's campaigns, with the report's
    photos, for the field check on the phone."""
    locked = _locked(report, user)
    if locked.lon is None:
        raise ValidationError({"campaign": "该举报没有坐标，不能转为现场核查点。"})
    if not Campaign.objects.editable_by(user).filter(pk=campaign.pk, county_id=locked.county_id).exists():
        raise ValidationError({"campaign": "请选择本县区、您可编辑的排查任务。"})
    number = f"举报{locked.tracking_code}"
    if SuspectedPoint.objects.filter(campaign=campaign, number=number).exists():
        raise ValidationError({"campaign": f"该举报已是排查任务“{campaign.name}”中的疑似点。"})
    point = SuspectedPoint(
        campaign=campaign,
        number=number,
        source=PointSource.REPORT,
        lon=locked.lon,
        lat=locked.lat,
        description=f"{locked.get_category_display()}：{locked.description}"[:300],
    )
    point.full_clean()
    point.save()
    copy_attachments(locked, point, note=locked.tracking_code)
    record_status_change(
        locked,
        user=user,
        from_value="",
        to_value=FollowUp.FIELD_POINT,
        field="action",
        reason=f"已转为排查任务“{campaign.name}”的现场核查点 {number}",
    )
    return point
