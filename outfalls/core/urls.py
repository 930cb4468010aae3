from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("jurisdictions/", views.JurisdictionListView.as_view(), name="jurisdiction_list"),
    path("jurisdictions/<str:code>/", views.JurisdictionDetailView.as_view(), name="jurisdiction_detail"),
]
