from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "outfalls.registry"
    label = "registry"
    verbose_name = "入河排污口台账"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the registry's background jobs)
