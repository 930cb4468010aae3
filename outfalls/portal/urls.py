from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("outfalls.geojson", views.outfalls_geojson, name="outfalls_geojson"),
    path("basemap.json", views.basemap, name="basemap"),
    # Fixed: the QR code on every sign board points here.
    path("outfalls/<str:code>/", views.outfall, name="outfall"),
    path("notices/", views.notices, name="notices"),
]
