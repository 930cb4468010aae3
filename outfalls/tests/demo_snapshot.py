"""The demo data kept beside the test database, put back in about a second instead of loaded again.

Tests on a transactional database (live server, browser, real task worker) commit, so Django flushes every
table when each ends. Loading the demo data again takes most of a minute; there are some thirty such tests.
The session loads it once (conftest `django_db_setup`) and `take()` copies every model table into a
snapshot table in the same database (`CREATE TABLE ... AS SELECT`); the `demo_db` fixture calls `put_back()`,
which empties the model tables and copies the snapshot in, inside one transaction (foreign keys are checked
at commit), then clears the caches. A flush leaves the snapshot tables alone: it empties model tables only.
"""

from django.apps import apps
from django.core.cache import caches
from django.core.management.color import no_style
from django.db import connection, transaction

PREFIX = "demo_snapshot__"


def _tables():
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _derived_tables():
    """Tables database triggers write from the others (e.g. the ledger's search text): emptied, never copied
    back, as the triggers write them again while the other tables are copied in."""
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if getattr(model, "maintained_by_triggers", False)
    }


def _snapshot_name(table):
    name = PREFIX + table
    # PostgreSQL cuts identifiers at 63 bytes: keep the snapshot names distinct and whole.
    assert len(name.encode()) <= 63, f"snapshot table name too long: {name}"
    return name


def take():
    """Copy every model table into its snapshot table (replacing an older snapshot)."""
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for table in sorted(set(_tables()) - _derived_tables()):
            snapshot = qn(_snapshot_name(table))
            cursor.execute(f"DROP TABLE IF EXISTS {snapshot}")
            cursor.execute(f"CREATE TABLE {snapshot} AS SELECT * FROM {qn(table)}")


def put_back():
    """Make every model table hold exactly what it held when `take()` ran."""
    qn = connection.ops.quote_name
    tables = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(qn(t) for t in tables))
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {qn(table)}")
        for table in sorted(set(tables) - _derived_tables()):
            cursor.execute(f"INSERT INTO {qn(table)} SELECT * FROM {qn(_snapshot_name(table))}")
        models = apps.get_models(include_auto_created=True)
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    for cache in caches.all():
        cache.clear()
