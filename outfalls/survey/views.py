"""排查 pages: campaigns, reaches, point import, points (map and list), level-3 decisions, and the phone's
field-check page with its upload endpoint and service worker. Thin: rules live in services.py."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from outfalls.core.basemap import base_layers
from outfalls.core.choices import AttachmentKind
from outfalls.core.forms import add_service_errors, style_form
from outfalls.core.models import Attachment, Jurisdiction
from outfalls.core.services import labelled_status_changes
from outfalls.core.views import ScopedListView, apply_filter
from outfalls.geo.shapes import distance_m
from outfalls.registry.choices import EntryMode
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall, WaterBody

from . import coverage, services
from .choices import (
    FINAL_OUTCOMES,
    OPEN_OUTCOMES,
    Bank,
    Colour,
    FlowState,
    Odour,
    PointOutcome,
    Turbidity,
)
from .filters import CampaignFilter, PointFilter
from .forms import (
    CampaignForm,
    DecisionForm,
    FieldCheckForm,
    PointImportForm,
    ReachForm,
    ReopenForm,
    TrackForm,
    parse_record,
)
from .models import Campaign, CampaignReach, FieldCheck, SuspectedPoint, Track
from .point_import import import_points

# Marker colours per outcome: the map, the legend and the field page share them.
OUTCOME_COLOURS = {
    PointOutcome.PENDING: "#f0ad4e",
    PointOutcome.ESCALATED: "#9b59b6",
    PointOutcome.CONFIRMED: "#d9534f",
    PointOutcome.DUPLICATE: "#337ab7",
    PointOutcome.NOT_OUTFALL: "#7f8c8d",
}
OUTCOME_BADGES = {
    PointOutcome.PENDING: "text-bg-warning",
    PointOutcome.ESCALATED: "text-bg-primary",
    PointOutcome.CONFIRMED: "text-bg-danger",
    PointOutcome.DUPLICATE: "text-bg-info",
    PointOutcome.NOT_OUTFALL: "text-bg-secondary",
}
POINTS_PER_PAGE = 50


def _outcome_counts(points):
    counts = dict(points.order_by().values_list("outcome").annotate(n=Count("id")))
    return [
        {"value": o.value, "label": o.label, "n": counts.get(o.value, 0), "colour": OUTCOME_COLOURS[o]}
        for o in PointOutcome
    ]


def _campaign_or_404(request, pk, editing=False):
    manager = Campaign.objects
    rows = manager.editable_by(request.user) if editing else manager.visible_to(request.user)
    return get_object_or_404(rows.select_related("county", "department").defer("county__boundary"), pk=pk)


# ---------------------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------------------


class CampaignListView(ScopedListView):
    model = Campaign
    filterset_class = CampaignFilter
    template_name = "survey/campaign_list.html"
    paginate_by = 30

    def get_queryset(self):
        rows = super().get_queryset()
        if not self.request.GET.get("ordering"):
            rows = rows.order_by("-created_at", "-id")
        return rows

    def base_queryset(self):
        return (
            Campaign.objects.select_related("county", "department")
            .defer("county__boundary")
            .prefetch_related(Prefetch("water_bodies", queryset=WaterBody.objects.defer("geometry")))
            .annotate(
                n_points=Count("points", distinct=True),
                n_open=Count("points", filter=Q(points__outcome__in=OPEN_OUTCOMES), distinct=True),
                n_reaches=Count("reaches", distinct=True),
                n_checked=Count("reaches", filter=Q(reaches__checked=True), distinct=True),
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_create"] = services.may_create_campaigns(self.request.user)
        return context


@login_required
def campaign_detail(request, pk):
    campaign = _campaign_or_404(request, pk)
    editable = Campaign.objects.editable_by(request.user).filter(pk=pk).exists()
    points = campaign.points.select_related("water_body", "outfall").defer("water_body__geometry")
    point_filter, filtered = apply_filter(PointFilter, request, points)
    style_form(point_filter.form)  # as every list's filter form (ScopedListView)
    paginator = Paginator(filtered.order_by("number"), POINTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for point in page:
        point.badge = OUTCOME_BADGES.get(point.outcome, "text-bg-light")
    query = request.GET.copy()
    query.pop("page", None)
    reaches = list(campaign.reaches.select_related("water_body", "checked_by").defer("water_body__geometry"))
    context = {
        "campaign": campaign,
        "editable": editable,
        "water_bodies": campaign.water_bodies.defer("geometry"),
        "reaches": reaches,
        "reach_form": ReachForm(campaign=campaign) if editable else None,
        "filter": point_filter,
        "page_obj": page,
        "points": page.object_list,
        "query_without_page": query.urlencode(),
        "outcome_counts": _outcome_counts(campaign.points.all()),
        "imports": campaign.imports.select_related("created_by")[:10],
        "tracks": campaign.tracks.count(),
        "checks_count": FieldCheck.objects.filter(point__campaign=campaign).count(),
        "map_config": {
            "points": reverse("survey:campaign_points_geojson", args=[campaign.pk]),
            "tracks": reverse("survey:campaign_tracks_geojson", args=[campaign.pk]),
            "reaches": reverse("survey:campaign_reaches_geojson", args=[campaign.pk]),
            "boundaries": reverse("maps:api_boundaries"),
            "rivers": reverse("maps:api_rivers"),
            "baseLayers": base_layers(),
            "colours": {k.value: v for k, v in OUTCOME_COLOURS.items()},
            "labels": {k.value: k.label for k in PointOutcome},
        },
    }
    return render(request, "survey/campaign_detail.html", context)


@login_required
def campaign_create(request):
    if not services.may_create_campaigns(request.user):
        raise PermissionDenied("无权创建排查任务。")
    return _campaign_form(request, None)


@login_required
def campaign_edit(request, pk):
    return _campaign_form(request, _campaign_or_404(request, pk, editing=True))


def _campaign_form(request, campaign):
    """Create (campaign None) or edit a campaign through services.save_campaign; errors land on the form."""
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        try:
            services.save_campaign(
                saved,
                user=request.user,
                water_bodies=form.cleaned_data["water_bodies"],
                team=form.cleaned_data["team"],
                expected_version=form.expected_version(),
                sent=form.sent_values(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"已创建排查任务“{saved.name}”。" if campaign is None else "排查任务已保存。"
            )
            return redirect("survey:campaign_detail", saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "survey/campaign_form.html", {"form": form, "campaign": campaign}, status=status)


# ---------------------------------------------------------------------------------------------------------
# Reaches
# ---------------------------------------------------------------------------------------------------------


@login_required
def reach_form(request, pk, reach_pk=None):
    campaign = _campaign_or_404(request, pk, editing=True)
    reach = get_object_or_404(campaign.reaches, pk=reach_pk) if reach_pk else CampaignReach(campaign=campaign)
    form = ReachForm(request.POST or None, instance=reach, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_reach(form.save(commit=False), user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "排查河段已保存。")
            return redirect(reverse("survey:campaign_detail", args=[campaign.pk]) + "#reaches")
    return render(
        request, "survey/campaign_reach_form.html", {"form": form, "campaign": campaign, "reach": reach}
    )


@login_required
@require_POST
def reach_checked(request, pk, reach_pk):
    campaign = _campaign_or_404(request, pk, editing=True)
    reach = get_object_or_404(campaign.reaches.select_related("campaign"), pk=reach_pk)
    checked = request.POST.get("checked") == "1"
    services.set_reach_checked(reach, checked, user=request.user)
    messages.success(request, f"河段“{reach}”已{'标记为已完成徒步排查' if checked else '撤销完成标记'}。")
    return redirect(reverse("survey:campaign_detail", args=[campaign.pk]) + "#reaches")


@login_required
@require_POST
def reach_delete(request, pk, reach_pk):
    campaign = _campaign_or_404(request, pk, editing=True)
    reach = get_object_or_404(campaign.reaches.select_related("campaign"), pk=reach_pk)
    services.delete_reach(reach, user=request.user)
    messages.success(request, "排查河段已删除。")
    return redirect(reverse("survey:campaign_detail", args=[campaign.pk]) + "#reaches")


# ---------------------------------------------------------------------------------------------------------
# Points: import, map data, detail and level-3 decisions
# ---------------------------------------------------------------------------------------------------------


@login_required
def point_import(request, pk):
    campaign = _campaign_or_404(request, pk, editing=True)
    form = PointImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = import_points(
            campaign,
            form.cleaned_data["file"],
            user=request.user,
            filename=form.cleaned_data["file"].name,
            crs=form.cleaned_data["crs"],
            source=form.cleaned_data["source"],
        )
        if result.ok:
            skipped = f"，{len(result.skipped)} 个编号已存在未重复导入" if result.skipped else ""
            messages.success(request, f"已导入 {len(result.created)} 个疑似点{skipped}。")
            return redirect("survey:campaign_detail", campaign.pk)
    return render(
        request, "survey/campaign_import.html", {"form": form, "campaign": campaign, "result": result}
    )


@login_required
def campaign_points_geojson(request, pk):
    campaign = _campaign_or_404(request, pk)
    rows = campaign.points.values("id", "number", "outcome", "source", "lon", "lat", "outfall_id")
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {
                "id": r["id"],
                "number": r["number"],
                "outcome": r["outcome"],
                "source": r["source"],
                "url": reverse("survey:point_detail", args=[r["id"]]),
            },
        }
        for r in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
def campaign_tracks_geojson(request, pk):
    campaign = _campaign_or_404(request, pk)
    features = [
        {
            "type": "Feature",
            "geometry": t.geometry,
            "properties": {
                "id": t.pk,
                "bank": t.get_bank_display(),
                "recorded_at": t.recorded_at.isoformat(),
            },
        }
        for t in campaign.tracks.all()
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
def campaign_reaches_geojson(request, pk):
    campaign = _campaign_or_404(request, pk)
    return JsonResponse({"type": "FeatureCollection", "features": coverage.reach_features(campaign)})


def _point_or_404(request, pk):
    rows = SuspectedPoint.objects.visible_to(request.user).select_related(
        "campaign__county", "water_body", "outfall", "decided_by", "imported_in"
    )
    return get_object_or_404(rows.defer("campaign__county__boundary", "water_body__geometry"), pk=pk)


def _exif_rows(checks):
    """Each check's photos with their EXIF time/position and the distance to the form's position."""
    by_check = {}
    if checks:
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(FieldCheck)
        photos = Attachment.objects.filter(content_type=ct, object_id__in=[c.pk for c in checks])
        for photo in photos:
            by_check.setdefault(photo.object_id, []).append(photo)
    for check in checks:
        check.photos = by_check.get(check.pk, [])
        for photo in check.photos:
            photo.distance_m = (
                distance_m(check.lon, check.lat, photo.exif_lon, photo.exif_lat)
                if photo.exif_lon is not None
                else None
            )
    return checks


@login_required
def point_detail(request, pk, decision_form=None, reopen_form=None):
    point = _point_or_404(request, pk)
    editable = SuspectedPoint.objects.editable_by(request.user).filter(pk=pk).exists()
    candidates = services.nearby_outfalls(request.user, point.lon, point.lat)
    if editable and point.outcome == PointOutcome.ESCALATED and decision_form is None:
        decision_form = DecisionForm(point=point, candidates=candidates)
    if editable and point.outcome in FINAL_OUTCOMES and reopen_form is None:
        reopen_form = ReopenForm()
    checks = _exif_rows(list(point.checks.select_related("created_by")))
    context = {
        "point": point,
        "badge": OUTCOME_BADGES.get(point.outcome),
        "editable": editable,
        "checks": checks,
        "candidates": candidates,
        "decision_form": decision_form if editable else None,
        "reopen_form": reopen_form if editable else None,
        "history": labelled_status_changes(point, PointOutcome),
        # A refused decision or reopening (POSTed elsewhere) reloads as this page (templates/base.html).
        "reload_url": reverse("survey:point_detail", args=[point.pk]),
    }
    return render(request, "survey/point_detail.html", context)


@login_required
@require_POST
def point_decide(request, pk):
    point = _point_or_404(request, pk)
    if not SuspectedPoint.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("无权研判该疑似点。")
    candidates = services.nearby_outfalls(request.user, point.lon, point.lat)
    form = DecisionForm(request.POST, point=point, candidates=candidates)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decide_point(
                point,
                data["outcome"],
                user=request.user,
                level=3,
                outfall=data.get("duplicate_of"),
                note=data["note"],
                experts=data["experts"],
                details={
                    "water_body": data.get("water_body"),
                    "landmark": data.get("landmark"),
                    "type_code": data.get("type_code"),
                },
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "专家研判结论已保存。")
            return redirect("survey:point_detail", point.pk)
    return point_detail(request, pk, decision_form=form)


@login_required
@require_POST
def point_reopen(request, pk):
    point = _point_or_404(request, pk)
    if not SuspectedPoint.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied("无权修改该疑似点。")
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.reopen_point(point, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "疑似点已重新打开，待核查。")
            return redirect("survey:point_detail", point.pk)
    return point_detail(request, pk, reopen_form=form)


@login_required
def check_detail(request, pk):
    check = get_object_or_404(
        FieldCheck.objects.visible_to(request.user).select_related("point__campaign", "created_by"), pk=pk
    )
    _exif_rows([check])
    return render(request, "survey/field_check_detail.html", {"check": check})


# ---------------------------------------------------------------------------------------------------------
# The phone: field page, upload endpoint, service worker
# ---------------------------------------------------------------------------------------------------------


@login_required
def field_home(request):
    campaigns = (
        Campaign.objects.editable_by(request.user)
        .select_related("county")
        .defer("county__boundary")
        .annotate(n_open=Count("points", filter=Q(points__outcome__in=OPEN_OUTCOMES)))
        .order_by("-created_at")
    )
    return render(request, "survey/field_home.html", {"campaigns": campaigns})


def _choices(enum):
    return [{"value": c.value, "label": c.label} for c in enum]


def field_config(campaign, user):
    """What the phone needs to work offline: points, nearby outfalls, rivers, places and choices."""
    points = [
        {
            "id": p["id"],
            "number": p["number"],
            "lon": p["lon"],
            "lat": p["lat"],
            "outcome": p["outcome"],
            "description": p["description"],
            "water_body": p["water_body_id"],
        }
        for p in campaign.points.filter(outcome__in=OPEN_OUTCOMES).values(
            "id", "number", "lon", "lat", "outcome", "description", "water_body_id"
        )
    ]
    outfalls = list(
        Outfall.objects.visible_to(user)
        .filter(county_id=campaign.county_id)
        .values("id", "code", "name", "lon", "lat")
    )
    places = Jurisdiction.objects.filter(county_id=campaign.county_id, level__in=("town", "village")).values(
        "id", "name", "level", "parent_id"
    )
    return {
        "campaign": {"id": campaign.pk, "name": campaign.name, "county": campaign.county.name},
        "submit": reverse("survey:field_submit", args=[campaign.pk]),
        "trackSubmit": reverse("survey:field_track", args=[campaign.pk]),
        "banks": _choices(Bank),
        "points": points,
        "outfalls": outfalls,
        "waterBodies": list(campaign.water_bodies.values("id", "name")),
        "towns": [p for p in places if p["level"] == "town"],
        "villages": [p for p in places if p["level"] == "village"],
        "duplicateRadius": services.duplicate_radius_m(),
        "colours": {k.value: v for k, v in OUTCOME_COLOURS.items()},
        "rivers": reverse("maps:api_rivers"),
        "baseLayers": base_layers(),
        "choices": {
            "flow": _choices(FlowState),
            "colour": _choices(Colour),
            "odour": _choices(Odour),
            "turbidity": _choices(Turbidity),
            "entry_mode": _choices(EntryMode),
            "type_code": _choices(TypeCode),
        },
    }


@login_required
def field_page(request, pk):
    campaign = _campaign_or_404(request, pk, editing=True)
    outcomes = [
        (o.value, o.label)
        for o in (
            PointOutcome.CONFIRMED,
            PointOutcome.DUPLICATE,
            PointOutcome.NOT_OUTFALL,
            PointOutcome.ESCALATED,
        )
    ]
    return render(
        request,
        "survey/field_page.html",
        {
            "campaign": campaign,
            "config": field_config(campaign, request.user),
            "outcomes": outcomes,
            "flows": FlowState.choices,
            "colours": Colour.choices,
            "odours": Odour.choices,
            "turbidities": Turbidity.choices,
            "entry_modes": EntryMode.choices,
            "type_codes": TypeCode.choices,
        },
    )


@login_required
@require_POST
def field_submit(request, pk):
    """One record from the phone: multipart with ``record`` (JSON) and photo files ``photo_close`` /
    ``photo_distant``. 201 with the new ids, 200 with the same ids when the client_uuid is known, 400 with
    Chinese messages per field, 404 for a campaign outside the user's scope."""
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user).select_related("county"), pk=pk)
    if not Campaign.objects.editable_by(request.user).filter(pk=pk).exists():
        return JsonResponse({"errors": {"__all__": ["无权在该排查任务中提交核查记录。"]}}, status=403)
    try:
        record = parse_record(request.POST.get("record"))
    except ValidationError as error:
        return JsonResponse({"errors": {"__all__": error.messages}}, status=400)
    known = FieldCheck.objects.filter(client_uuid=_uuid_or_none(record.get("client_uuid"))).first()
    if known is not None:
        try:
            check, created = services.submit_field_check(
                campaign, {"client_uuid": known.client_uuid}, user=request.user
            )
        except PermissionDenied:
            return JsonResponse({"errors": {"__all__": ["该记录不在您的权限范围内。"]}}, status=403)
        return _check_response(check, created)
    form = FieldCheckForm(record, campaign=campaign, user=request.user)
    if not form.is_valid():
        return JsonResponse({"errors": _labelled(form)}, status=400)
    photos = [(AttachmentKind.PHOTO_CLOSE, f) for f in request.FILES.getlist("photo_close")] + [
        (AttachmentKind.PHOTO_DISTANT, f) for f in request.FILES.getlist("photo_distant")
    ]
    try:
        check, created = services.submit_field_check(campaign, form.cleaned_data, photos, user=request.user)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        return JsonResponse({"errors": {_label(form, k): v for k, v in errors.items()}}, status=400)
    except PermissionDenied as error:
        return JsonResponse({"errors": {"__all__": [str(error) or "无权提交。"]}}, status=403)
    return _check_response(check, created)


@login_required
@require_POST
def field_track(request, pk):
    """One walked track from the phone: ``record`` (JSON: client_uuid, water_body, bank, recorded_at,
    coordinates). 201 new, 200 known client_uuid, 400 with messages, 404 outside scope."""
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user), pk=pk)
    if not Campaign.objects.editable_by(request.user).filter(pk=pk).exists():
        return JsonResponse({"errors": {"__all__": ["无权在该排查任务中上传轨迹。"]}}, status=403)
    try:
        raw = json.loads(request.POST.get("record") or "")
    except ValueError:
        return JsonResponse({"errors": {"记录": ["记录格式错误（不是有效的 JSON）。"]}}, status=400)
    if not isinstance(raw, dict):
        return JsonResponse({"errors": {"记录": ["记录格式错误。"]}}, status=400)
    raw["coordinates"] = json.dumps(raw.get("coordinates"))
    form = TrackForm({k: ("" if v is None else v) for k, v in raw.items()}, campaign=campaign)
    known = Track.objects.filter(client_uuid=_uuid_or_none(raw.get("client_uuid"))).exists()
    if not known and not form.is_valid():
        return JsonResponse({"errors": _labelled(form)}, status=400)
    data = form.cleaned_data if not known else {"client_uuid": raw.get("client_uuid")}
    try:
        track, created = services.submit_track(campaign, data, user=request.user)
    except ValidationError as error:
        return JsonResponse(
            {"errors": {_label(form, k): v for k, v in error.message_dict.items()}}, status=400
        )
    except PermissionDenied as error:
        return JsonResponse({"errors": {"记录": [str(error)]}}, status=403)
    points = len(track.geometry.get("coordinates", []))
    return JsonResponse(
        {"id": track.pk, "client_uuid": str(track.client_uuid), "points": points, "created": created},
        status=201 if created else 200,
    )


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


OTHER_LABELS = {"__all__": "记录", "file": "照片", "photos": "照片", "staff": "核查人员"}


def _label(form, name):
    field = form.fields.get(name)
    return field.label if field is not None else OTHER_LABELS.get(name, name)


def _labelled(form):
    return {_label(form, name): errors for name, errors in form.errors.items()}


def _check_response(check, created):
    point = check.point
    return JsonResponse(
        {
            "id": check.pk,
            "client_uuid": str(check.client_uuid),
            "point": point.pk,
            "point_number": point.number,
            "outcome": point.outcome,
            "outfall": point.outfall_id,
            "url": reverse("survey:check_detail", args=[check.pk]),
            "created": created,
        },
        status=201 if created else 200,
    )


def service_worker(request):
    """The field page's service worker, served under /survey/ so its scope covers the survey pages."""
    body = render_to_string(
        "survey/field_sw.js",
        {"version": "survey-field-v1", "static": settings.STATIC_URL},
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/survey/"
    response["Cache-Control"] = "no-cache"
    return response


@login_required
def field_config_json(request, pk):
    campaign = _campaign_or_404(request, pk, editing=True)
    return JsonResponse(field_config(campaign, request.user))
