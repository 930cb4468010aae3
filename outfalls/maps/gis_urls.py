"""GIS exchange: /gis/import/ (reference data from GIS files), /gis/export/outfalls.<fmt> (the ledger)."""

from django.urls import path

from . import gis_views

app_name = "gis"
urlpatterns = [
    path("import/", gis_views.import_page, name="import"),
    path("export/outfalls.<str:fmt>", gis_views.export_outfalls, name="export_outfalls"),
]
