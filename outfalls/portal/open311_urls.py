from django.urls import path

from . import open311

app_name = "open311"
urlpatterns = [
    path("discovery.json", open311.discovery, name="discovery"),
    path("v2/services.json", open311.service_list, name="services"),
    path("v2/requests.json", open311.requests, name="requests"),
    path("v2/requests/<str:code>.json", open311.request_detail, name="request"),
]
