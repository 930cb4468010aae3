from django.urls import path

from . import sign_views

app_name = "signs"
urlpatterns = [
    path("outfalls/<int:pk>/installed/", sign_views.confirm_installed, name="confirm_installed"),
]
