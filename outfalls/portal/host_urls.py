"""URLs served on the portal's own host name (PORTAL_HOST): the public pages only."""

from django.urls import include, path
from django.views.generic import RedirectView

from outfalls.registry.views import healthz

handler400 = "outfalls.core.views.bad_request"
handler404 = "outfalls.portal.views.not_found"
handler500 = "outfalls.core.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/public/", permanent=False)),
    path("public/", include("outfalls.portal.urls")),
    path("open311/", include("outfalls.portal.open311_urls")),
    path("healthz", healthz),
]
