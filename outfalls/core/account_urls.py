"""/accounts/: the 账户 page, password change, API tokens, and the city admin's login audit.

Login and logout themselves are at /accounts/login/ and /accounts/logout/ (outfalls/urls.py)."""

from django.urls import path

from . import account_views as views

app_name = "accounts"
urlpatterns = [
    path("", views.account, name="home"),
    path("password/", views.password_change, name="password"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.LoginAuditView.as_view(), name="audit"),
    path("audit/unlock/", views.unlock, name="unlock"),
]
