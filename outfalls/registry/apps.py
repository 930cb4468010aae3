from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_search_triggers(using, **kwargs):
    """Put back the search's triggers a migration dropped (registry/search_triggers.py)."""
    from django.db import connections

    from .search_triggers import ensure

    ensure(connections[using])


class RegistryConfig(AppConfig):
    name = "outfalls.registry"
    label = "registry"
    verbose_name = "入河排污口台账"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the registry's background jobs)

        post_migrate.connect(ensure_search_triggers, sender=self)
