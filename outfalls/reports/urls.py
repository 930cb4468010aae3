"""/statutory/: the three statutory reports, their register and documents."""

from django.urls import path

from . import statutory_views as views

app_name = "statutory"
urlpatterns = [
    path("", views.register, name="register"),
    path("<slug:kind>/city.docx", views.city_docx, name="city_docx"),
    path("<slug:kind>/<slug:which>/<str:key>/", views.report_page, name="report"),
    path("<slug:kind>/<slug:which>/<str:key>/report.docx", views.report_docx, name="docx"),
    path("<slug:kind>/<slug:which>/<str:key>/attachment.xlsx", views.report_xlsx, name="xlsx"),
]
