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

    # reports/workbench.py: the 工作台's lines of work this app adds (reports cannot import the portal, its
    # neighbour on the top floor).
    def work_items(self, user, today):
        from .services import work_items

        return work_items(user)
