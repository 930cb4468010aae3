from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "outfalls.remediation"
    label = "remediation"
    verbose_name = "整治销号"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the rules and notice jobs)

    def load_demo(self, stdout):
        from .demo import load_demo

        load_demo(stdout=stdout)

    def outfall_panel(self, outfall, user):
        from .plan_panel import outfall_panel

        return outfall_panel(outfall, user)
