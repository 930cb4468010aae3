from django.urls import path

from . import api, views

app_name = "maps"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("api/outfalls/", api.outfalls, name="api_outfalls"),
    path("api/chains/", api.chains, name="api_chains"),
    path("api/rivers/", api.rivers, name="api_rivers"),
    path("api/sections/", api.sections, name="api_sections"),
    path("api/protected-areas/", api.protected_areas, name="api_protected_areas"),
    path("api/sewer-coverage/", api.sewer_coverage, name="api_sewer_coverage"),
    path("api/boundaries/", api.boundaries, name="api_boundaries"),
    path("api/units/", api.units, name="api_units"),
    path("api/coords/", api.coords, name="api_coords"),
    path("api/basemap/", api.basemap, name="api_basemap"),
]
