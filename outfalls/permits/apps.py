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

    def outfall_limits(self, outfall_ids, on):
        from .panels import outfall_limits

        return outfall_limits(outfall_ids, on)
