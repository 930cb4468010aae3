# The ledger search's text table (OutfallSearch), the triggers that keep it and its index of one-, two- and
# three-character grams: an FTS5 table on SQLite, a GIN index on PostgreSQL (registry/search_triggers.py,
# docs/search.md). The existing outfalls' texts are written here.

from django.db import migrations, models


def forward(apps, schema_editor):
    from outfalls.registry import search_triggers

    search_triggers.install(schema_editor.connection)
    search_triggers.rebuild(schema_editor.connection)


def backward(apps, schema_editor):
    from outfalls.registry import search_triggers

    search_triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0013_ledger_import_verdicts"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutfallSearch",
            fields=[
                (
                    "outfall",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="registry.outfall",
                    ),
                ),
                ("text", models.TextField()),
            ],
            options={
                "verbose_name": "排污口检索文本",
                "verbose_name_plural": "排污口检索文本",
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
