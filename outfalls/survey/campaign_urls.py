"""排查 URLs (campaigns, reaches, points, field checks, the phone's page); included by urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/reaches/new/", views.reach_form, name="reach_create"),
    path("campaigns/<int:pk>/reaches/<int:reach_pk>/", views.reach_form, name="reach_edit"),
    path("campaigns/<int:pk>/reaches/<int:reach_pk>/checked/", views.reach_checked, name="reach_checked"),
    path("campaigns/<int:pk>/reaches/<int:reach_pk>/delete/", views.reach_delete, name="reach_delete"),
    path("campaigns/<int:pk>/import/", views.point_import, name="point_import"),
    path("campaigns/<int:pk>/points.geojson", views.campaign_points_geojson, name="campaign_points_geojson"),
    path("campaigns/<int:pk>/tracks.geojson", views.campaign_tracks_geojson, name="campaign_tracks_geojson"),
    path(
        "campaigns/<int:pk>/reaches.geojson", views.campaign_reaches_geojson, name="campaign_reaches_geojson"
    ),
    path("points/<int:pk>/", views.point_detail, name="point_detail"),
    path("points/<int:pk>/decide/", views.point_decide, name="point_decide"),
    path("points/<int:pk>/reopen/", views.point_reopen, name="point_reopen"),
    path("checks/<int:pk>/", views.check_detail, name="check_detail"),
    path("field/", views.field_home, name="field_home"),
    path("field/<int:pk>/", views.field_page, name="field_page"),
    path("field/<int:pk>/config.json", views.field_config_json, name="field_config"),
    path("field/<int:pk>/submit/", views.field_submit, name="field_submit"),
    path("field/<int:pk>/track/", views.field_track, name="field_track"),
    path("sw.js", views.service_worker, name="field_sw"),
]
