from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.home, name="home"),
    path("matrix/", views.matrix_view, name="matrix"),
    path("evaluate/", views.evaluate_start, name="evaluate"),
    path("notice/", views.notice_view, name="notice"),
    path("outfalls/<int:pk>/", views.outfall_view, name="outfall"),
    path("outfalls/<int:pk>/standard/", views.assign_standard, name="assign_standard"),
    path("samples/", views.SampleListView.as_view(), name="sample_list"),
    path("samples/new/", views.sample_create, name="sample_create"),
    path("samples/<int:pk>/", views.SampleDetailView.as_view(), name="sample_detail"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path("standards/", views.standards_view, name="standards"),
    path("loads/", views.loads_view, name="loads"),
    path("loads/compute/", views.loads_compute, name="loads_compute"),
    path("impact/", views.impact_view, name="impact"),
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/audit.json", views.draw_audit, name="draw_audit"),
    path("draws/<int:pk>/items/<int:item_pk>/result/", views.draw_result, name="draw_result"),
    path("draws/<int:pk>/publish/", views.draw_publish, name="draw_publish"),
    path("exclusions/", views.exclusion_list, name="exclusion_list"),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/new/", views.station_form, name="station_create"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path("stations/<int:pk>/edit/", views.station_form, name="station_edit"),
]
