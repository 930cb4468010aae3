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

    # registry.dry_weather: field checks as evidence, and the tracing case dry-weather flow opens.
    def dry_weather_observations(self, outfall_ids, since):
        from .tracing import dry_weather_observations

        return dry_weather_observations(outfall_ids, since)

    def request_tracing(self, outfall, *, user, reason, evidence):
        from .tracing import open_dry_weather_case

        return open_dry_weather_case(outfall, user=user, reason=reason, evidence=evidence)
