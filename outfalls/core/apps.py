from django.apps import AppConfig
from django.db.models.signals import post_migrate


def refresh_sqlite_statistics(using="default", **kwargs):
    """SQLite loses its planner statistics when a migration rebuilds a table; without them a sorted page of
    a large ledger can scan every row. PRAGMA optimize re-analyses what needs it (cheap when nothing does)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")


class CoreConfig(AppConfig):
    name = "outfalls.core"
    label = "core"
    verbose_name = "基础数据与权限"

    def ready(self):
        post_migrate.connect(refresh_sqlite_statistics, sender=self)
