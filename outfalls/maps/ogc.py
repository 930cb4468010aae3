"""OGC API - Features, Part 1: Core (OGC 17-069r4) at /ogcapi/, so QGIS, ArcGIS, GDAL and OWSLib can add the
platform as a layer. See docs/ogcapi.md.

Resources: the landing page, /conformance, /api (OpenAPI 3.0, with each collection's filters),
/collections, /collections/{id}, /collections/{id}/queryables (the filterable properties, as Part 3
describes them), /collections/{id}/items (bbox, limit, offset, datetime, and the collection's filters) and
/collections/{id}/items/{featureId}; each as JSON (GeoJSON for features) or HTML, by ``?f=json|html`` or the
Accept header; /collections/outfalls/styles/qml|sld (style files). Anything else under /ogcapi/ is a JSON
404, any method but GET and HEAD a JSON 405. Coordinates are longitude/latitude (CRS84); the stored
CGCS2000 is taken as equal to WGS84 at this scale. The collections are defined in maps/ogc_collections.py.

Who sees what:

- outfalls: signed-in clients (``Authorization: Token <key>`` or ``Bearer <key>``, a user name and password
  by ``Basic`` over HTTPS, or the browser's session) get the outfalls in their scope
  (``Outfall.objects.visible_to``) with every attribute; anonymous clients get only retained (保留),
  disclosed outfalls with the public attributes (maps/gis_features.py). Outside that, an item is 404.
- discharge units and unit → outfall chains: the user's scope; nothing for anonymous clients.
- water bodies, sections and protected areas are public reference data (protected areas and assessment
  sections are published by government), served to everyone; they carry no outfall counts.
"""

import datetime as dt
import ipaddress
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from outfalls.core import params
from outfalls.core.authentication import (
    BearerTokenAuthentication,
    Locked,
    TokenAuthentication,
    basic_credentials,
    user_for_password,
)
from outfalls.core.downloads import attachment
from outfalls.core.security import client_ip

from . import gis_features, ogc_styles
from .ogc_collections import COLLECTIONS

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
SCHEMA = "application/schema+json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
STANDARD_ITEM_PARAMS = ("f", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime")


class OgcError(Exception):
    def __init__(self, status, code, description):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


# Clients ------------------------------------------------------------------------------------------------
def _basic_allowed(request):
    """HTTP Basic per OGCAPI_BASIC_AUTH: over HTTPS, or from this machine (a local run, the tests)."""
    mode = settings.OGCAPI_BASIC_AUTH
    if mode == "always":
        return True
    if mode == "off":
        return False
    if request.is_secure():
        return True
    address = client_ip(request)
    return bool(address) and ipaddress.ip_address(address).is_loopback


def client_user(request):
    """The user of the Authorization header (``Token``/``Bearer`` key, or ``Basic`` user name and password),
    else the session's (maybe anonymous).

    Wrong credentials are a 401, never a silent downgrade to the anonymous view; a locked-out name or
    address is a 429 (django-axes' middleware answers it, core/security.py).
    """
    try:
        credentials = basic_credentials(request)
        if credentials is not None:
            if not _basic_allowed(request):
                raise OgcError(
                    401,
                    "Unauthorized",
                    "用户名和密码只能经 HTTPS 发送（或改用令牌：Authorization: Token <令牌>）。"
                    if settings.OGCAPI_BASIC_AUTH == "https"
                    else "本服务不接受用户名和密码，请改用令牌（Authorization: Token <令牌>）。",
                )
            user = user_for_password(request, *credentials)
            request.user = user  # filters read the user from the request (place choices)
            return user
        for auth in (TokenAuthentication(), BearerTokenAuthentication()):
            result = auth.authenticate(request)
            if result is not None:
                request.user = result[0]
                return result[0]
    except Locked as error:
        raise OgcError(429, "TooManyRequests", str(error.detail))
    except AuthenticationFailed as error:
        raise OgcError(401, "Unauthorized", str(error.detail))
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
    # What a response holds depends on who asks, and clients' caches do not all honour Vary: QGIS keeps
    # its requests in Qt's network cache, which ignores Vary and handed the anonymous view (landing page,
    # schema, items) to the same layer opened with a password (test_ogc_qgis.py). no-store keeps any
    # response out of such caches; private keeps shared caches from storing a user's scope.
    patch_cache_control(response, private=True, no_cache=True, no_store=True)
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
        # A token, or a user name and password where OGCAPI_BASIC_AUTH allows it.
        schemes = ["Token", "Bearer"] + (["Basic"] if _basic_allowed(request) else [])
        response["WWW-Authenticate"] = ", ".join(f'{scheme} realm="ogcapi"' for scheme in schemes)
    if error.status == 405:
        response["Allow"] = "GET, HEAD"
    return _finish(response)


SAFE_METHODS = ("GET", "HEAD")


def read_only(view):
    """GET and HEAD only: anything else is a JSON 405 (never Django's CSRF page: nothing here reads a
    cookie-authenticated POST, so the views are exempt from the CSRF check that would answer first)."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            error = OgcError(
                405, "MethodNotAllowed", f"不支持 {request.method[:10]} 请求，本服务只读（GET）。"
            )
            return _error(request, error)
        return view(request, *args, **kwargs)

    return wrapped


def ogc_view(json_type=JSON):
    """Views return (data, template, context); JSON or HTML is chosen here, errors become OGC exceptions."""

    def decorate(view):
        @read_only
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
    document["links"].append(
        _link(
            _url(request, "queryables", collection.id),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA,
            "可筛选的属性（Queryables）",
        )
    )
    if collection.styled:
        for style in ogc_styles.STYLES.values():
            document["links"].append(
                _link(
                    _url(request, "style", collection.id, style.suffix),
                    "stylesheet",
                    style.media_type,
                    style.title,
                )
            )
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


@ogc_view(SCHEMA)
def queryables(request, user, collection_id):
    """The properties a client may filter on, as query parameters named after them (a JSON Schema, as OGC
    API - Features Part 3 describes queryables): GDAL's and QGIS's where clauses on them go to the server."""
    c = _collection(collection_id)
    queryset, fields = c.objects(user)
    properties = c.queryables(user, queryset, fields)
    data = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, "queryables", c.id),
        "type": "object",
        "title": f"{c.title}：可筛选的属性",
        "description": "每个属性可作为同名查询参数，取值可为显示的名称或代码；取值不存在时返回 400。",
        "properties": properties,
        "additionalProperties": False,
    }
    rows = [
        (name, schema["title"], "、".join(schema.get("enum", [])[:30])) for name, schema in properties.items()
    ]
    return data, "maps/ogc_queryables.html", {"collection": c, "rows": rows}


@read_only
def style(request, collection_id, suffix):
    """A style file for the collection (QGIS .qml, OGC SLD 1.0), to download and load in a GIS client."""
    c = COLLECTIONS.get(collection_id)
    chosen = ogc_styles.STYLES.get(suffix)
    if c is None or not c.styled or chosen is None:
        return _error(
            request, OgcError(404, "NotFound", f"集合“{collection_id[:40]}”没有 {suffix[:10]} 样式。")
        )
    response = HttpResponse(chosen.render(), content_type=f"{chosen.media_type}; charset=utf-8")
    response["Content-Disposition"] = attachment(f"入河排污口样式.{suffix}", f"outfalls-style.{suffix}")
    return _finish(response)


@ogc_view()
def not_found(request, user, path):
    """Any other path under /ogcapi/: the API's own 404 (JSON, or HTML for a browser)."""
    raise OgcError(404, "NotFound", f"没有这个资源：/ogcapi/{path[:60]}。可从 /ogcapi/ 入口页查看可用资源。")


@read_only
def api(request):
    """The OpenAPI 3.0 definition of this API (the landing page's service-desc), for this client."""
    try:
        user = client_user(request)
    except OgcError as error:
        return _error(request, error)
    return _finish(_json(openapi(request, user), content_type=OPENAPI))


def openapi(request, user):
    """The OpenAPI document: the generic paths, and each collection's items path with its own filters."""
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
    ]

    def filter_params(c):
        # This client's filters on the collection (anonymous clients have fewer on outfalls), each named
        # after the property it filters (GDAL sends a where clause on that property as the parameter).
        filterset_class = c.filterset_class(user)
        if filterset_class is None:
            return []
        labels = {key: label for key, label, _ in c.objects(user)[1]}
        return [
            param(
                name,
                "query",
                {"type": "string"},
                f"按“{labels.get(name) or filterset_class.base_filters[name].label or name}”筛选"
                + ("（显示的名称或代码）" if name in labels else ""),
            )
            for name in filterset_class.base_filters
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
        "/collections/{collectionId}/queryables": {
            "get": {
                "summary": "可筛选的属性",
                "operationId": "queryables",
                "parameters": [collection_id, f],
                "responses": {
                    "200": {
                        "description": "JSON Schema",
                        "content": {SCHEMA: {"schema": {"type": "object"}}},
                    },
                    "404": exception,
                },
            }
        },
    }
    items_responses = paths["/collections/{collectionId}/items"]["get"]["responses"]
    for c in COLLECTIONS.values():
        paths[f"/collections/{c.id}/items"] = {
            "get": {
                "summary": f"{c.title}的要素",
                "operationId": f"items-{c.id}",
                "parameters": [*item_params, *filter_params(c)],
                "responses": items_responses,
            }
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
