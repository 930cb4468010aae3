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
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from .security import record_login, record_login_failure

        post_migrate.connect(refresh_sqlite_statistics, sender=self)
        # The login audit. axes (earlier in INSTALLED_APPS) connected its receivers first, so a failure has
        # been counted, and a lockout flagged on the request, by the time record_login_failure runs.
        user_logged_in.connect(record_login, dispatch_uid="outfalls.core.record_login")
        user_login_failed.connect(record_login_failure, dispatch_uid="outfalls.core.record_login_failure")
