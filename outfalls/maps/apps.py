from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "outfalls.maps"
    label = "maps"
    verbose_name = "一张图"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the GIS import job)
