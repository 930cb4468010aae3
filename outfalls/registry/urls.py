from django.urls import path

from . import findings_views, ledger_views, national_code_views, views

app_name = "registry"
urlpatterns = [
    path("outfalls/", views.OutfallListView.as_view(), name="outfall_list"),
    path("outfalls/export/", views.OutfallExportView.as_view(), name="outfall_export"),
    path("outfalls/disclosure/", views.outfall_disclosure, name="outfall_disclosure"),
    path("outfalls/new/", views.OutfallFormView.as_view(), name="outfall_create"),
    path("outfalls/<int:pk>/", views.OutfallDetailView.as_view(), name="outfall_detail"),
    path("outfalls/<int:pk>/edit/", views.OutfallFormView.as_view(), name="outfall_edit"),
    path("outfalls/<int:pk>/status/", views.outfall_change_status, name="outfall_status"),
    path("outfalls/<int:pk>/units/", views.outfall_link_unit, name="outfall_link_unit"),
    path(
        "outfalls/<int:pk>/units/<int:link_pk>/delete/", views.outfall_unlink_unit, name="outfall_unlink_unit"
    ),
    path("outfalls/<int:pk>/attachments/", views.outfall_add_attachment, name="outfall_add_attachment"),
    path("imports/", ledger_views.import_list, name="import_list"),
    path("national-codes/", national_code_views.write_back, name="national_codes"),
    path("imports/<int:pk>/", ledger_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/file/", ledger_views.import_file, name="import_file"),
    path("imports/<int:pk>/commit/", ledger_views.import_commit, name="import_commit"),
    path("units/", views.DischargeUnitListView.as_view(), name="unit_list"),
    path("units/new/", views.DischargeUnitFormView.as_view(), name="unit_create"),
    path("units/<int:pk>/", views.DischargeUnitDetailView.as_view(), name="unit_detail"),
    path("units/<int:pk>/edit/", views.DischargeUnitFormView.as_view(), name="unit_edit"),
    path("waters/", views.WaterBodyListView.as_view(), name="waterbody_list"),
    path("waters/<int:pk>/", views.WaterBodyDetailView.as_view(), name="waterbody_detail"),
    path("sections/", views.SectionListView.as_view(), name="section_list"),
    path("zones/", views.ZoneListView.as_view(), name="zone_list"),
    path("findings/", findings_views.FindingListView.as_view(), name="finding_list"),
    path("findings/run/", findings_views.run_checks, name="finding_run"),
]
