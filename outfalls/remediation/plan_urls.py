"""一口一策, 销号, retained list, supervision, notice and dashboard (plan_views)."""

from django.urls import path

from . import accountability_views
from . import plan_views as views

urlpatterns = [
    path("plans/", views.PlanListView.as_view(), name="plan_list"),
    path("plans/export/", views.plan_export, name="plan_export"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/progress/", views.plan_progress, name="plan_progress"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/return/", views.plan_return, name="plan_return"),
    path("plans/<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("plans/<int:pk>/reopen/", views.plan_reopen, name="plan_reopen"),
    path("programmes/", views.ProgrammeListView.as_view(), name="programme_list"),
    path("programmes/<int:pk>/", views.ProgrammeDetailView.as_view(), name="programme_detail"),
    path("retained/", views.RetainedListView.as_view(), name="retained_list"),
    path("retained/export/", views.retained_export, name="retained_export"),
    path("supervision/", views.supervision_page, name="supervision"),
    path("supervision/notice/", views.notice_start, name="notice"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("accountability/", accountability_views.accountability_list, name="accountability_list"),
    path("accountability/new/", accountability_views.accountability_new, name="accountability_new"),
    path("dashboard/data/", views.dashboard_data, name="dashboard_data"),
]
