from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "outfalls.permits"
    label = "permits"
    verbose_name = "设置审核与排污许可"

    def load_demo(self, stdout):
        from .demo import load_demo

        load_demo(stdout=stdout)

    def outfall_panel(self, outfall, user):
        from .panels import outfall_panel

        return outfall_panel(outfall, user)

    def supervision_panel(self, user, today):
        from .panels import supervision_panel

        return supervision_panel(user, today)

    # registry.limits providers (the limits hook the monitoring app reads): permits in force today.
    def outfall_limits(self, outfall_ids):
        from .limits import outfall_limits

        return outfall_limits(outfall_ids)

    def outfall_monitoring_duties(self, outfall_ids):
        from .limits import outfall_monitoring_duties

        return outfall_monitoring_duties(outfall_ids)

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
