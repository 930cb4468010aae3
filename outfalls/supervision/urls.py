"""/supervision/: enforcement cases and the entities' 借道排污 reports."""

from django.urls import path

from . import patrol_views, views

app_name = "supervision"
urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="case_list"),
    path("cases/export.csv", views.case_export, name="case_export"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/step/<slug:status>/", views.case_step, name="case_step"),
    path("cases/<int:pk>/evidence/", views.case_evidence, name="case_evidence"),
    path("borrowing/", views.entity_report_list, name="entity_report_list"),
    path("borrowing/new/", views.entity_report_new, name="entity_report_new"),
    path("borrowing/<int:pk>/", views.entity_report_detail, name="entity_report_detail"),
    path("borrowing/<int:pk>/dismiss/", views.entity_report_dismiss, name="entity_report_dismiss"),
    path("patrols/", patrol_views.PatrolListView.as_view(), name="patrol_list"),
    path("patrols/new/", patrol_views.patrol_new, name="patrol_new"),
    path("patrols/coverage/", patrol_views.patrol_coverage, name="patrol_coverage"),
    path("patrols/<int:pk>/", patrol_views.patrol_detail, name="patrol_detail"),
    path("patrols/<int:pk>/findings/", patrol_views.patrol_finding, name="patrol_finding"),
    path("patrol-findings/<int:pk>/", patrol_views.finding_detail, name="finding_detail"),
]
