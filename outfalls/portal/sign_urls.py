from django.urls import path

from . import sign_views

app_name = "signs"
urlpatterns = [
    path("outfalls/<int:pk>/installed/", sign_views.confirm_installed, name="confirm_installed"),
    path("outfalls/<int:pk>/sign.pdf", sign_views.sign_pdf, name="sign_pdf"),
    path("batch/", sign_views.sign_batch, name="batch"),
]
