from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from outfalls.core import views as core_views
from outfalls.registry.views import healthz
from outfalls.reports import views as reports_views

admin.site.site_header = settings.PLATFORM_NAME
admin.site.site_title = settings.PLATFORM_NAME
admin.site.index_title = "基础数据维护"

# Chinese error pages with what to do (templates 400.html, 403.html, 404.html, 500.html).
handler400 = "outfalls.core.views.bad_request"
handler500 = "outfalls.core.views.server_error"

urlpatterns = [
    path("", reports_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("outfalls.core.account_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("core/", include("outfalls.core.urls")),
    path("ledger/", include("outfalls.registry.urls")),
    path("maps/", include("outfalls.maps.urls")),
    path("survey/", include("outfalls.survey.urls")),
    path("remediation/", include("outfalls.remediation.urls")),
    path("permits/", include("outfalls.permits.urls")),
    path("monitoring/", include("outfalls.monitoring.urls")),
    path("supervision/", include("outfalls.supervision.urls")),
    path("statutory/", include("outfalls.reports.urls")),
    path("exchange/", include("outfalls.reports.exchange_urls")),
    path("gis/", include("outfalls.maps.gis_urls")),
    path("ogcapi/", include("outfalls.maps.ogc_urls")),
    path("public/", include("outfalls.portal.urls")),
    path("reports/", include("outfalls.portal.handling_urls")),
    path("open311/", include("outfalls.portal.open311_urls")),
    path("signs/", include("outfalls.portal.sign_urls")),
    path("api/v1/", include("outfalls.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("media/<path:path>", core_views.protected_media, name="media"),
]
