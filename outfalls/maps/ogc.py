"""OGC API - Features, Part 1: Core (OGC 17-069r4) at /ogcapi/, so QGIS and ArcGIS can add the platform
as a layer. See docs/ogcapi.md.

Resources: the landing page, /conformance, /api (OpenAPI 3.0), /collections, /collections/{id},
/collections/{id}/items (bbox, limit, offset, datetime, and on outfalls the ledger's filters) and
/collections/{id}/items/{featureId}; each as JSON (GeoJSON for features) or HTML, by ``?f=json|html`` or
the Accept header. Coordinates are longitude/latitude (CRS84); the stored CGCS2000 is taken as equal to
WGS84 at this scale.

Who sees what:

- outfalls: signed-in clients (``Authorization: Token <key>`` from /api/v1/auth/token/, or the browser's
  session) get the outfalls in their scope (``Outfall.objects.visible_to``) with every attribute;
  anonymous clients get only retained (保留), disclosed outfalls with the public attributes
  (maps/gis_features.py). Outside that, an item is 404.
- water bodies, sections and protected areas are public reference data (protected areas and assessment
  sections are published by government), served to everyone; they carry no outfall counts.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
import shapely
from django.conf import settings
from django.db.models import Max, Min, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from rest_framework.exceptions import AuthenticationFailed
from shapely.geometry import box, shape

from outfalls.core import params
from outfalls.core.authentication import BearerTokenAuthentication, TokenAuthentication
from outfalls.registry.classification import Level2, TypeCode
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.models import ProtectedArea, Section, WaterBody

from . import gis_features

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
STANDARD_ITEM_PARAMS = ("f", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime")


class OgcError(Exception):
    def __init__(self, status, code, description):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


# Clients ------------------------------------------------------------------------------------------------
def client_user(request):
    """The token's user when an Authorization header is sent, else the session's (maybe anonymous).

    A wrong token is a 401, never a silent downgrade to the anonymous view.
    """
    for auth in (TokenAuthentication(), BearerTokenAuthentication()):
        try:
            result = auth.authenticate(request)
        except AuthenticationFailed as error:
            raise OgcError(401, "Unauthorized", str(error.detail))
        if result is not None:
            request.user = result[0]  # filters read the user from the request (place choices)
            return result[0]
    return request.user


def wants_html(request, json_type=JSON):
    f = request.GET.get("f")
    if f:
        if f.lower() in ("json", "geojson"):
            return False
        if f.lower() == "html":
            return True
        raise OgcError(400, "InvalidParameterValue", f"不支持的格式 f={f[:20]}，可选 json 或 html。")
    return request.get_preferred_type([json_type, JSON, HTML]) == HTML


# Collections ---------------------------------------------------------------------------------------------
def _label(obj, name):
    return getattr(obj, f"get_{name}_display")() if getattr(obj, name) else None


class PublicOutfallFilter(django_filters.FilterSet):
    """The filters anonymous clients may use: only on public attributes (no search on unit names)."""

    county = django_filters.CharFilter(field_name="county__code")
    water_body = django_filters.ModelChoiceFilter(queryset=WaterBody.objects.defer("geometry"))
    type_code = django_filters.ChoiceFilter(choices=TypeCode.choices)
    type_level2 = django_filters.ChoiceFilter(choices=Level2.choices)


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    points: bool  # lon/lat columns (bbox filtered in the database) or a GeoJSON column

    def objects(self, user):
        """(queryset, the attributes' definition) for this client."""
        raise NotImplementedError

    def filterset_class(self, user):
        return None

    def geometry(self, obj):
        raise NotImplementedError

    def properties(self, obj, fields):
        raise NotImplementedError

    def feature(self, obj, fields):
        return {
            "type": "Feature",
            "id": obj.pk,
            "geometry": self.geometry(obj),
            "properties": self.properties(obj, fields),
        }

    def extent(self, queryset):
        if self.points:
            found = queryset.aggregate(Min("lon"), Max("lon"), Min("lat"), Max("lat"))
            values = [found["lon__min"], found["lat__min"], found["lon__max"], found["lat__max"]]
            return None if None in values else values
        bounds = [shape(g).bounds for g in self.geometries(queryset).values() if g]
        if not bounds:
            return None
        return [
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        ]

    def geometries(self, queryset):
        raise NotImplementedError

    def in_bbox(self, queryset, bbox):
        """The queryset (points) or the ordered list of ids (geometries) that intersect the bbox."""
        minx, miny, maxx, maxy = bbox
        if self.points:
            lon = Q(lon__gte=minx, lon__lte=maxx) if minx <= maxx else Q(lon__gte=minx) | Q(lon__lte=maxx)
            return queryset.filter(lon, lat__gte=miny, lat__lte=maxy)
        area = _bbox_geometry(bbox)
        shapely.prepare(area)
        geometries = self.geometries(self.candidates(queryset, bbox))
        return [pk for pk, g in geometries.items() if g and area.intersects(_shape_or_none(g))]

    def candidates(self, queryset, bbox):
        return queryset


def _shape_or_none(geojson):
    try:
        return shape(geojson)
    except (ValueError, TypeError, AttributeError):
        return shapely.geometry.GeometryCollection()


def _bbox_geometry(bbox):
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return box(minx, miny, maxx, maxy)
    return shapely.union(box(minx, miny, 180, maxy), box(-180, miny, maxx, maxy))


class OutfallCollection(Collection):
    def objects(self, user):
        return gis_features.outfalls_for(user)

    def filterset_class(self, user):
        return PublicOutfallFilter if gis_features.is_public(user) else OutfallFilter

    def geometry(self, obj):
        return gis_features.point(obj)

    def properties(self, obj, fields):
        return gis_features.properties(obj, fields)


def _water_fields():
    return (
        ("name", "名称", lambda w: w.name),
        ("code", "水体编码", lambda w: w.code),
        ("kind", "类型", lambda w: _label(w, "kind")),
        ("basin", "流域", lambda w: w.basin or None),
        ("parent", "汇入河流", lambda w: w.parent.name if w.parent_id else None),
        ("target", "水质目标", lambda w: _label(w, "target_class")),
        ("approx", "几何为示意", lambda w: w.geometry_approximate),
    )


class WaterBodyCollection(Collection):
    def objects(self, user):
        queryset = WaterBody.objects.select_related("parent").defer("parent__geometry").order_by("name", "pk")
        return queryset, _water_fields()

    def geometry(self, obj):
        return obj.geometry or None

    def properties(self, obj, fields):
        return {key: getter(obj) for key, _, getter in fields}

    def geometries(self, queryset):
        return dict(queryset.values_list("pk", "geometry"))


def _section_fields():
    return (
        ("name", "断面名称", lambda s: s.name),
        ("level", "级别", lambda s: _label(s, "level")),
        ("water_body", "所在水体", lambda s: s.water_body.name),
        ("water_code", "水体编码", lambda s: s.water_body.code),
        ("county", "所在县区", lambda s: s.county.name if s.county_id else None),
        ("target", "水质目标", lambda s: _label(s, "target_class")),
        ("chainage", "沿程距离（公里）", lambda s: s.chainage_km),
        ("approx", "位置为示意", lambda s: s.location_approximate),
    )


class SectionCollection(Collection):
    def objects(self, user):
        queryset = Section.objects.select_related("water_body", "county").defer(
            "water_body__geometry", "county__boundary"
        )
        return queryset.order_by("water_body__name", "chainage_km", "pk"), _section_fields()

    def geometry(self, obj):
        return {"type": "Point", "coordinates": [obj.lon, obj.lat]}

    def properties(self, obj, fields):
        return {key: getter(obj) for key, _, getter in fields}


def _protected_fields():
    return (
        ("name", "名称", lambda a: a.name),
        ("kind", "类型代码", lambda a: a.kind),
        ("kind_label", "类型", lambda a: a.get_kind_display()),
        ("source", "来源", lambda a: a.source or None),
        ("approx", "范围为示意", lambda a: a.approximate),
    )


class ProtectedAreaCollection(Collection):
    def objects(self, user):
        return ProtectedArea.objects.order_by("kind", "name", "pk"), _protected_fields()

    def geometry(self, obj):
        return obj.geometry

    def properties(self, obj, fields):
        return {key: getter(obj) for key, _, getter in fields}

    def geometries(self, queryset):
        return dict(queryset.values_list("pk", "geometry"))

    def extent(self, queryset):
        found = queryset.aggregate(Min("min_lon"), Min("min_lat"), Max("max_lon"), Max("max_lat"))
        values = [found["min_lon__min"], found["min_lat__min"], found["max_lon__max"], found["max_lat__max"]]
        return None if None in values else values

    def candidates(self, queryset, bbox):
        minx, miny, maxx, maxy = bbox
        lat = Q(max_lat__gte=miny, min_lat__lte=maxy)
        lon = (
            Q(max_lon__gte=minx, min_lon__lte=maxx)
            if minx <= maxx
            else Q(max_lon__gte=minx) | Q(min_lon__lte=maxx)
        )
        return queryset.filter(lat, lon)


COLLECTIONS = {
    c.id: c
    for c in (
        OutfallCollection(
            "outfalls",
            "入河排污口",
            "入河排污口（点）。未登录只含已公开的保留排口及其公开信息；凭令牌访问为本人管辖范围内的全部排口。",
            points=True,
        ),
        WaterBodyCollection("water-bodies", "受纳水体", "受纳水体（河流、湖库）的走向或范围。", points=False),
        SectionCollection("sections", "考核断面", "国考、省考、市考断面位置（点）。", points=True),
        ProtectedAreaCollection(
            "protected-areas",
            "特殊保护区域",
            "饮用水水源保护区、泉域重点保护区、自然保护区、生态保护红线等范围（面）。",
            points=False,
        ),
    )
}


def _collection(collection_id):
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise OgcError(404, "NotFound", f"没有集合“{collection_id[:40]}”。")


# Parameters -------------------------------------------------------------------------------------------------
def parse_bbox(text):
    """[minx, miny, maxx, maxy] in CRS84; six numbers (with heights) are accepted, minx > maxx crosses the
    antimeridian. Unreadable: ParamError, answered as InvalidParameterValue."""
    return list(params.parse_bbox(text, "bbox", heights=True, crossing=True))


def _parse_instant(text):
    if text in ("", ".."):
        return None
    try:
        if "T" in text.upper():
            return dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OgcError(
            400, "InvalidParameterValue", f"datetime 格式不正确：{text[:40]}（RFC 3339，区间用 / 分隔）。"
        )


def check_datetime(text):
    """Validate datetime (an instant or an interval); the collections here have no time, so it filters nothing."""
    parts = text.split("/")
    if (
        len(parts) > 2
        or (len(parts) == 2 and parts == ["..", ".."])
        or (len(parts) == 1 and parts[0] in ("", ".."))
    ):
        raise OgcError(400, "InvalidParameterValue", f"datetime 格式不正确：{text[:40]}。")
    for part in parts:
        _parse_instant(part)


def _integer(request, name, default, minimum):
    return params.parse_int(request.GET.get(name), name, default=default, minimum=minimum)


def _check_crs_params(request):
    for name in ("bbox-crs", "crs"):
        value = request.GET.get(name)
        if value and value.strip("<>") != CRS84:
            raise OgcError(400, "InvalidParameterValue", f"{name} 只支持 {CRS84}。")


# Responses ------------------------------------------------------------------------------------------------
def _url(request, name, *args, **params):
    base = request.build_absolute_uri(reverse(f"ogcapi:{name}", args=args))
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


def _link(href, rel, type_, title=None):
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _json(data, content_type=JSON, status=200):
    return JsonResponse(
        data, status=status, content_type=content_type, json_dumps_params={"ensure_ascii": False}, safe=False
    )


def _finish(response):
    patch_vary_headers(response, ("Accept", "Authorization", "Cookie"))
    # Cross-origin browsers never send cookies or a token here without a preflight this API does not
    # answer, so * exposes only what an anonymous client sees anyway.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(request, error, html=False):
    if html:
        response = render(
            request,
            "maps/ogc_error.html",
            {"status": error.status, "code": error.code, "description": error.description},
            status=error.status,
        )
    else:
        response = _json({"code": error.code, "description": error.description}, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Token realm="ogcapi"'
    return _finish(response)


def ogc_view(json_type=JSON):
    """Views return (data, template, context); JSON or HTML is chosen here, errors become OGC exceptions."""

    def decorate(view):
        @require_safe
        def wrapped(request, *args, **kwargs):
            html = False
            try:
                html = wants_html(request, json_type)
                user = client_user(request)
                data, template, context = view(request, user, *args, **kwargs)
            except params.ParamError as error:
                return _error(request, OgcError(400, "InvalidParameterValue", error.message), html)
            except OgcError as error:
                return _error(request, error, html)
            if html:
                context = {**context, "data": data, "json_url": _self_url(request, "json")}
                return _finish(render(request, template, context))
            return _finish(_json(data, content_type=json_type))

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def _self_url(request, fmt):
    params = request.GET.copy()
    params["f"] = fmt
    return request.build_absolute_uri(request.path) + "?" + params.urlencode()


def _self_links(request, json_type=JSON):
    return [
        _link(_self_url(request, "json"), "self", json_type, "本文档（JSON）"),
        _link(_self_url(request, "html"), "alternate", HTML, "本文档（HTML）"),
    ]


# Views ------------------------------------------------------------------------------------------------------
TITLE = f"{settings.PLATFORM_NAME} OGC API - Features"


@ogc_view()
def landing(request, user):
    links = _self_links(request)
    links += [
        _link(_url(request, "api"), "service-desc", OPENAPI, "API 定义（OpenAPI 3.0）"),
        _link(_url(request, "conformance", f="json"), "conformance", JSON, "符合的标准"),
        _link(
            _url(request, "conformance", f="json"),
            "http://www.opengis.net/def/rel/ogc/1.0/conformance",
            JSON,
            "符合的标准",
        ),
        _link(_url(request, "collections", f="json"), "data", JSON, "数据集合"),
        _link(
            _url(request, "collections", f="json"),
            "http://www.opengis.net/def/rel/ogc/1.0/data",
            JSON,
            "数据集合",
        ),
    ]
    data = {
        "title": TITLE,
        "description": "入河排污口、受纳水体、考核断面、特殊保护区域的要素服务（OGC API - Features 第 1 部分：核心）。",
        "links": links,
    }
    return (
        data,
        "maps/ogc_landing.html",
        {"collections": COLLECTIONS.values(), "signed_in": not gis_features.is_public(user)},
    )


@ogc_view()
def conformance(request, user):
    return {"conformsTo": list(CONFORMANCE)}, "maps/ogc_conformance.html", {}


def _collection_document(request, collection, user):
    queryset, _ = collection.objects(user)
    extent = collection.extent(queryset)
    document = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "links": [
            _link(_url(request, "collection", collection.id, f="json"), "self", JSON, collection.title),
            _link(_url(request, "collection", collection.id, f="html"), "alternate", HTML, collection.title),
            _link(
                _url(request, "items", collection.id, f="json"),
                "items",
                GEOJSON,
                f"{collection.title}（GeoJSON）",
            ),
            _link(
                _url(request, "items", collection.id, f="html"), "items", HTML, f"{collection.title}（HTML）"
            ),
        ],
        "itemType": "feature",
        "crs": [CRS84],
    }
    if extent:
        document["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return document


@ogc_view()
def collections(request, user):
    data = {
        "links": _self_links(request),
        "collections": [_collection_document(request, c, user) for c in COLLECTIONS.values()],
    }
    return data, "maps/ogc_collections.html", {}


@ogc_view()
def collection(request, user, collection_id):
    c = _collection(collection_id)
    data = _collection_document(request, c, user)
    data["links"][:2] = _self_links(request)
    return data, "maps/ogc_collection.html", {"collection": c}


@ogc_view(GEOJSON)
def items(request, user, collection_id):
    c = _collection(collection_id)
    queryset, fields = c.objects(user)
    filterset_class = c.filterset_class(user)
    allowed = set(STANDARD_ITEM_PARAMS) | (set(filterset_class.base_filters) if filterset_class else set())
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise OgcError(
            400,
            "InvalidParameterValue",
            f"不支持的查询参数：{'、'.join(u[:30] for u in unknown[:5])}。可用参数：{'、'.join(sorted(allowed))}。",
        )
    limit = min(_integer(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _integer(request, "offset", 0, 0)
    _check_crs_params(request)
    if request.GET.get("datetime"):
        check_datetime(request.GET["datetime"])
    if filterset_class:
        params = {k: v for k, v in request.GET.items() if k in filterset_class.base_filters}
        if params:
            filterset = filterset_class(params, queryset=queryset, request=request)
            if not filterset.is_valid():
                problems = "；".join(f"{k}：{'，'.join(v)}" for k, v in filterset.errors.items())
                raise OgcError(400, "InvalidParameterValue", f"筛选条件不正确：{problems}")
            queryset = filterset.qs
    bbox = parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None
    if bbox is not None:
        selected = c.in_bbox(queryset, bbox)
        if isinstance(selected, list):
            matched = len(selected)
            page_ids = selected[offset : offset + limit]
            by_id = queryset.in_bulk(page_ids)
            rows = [by_id[pk] for pk in page_ids if pk in by_id]
        else:
            matched = selected.count()
            rows = list(selected[offset : offset + limit])
    else:
        matched = queryset.count()
        rows = list(queryset[offset : offset + limit]) if offset < matched else []
    features = [c.feature(obj, fields) for obj in rows]
    links = [
        _link(_self_url(request, "json"), "self", GEOJSON, "本页（GeoJSON）"),
        _link(_self_url(request, "html"), "alternate", HTML, "本页（HTML）"),
        _link(_url(request, "collection", c.id, f="json"), "collection", JSON, c.title),
    ]
    page_fmt = "html" if wants_html(request, GEOJSON) else "json"
    base = {k: v for k, v in request.GET.lists() if k not in ("offset", "f")}
    if offset + len(rows) < matched:
        params = {**base, "offset": offset + limit, "limit": limit, "f": page_fmt}
        links.append(
            _link(
                _url(request, "items", c.id, **params),
                "next",
                GEOJSON if page_fmt == "json" else HTML,
                "下一页",
            )
        )
    if offset > 0:
        params = {**base, "offset": max(0, offset - limit), "limit": limit, "f": page_fmt}
        links.append(
            _link(
                _url(request, "items", c.id, **params),
                "prev",
                GEOJSON if page_fmt == "json" else HTML,
                "上一页",
            )
        )
    data = {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    context = {
        "collection": c,
        "fields": fields,
        "rows": [(f["id"], [f["properties"].get(key) for key, _, _ in fields]) for f in features],
        "offset": offset,
        "next_link": next((link["href"] for link in links if link["rel"] == "next"), None),
        "prev_link": next((link["href"] for link in links if link["rel"] == "prev"), None),
    }
    return data, "maps/ogc_items.html", context


@ogc_view(GEOJSON)
def item(request, user, collection_id, feature_id):
    c = _collection(collection_id)
    queryset, fields = c.objects(user)
    try:
        pk = params.parse_id(feature_id, "featureId")
    except params.ParamError:
        pk = None  # an id no feature has: 404, as for any unknown id
    obj = queryset.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        raise OgcError(404, "NotFound", f"集合“{c.title}”中没有要素 {feature_id[:40]}。")
    data = c.feature(obj, fields)
    data["links"] = [
        *_self_links(request, GEOJSON),
        _link(_url(request, "collection", c.id, f="json"), "collection", JSON, c.title),
    ]
    rows = [(label, data["properties"].get(key)) for key, label, _ in fields]
    return data, "maps/ogc_item.html", {"collection": c, "rows": rows}


@require_safe
def api(request):
    """The OpenAPI 3.0 definition of this API (the landing page's service-desc)."""
    return _finish(_json(openapi(request), content_type=OPENAPI))


def openapi(request):
    server = request.build_absolute_uri(reverse("ogcapi:landing")).rstrip("/")

    def param(name, where, schema, description, required=False, **extra):
        return {
            "name": name,
            "in": where,
            "required": required,
            "schema": schema,
            "description": description,
            **extra,
        }

    f = param("f", "query", {"type": "string", "enum": ["json", "html"]}, "响应格式；默认按 Accept 头")
    exception = {
        "description": "错误",
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}},
    }
    document_response = {"description": "文档", "content": {JSON: {"schema": {"type": "object"}}, HTML: {}}}
    item_params = [
        f,
        param(
            "bbox",
            "query",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "最小经度,最小纬度,最大经度,最大纬度（CRS84）",
            style="form",
            explode=False,
        ),
        param("bbox-crs", "query", {"type": "string", "enum": [CRS84]}, "bbox 的坐标系"),
        param("crs", "query", {"type": "string", "enum": [CRS84]}, "响应的坐标系"),
        param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "每页要素数",
        ),
        param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "从第几个要素开始"),
        param("datetime", "query", {"type": "string"}, "时间（这些集合没有时间属性，只检查格式）"),
        *[
            param(
                name,
                "query",
                {"type": "string"},
                f"排口筛选：{name}（仅 outfalls；未登录只可用 county、water_body、type_code、type_level2）",
            )
            for name in OutfallFilter.base_filters
        ],
    ]
    collection_id = param(
        "collectionId", "path", {"type": "string", "enum": list(COLLECTIONS)}, "集合", required=True
    )
    paths = {
        "/": {
            "get": {
                "summary": "入口页",
                "operationId": "landing",
                "parameters": [f],
                "responses": {"200": document_response},
            }
        },
        "/conformance": {
            "get": {
                "summary": "符合的标准",
                "operationId": "conformance",
                "parameters": [f],
                "responses": {"200": document_response},
            }
        },
        "/collections": {
            "get": {
                "summary": "数据集合",
                "operationId": "collections",
                "parameters": [f],
                "responses": {"200": document_response},
            }
        },
        "/collections/{collectionId}": {
            "get": {
                "summary": "一个集合",
                "operationId": "collection",
                "parameters": [collection_id, f],
                "responses": {"200": document_response, "404": exception},
            }
        },
        "/collections/{collectionId}/items": {
            "get": {
                "summary": "集合中的要素",
                "operationId": "items",
                "parameters": [collection_id, *item_params],
                "responses": {
                    "200": {
                        "description": "要素",
                        "content": {GEOJSON: {"schema": {"type": "object"}}, HTML: {}},
                    },
                    "400": exception,
                    "401": exception,
                    "404": exception,
                },
            }
        },
        "/collections/{collectionId}/items/{featureId}": {
            "get": {
                "summary": "一个要素",
                "operationId": "item",
                "parameters": [
                    collection_id,
                    param("featureId", "path", {"type": "string"}, "要素 id", required=True),
                    f,
                ],
                "responses": {
                    "200": {
                        "description": "要素",
                        "content": {GEOJSON: {"schema": {"type": "object"}}, HTML: {}},
                    },
                    "404": exception,
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": "1.0.0", "description": "OGC API - Features Part 1: Core"},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                }
            },
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Token <令牌>",
                }
            },
        },
        "security": [{}, {"token": []}],
    }
