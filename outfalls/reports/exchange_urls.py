"""/exchange/: the exchange with the provincial and national platforms."""

from django.urls import path

from . import exchange_views as views

app_name = "exchange"
urlpatterns = [
    path("", views.page, name="page"),
    path("download/", views.download, name="download"),
]
