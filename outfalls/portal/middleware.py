"""The portal on its own host name (``PORTAL_HOST``, docs/deploy.md): requests for that host see only the
public pages (and Open311), never the staff platform."""

from django.conf import settings


class PortalHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        host = settings.PORTAL_HOST
        if host and request.get_host().rsplit(":", 1)[0].lower() == host.lower():
            request.urlconf = "outfalls.portal.host_urls"
        return self.get_response(request)
