from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "outfalls.portal"
    label = "portal"
    verbose_name = "公众公开与举报"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the sign batch job)

    def outfall_panel(self, outfall, user):
        from .sign_views import outfall_panel

        return outfall_panel(outfall, user)
