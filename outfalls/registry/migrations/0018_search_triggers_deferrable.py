# PostgreSQL: the outfall and link insert triggers of the ledger search write nothing while the transaction-
# local setting registry.search_deferred is on (a bulk import writes each text once at the end:
# registry/search_triggers.py, refreshed_after). install() replaces the trigger functions; the texts do not
# change, so nothing is rebuilt. SQLite: nothing changes (install() only adds what is missing).
from django.db import migrations


def forward(apps, schema_editor):
    from outfalls.registry import search_triggers

    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        search_triggers.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("registry", "0017_import_report_rows")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
