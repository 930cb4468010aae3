from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "outfalls.registry"
    label = "registry"
    verbose_name = "入河排污口台账"
