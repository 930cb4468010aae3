"""The handlers' pages (login), mounted at /reports/ on the platform's host (not on PORTAL_HOST)."""

from django.urls import path

from . import handling_views

app_name = "handling"
urlpatterns = [
    path("", handling_views.report_list, name="list"),
    path("<int:pk>/", handling_views.report_detail, name="detail"),
    path("<int:pk>/<slug:action>/", handling_views.report_action, name="action"),
]
