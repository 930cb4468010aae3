from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MonitoringConfig(AppConfig):
    name = "outfalls.monitoring"
    label = "monitoring"
    verbose_name = "监测与超标"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the monitoring jobs)
        from .library import load_after_migrate

        post_migrate.connect(load_after_migrate, sender=self, dispatch_uid="monitoring_library")

    def load_demo(self, stdout):
        from .demo import load_demo

        load_demo(stdout=stdout)

    def outfall_panel(self, outfall, user):
        from .panels import outfall_panel

        return outfall_panel(outfall, user)

    def dry_weather_observations(self, outfall_ids, since):
        from .dry_weather import observations

        return observations(outfall_ids, since)

    # portal/providers.py: what this app publishes on the public portal.
    def public_outfall_panel(self, outfall):
        from .public import public_outfall_panel

        return public_outfall_panel(outfall)

    def public_notices(self):
        from .public import public_notices

        return public_notices()

    def public_data_version(self):
        from .public import public_data_version

        return public_data_version()
