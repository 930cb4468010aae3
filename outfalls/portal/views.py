"""The public portal (no login): disclosed outfalls on a map and in a list, each outfall's page (the target of
a sign's QR code), and the published notices. Only the public fields (registry/disclosure.py)."""

from types import SimpleNamespace

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from outfalls.core.choices import JurisdictionLevel, Role
from outfalls.core.models import Jurisdiction
from outfalls.core.params import parse_int
from outfalls.core.scopes import Grant, Scope
from outfalls.core.views import apply_filter
from outfalls.maps import layers
from outfalls.registry.disclosure import public_queryset, public_record, public_rows

from . import providers
from .caching import cached
from .filters import PublicOutfallFilter

PAGE_SIZE = 20
# Reads the shared reference layers (jurisdictions, waters) for the public base map: public data.
REFERENCE_READER = SimpleNamespace(
    is_authenticated=True,
    is_active=True,
    _outfalls_scope=Scope(authenticated=True, grants=(Grant(role=Role.AUDITOR),)),
)


def city_name():
    city = Jurisdiction.objects.filter(level=JurisdictionLevel.CITY).order_by("code").only("name").first()
    return city.name if city else ""


def portal_context(request):
    name = SimpleLazyObject(city_name)
    return {
        "city_name": name,
        "portal_title": settings.PORTAL_TITLE or f"{name}入河排污口信息公开",
        "hotline": settings.PORTAL_HOTLINE,
    }


def _render(request, template, context, status=200):
    return render(request, template, {**portal_context(request), **context}, status=status)


@cached
def index(request):
    filterset, outfalls = apply_filter(PublicOutfallFilter, request, public_queryset())
    paginator = Paginator(outfalls.order_by("code"), PAGE_SIZE)
    page = paginator.get_page(parse_int(request.GET.get("page"), "page", default=1, minimum=1, label="页码"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "portal/index.html",
        {
            "filter": filterset,
            "page": page,
            "rows": [(o, public_record(o)) for o in page.object_list],
            "query": query.urlencode(),
            "nav": "outfalls",
            "geojson_url": reverse("portal:outfalls_geojson") + (f"?{query.urlencode()}" if query else ""),
        },
    )


@cached
def outfalls_geojson(request):
    """The filtered public outfalls as GeoJSON points with their public fields (the portal's map)."""
    filterset, outfalls = apply_filter(PublicOutfallFilter, request, public_queryset())
    features = [
        {
            "type": "Feature",
            "id": o.code,
            "geometry": {"type": "Point", "coordinates": [o.lon, o.lat]},
            "properties": {
                **public_record(o),
                "type_label": o.type_label,
                "url": reverse("portal:outfall", args=[o.code]),
            },
        }
        for o in outfalls.order_by("code")
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False},
        content_type="application/geo+json",
    )


@cached
def basemap(request):
    """The offline base map (jurisdictions, waters, labels, mask): public reference data."""
    return HttpResponse(layers.basemap(REFERENCE_READER), content_type="application/json; charset=utf-8")


@cached
def outfall(request, code):
    """An outfall's public page: /public/outfalls/<code>/ (route portal:outfall; a sign's QR code opens it)."""
    obj = get_object_or_404(public_queryset(), code=code)
    return _render(
        request,
        "portal/outfall.html",
        {
            "o": obj,
            "record": public_record(obj),
            "rows": public_rows(obj),
            "panels": providers.outfall_panels(obj),
            "nav": "outfalls",
        },
    )


@cached
def notices(request):
    return _render(request, "portal/notices.html", {"notices": providers.notices(), "nav": "notices"})


def not_found(request, exception=None):
    """404 on the portal's own host name (the platform's 404 page links to staff pages)."""
    return _render(request, "portal/404.html", {}, status=404)
