from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "outfalls.maps"
    label = "maps"
    verbose_name = "一张图"
