from django.urls import path

from . import views

app_name = "permits"
urlpatterns = [
    path("applications/", views.ApplicationListView.as_view(), name="application_list"),
    path("applications/export/", views.application_export, name="application_export"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/forward/", views.application_forward, name="application_forward"),
    path("applications/<int:pk>/return/", views.application_return, name="application_return"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path(
        "applications/<int:pk>/materials/<int:material_pk>/",
        views.material_upload,
        name="material_upload",
    ),
    path("applications/<int:pk>/consultations/", views.consultation_add, name="consultation_add"),
    path(
        "applications/<int:pk>/consultations/<int:consultation_pk>/",
        views.consultation_reply,
        name="consultation_reply",
    ),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("applications/<int:pk>/withhold/", views.decision_withhold, name="decision_withhold"),
    path("applications/<int:pk>/disclose/", views.decision_disclose, name="decision_disclose"),
    path(
        "applications/<int:pk>/conditions/<int:condition_pk>/",
        views.condition_fulfil,
        name="condition_fulfil",
    ),
    path("todo/", views.todo, name="todo"),
    path("decisions/", views.DecisionListView.as_view(), name="decision_list"),
    path("permits/", views.PermitListView.as_view(), name="permit_list"),
    path("permits/import/", views.permit_import, name="permit_import"),
    path("permits/<int:pk>/", views.permit_detail, name="permit_detail"),
    path("findings/", views.shared_findings, name="shared_findings"),
]
