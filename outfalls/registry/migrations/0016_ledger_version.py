# The ledger's version number, kept by database triggers on the outfalls and their unit links
# (registry/ledger_version.py); registry's post_migrate installs them again after every migrate.

from django.db import migrations


def install(apps, schema_editor):
    from outfalls.registry import ledger_version

    ledger_version.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from outfalls.registry import ledger_version

    ledger_version.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0015_finding_digest_filled"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
