from django.urls import path

from . import report_views, views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("outfalls.geojson", views.outfalls_geojson, name="outfalls_geojson"),
    path("basemap.json", views.basemap, name="basemap"),
    # Fixed: the QR code on every sign board points here.
    path("outfalls/<path:code>/", views.outfall, name="outfall"),
    path("notices/", views.notices, name="notices"),
    path("report/", report_views.report, name="report"),
    path("report/nearby.json", report_views.nearby, name="report_nearby"),
    path("reports/", report_views.lookup, name="report_lookup"),
    path("reports/<str:code>/", report_views.report_status, name="report_status"),
]
