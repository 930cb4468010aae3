"""溯源 cases, 借道排污 list, coverage, reconciliation and progress (names in the survey namespace)."""

from django.urls import path

from . import tracing_views as views

urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="case_list"),
    path("cases/awaiting/", views.AwaitingListView.as_view(), name="case_awaiting"),
    path("cases/open/<int:outfall_pk>/", views.case_open, name="case_open"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("borrowed/", views.BorrowedListView.as_view(), name="borrowed_list"),
    path("borrowed/export.csv", views.borrowed_export, name="borrowed_export"),
    path("coverage/", views.coverage_view, name="coverage"),
    path("coverage/<int:pk>/", views.coverage_detail, name="coverage_detail"),
    path("reconciliation/", views.reconciliation_view, name="reconciliation"),
    path("progress/", views.progress_view, name="progress"),
    path("progress/export.<str:fmt>", views.progress_export, name="progress_export"),
]
