from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_search_triggers(using, **kwargs):
    """Put back the search's triggers a migration dropped (registry/search_triggers.py)."""
    from django.db import connections

    from .search_triggers import ensure

    ensure(connections[using])


LEDGER_VERSION_MIGRATION = ("registry", "0016_ledger_version")


def reinstall_ledger_version(sender, using, **kwargs):
    """After every migrate, the ledger version's triggers again (registry/ledger_version.py): on SQLite a
    migration that alters the outfall or link table rebuilds it, and the rebuild drops its triggers."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from . import ledger_version

    connection = connections[using]
    if LEDGER_VERSION_MIGRATION in MigrationRecorder(connection).applied_migrations():
        ledger_version.install(connection)


class RegistryConfig(AppConfig):
    name = "outfalls.registry"
    label = "registry"
    verbose_name = "入河排污口台账"

    def ready(self):
        from . import jobs  # noqa: F401  (registers the registry's background jobs)

        post_migrate.connect(ensure_search_triggers, sender=self)
        post_migrate.connect(reinstall_ledger_version, sender=self)
