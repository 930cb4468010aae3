from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "outfalls.survey"
    label = "survey"
    verbose_name = "排查溯源"

    def load_demo(self, stdout):
        from .demo import load_demo

        load_demo(stdout=stdout)

    def outfall_panel(self, outfall, user):
        from .panels import outfall_panel

        return outfall_panel(outfall, user)
