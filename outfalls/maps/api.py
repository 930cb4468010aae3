"""JSON endpoints behind the map (/maps/api/...), for signed-in users of the page.

Each starts from the model's ``visible_to(request.user)``; the outfall endpoints then apply the ledger's
``OutfallFilter`` to the same query string, so the map shows exactly the ledger's rows. Bad parameters are
a 400 with a Chinese ``detail`` (numbers are read by core/params.py); an anonymous request is a 401 (never a
redirect to the login page).
"""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from outfalls.core.params import ParamError
from outfalls.geo.coords import CRS, CoordinateError
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.forms import point_from_text
from outfalls.registry.models import Outfall

from . import layers
from .grid import BBox, box_query, in_box, parse_zoom
from .overview import overview_for


def api_view(view):
    """GET only, signed-in users only (401 JSON otherwise), an unreadable parameter (ParamError) a 400."""

    @require_GET
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "请先登录。"}, status=401)
        try:
            return view(request, *args, **kwargs)
        except ParamError as error:
            return JsonResponse(
                {"detail": error.message, "errors": {error.name: [error.message]}}, status=400
            )

    return wrapper


def _geojson(text, *, max_age=0):
    response = HttpResponse(text, content_type="application/geo+json; charset=utf-8")
    patch_cache_control(response, private=True, max_age=max_age)
    return response


def _optional_bbox(request):
    text = request.GET.get("bbox")
    return BBox.parse(text) if text else None


# Query parameters of the map itself, not filters.
MAP_PARAMS = ("bbox", "zoom")


def filter_data(request):
    """The query string without the map's own parameters: the ledger filters."""
    data = request.GET.copy()
    for name in MAP_PARAMS:
        data.pop(name, None)
    return data


def filtered_outfalls(request):
    """(visible outfalls filtered as the ledger filters them, None) or (None, a 400 response).

    The ledger's OutfallFilter on the same query string without the map's own parameters: with no filter
    given the FilterSet stays unbound, and its form (which reads the jurisdiction choices) is not built.
    """
    data = filter_data(request)
    queryset = Outfall.objects.visible_to(request.user)
    filterset = OutfallFilter(data or None, queryset=queryset, request=request)
    if not filterset.is_bound:
        return queryset, None
    if not filterset.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in filterset.errors.items()}
        return None, JsonResponse({"detail": "筛选条件有误。", "errors": errors}, status=400)
    return filterset.qs, None


@api_view
def outfalls(request):
    """Outfalls in ?bbox at ?zoom, filtered by the ledger's filters: points, or grid aggregates.

    Below MAP_POINTS_MIN_ZOOM the aggregates come from the cached city-wide cells (maps/overview.py).
    """
    bbox = BBox.parse(request.GET.get("bbox"))
    zoom = parse_zoom(request.GET.get("zoom"))
    queryset, error = filtered_outfalls(request)
    if error:
        return error
    result = box_query(
        queryset,
        bbox,
        zoom,
        point_limit=settings.MAP_POINT_LIMIT,
        points_min_zoom=settings.MAP_POINTS_MIN_ZOOM,
        overview=overview_for(request.user, queryset, filter_data(request)),
    )
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


@api_view
def chains(request):
    """Chain lines unit → outfall → river for the filtered outfalls in ?bbox, from MAP_CHAIN_MIN_ZOOM on."""
    bbox = BBox.parse(request.GET.get("bbox"))
    zoom = parse_zoom(request.GET.get("zoom"))
    if zoom < settings.MAP_CHAIN_MIN_ZOOM:
        return _geojson(
            layers.feature_collection(
                [], truncated=True, hint=f"放大到 {settings.MAP_CHAIN_MIN_ZOOM} 级以上显示排污链条"
            )
        )
    queryset, error = filtered_outfalls(request)
    if error:
        return error
    return _geojson(layers.chains(request.user, in_box(queryset, bbox), settings.MAP_POINT_LIMIT))


@api_view
def boundaries(request):
    zoom = parse_zoom(request.GET.get("zoom"), default=layers.FULL_DETAIL_ZOOM)
    return _geojson(layers.boundaries(request.user, _optional_bbox(request), zoom), max_age=300)


@api_view
def rivers(request):
    zoom = parse_zoom(request.GET.get("zoom"), default=layers.FULL_DETAIL_ZOOM)
    return _geojson(layers.rivers(request.user, _optional_bbox(request), zoom), max_age=300)


@api_view
def protected_areas(request):
    zoom = parse_zoom(request.GET.get("zoom"), default=layers.FULL_DETAIL_ZOOM)
    return _geojson(layers.protected_areas(request.user, _optional_bbox(request), zoom))


@api_view
def sewer_coverage(request):
    zoom = parse_zoom(request.GET.get("zoom"), default=layers.FULL_DETAIL_ZOOM)
    return _geojson(layers.sewer_coverage_areas(request.user, _optional_bbox(request), zoom))


@api_view
def sections(request):
    return _geojson(layers.sections(request.user, _optional_bbox(request)))


@api_view
def units(request):
    return _geojson(layers.units(request.user, _optional_bbox(request), settings.MAP_UNIT_LIMIT))


@api_view
def coords(request):
    """Typed coordinate text (?text, in ?crs) converted to CGCS2000 by the forms' own conversion."""
    text = (request.GET.get("text") or "").strip()
    crs = request.GET.get("crs") or CRS.CGCS2000
    if crs not in {c.value for c in CRS}:
        return JsonResponse({"detail": f"不支持的坐标系：{crs}"}, status=400)
    try:
        lon, lat = point_from_text(text, crs)
    except CoordinateError as error:
        return JsonResponse({"detail": error.message}, status=400)
    return JsonResponse(
        {"lon": lon, "lat": lat, "crs": CRS.CGCS2000.value}, json_dumps_params={"ensure_ascii": False}
    )


@api_view
def basemap(request):
    """The offline base map's data (MAP_BASE_LAYER=offline): jurisdictions, waters, labels and the mask."""
    response = HttpResponse(layers.basemap(request.user), content_type="application/json; charset=utf-8")
    patch_cache_control(response, private=True, max_age=300)
    return response
