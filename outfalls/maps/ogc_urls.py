"""OGC API - Features at /ogcapi/ (views in maps/ogc.py). Paths take an optional trailing slash."""

from django.urls import path, re_path

from . import ogc

app_name = "ogcapi"
urlpatterns = [
    path("", ogc.landing, name="landing"),
    re_path(r"^conformance/?$", ogc.conformance, name="conformance"),
    re_path(r"^api/?$", ogc.api, name="api"),
    re_path(r"^collections/?$", ogc.collections, name="collections"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/?$", ogc.collection, name="collection"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/items/?$", ogc.items, name="items"),
    re_path(r"^collections/(?P<collection_id>[\w-]+)/items/(?P<feature_id>[^/]+)/?$", ogc.item, name="item"),
]
