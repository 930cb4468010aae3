from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.home, name="home"),
    path("matrix/", views.matrix_view, name="matrix"),
    path("evaluate/", views.evaluate_start, name="evaluate"),
    path("outfalls/<int:pk>/", views.outfall_view, name="outfall"),
    path("outfalls/<int:pk>/standard/", views.assign_standard, name="assign_standard"),
    path("samples/", views.SampleListView.as_view(), name="sample_list"),
    path("samples/new/", views.sample_create, name="sample_create"),
    path("samples/<int:pk>/", views.SampleDetailView.as_view(), name="sample_detail"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path("standards/", views.standards_view, name="standards"),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/new/", views.station_form, name="station_create"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path("stations/<int:pk>/edit/", views.station_form, name="station_edit"),
]
