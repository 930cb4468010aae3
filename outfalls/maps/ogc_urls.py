"""OGC API - Features at /ogcapi/ (views in maps/ogc.py). Paths take an optional trailing slash; any other
path under /ogcapi/ is the API's own JSON 404."""

from django.urls import path, re_path

from . import ogc

app_name = "ogcapi"
urlpatterns = [
    path("", ogc.landing, name="landing"),
    re_path(r"^conformance/?$", ogc.conformance, name="conformance"),
    re_path(r"^api/?$", ogc.api, name="api"),
    re_path(r"^collections/?$", ogc.collections, name="collections"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/?$", ogc.collection, name="collection"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/queryables/?$", ogc.queryables, name="queryables"),
    re_path(
        r"^collections/(?P<collection_id>[\w-]+)/styles/(?P<suffix>qml|sld)/?$",
        ogc.style,
        name="style",
    ),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/items/?$", ogc.items, name="items"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/items/(?P<feature_id>[^/]+)/?$", ogc.item, name="item"),
    re_path(r"^(?P<path>.*)$", ogc.not_found, name="not_found"),
]
