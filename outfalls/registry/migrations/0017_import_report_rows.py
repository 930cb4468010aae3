"""An import's per-row report moves from one JSON list on the import into a table of rows (LedgerImportRow),
so that the import page reads a page of it instead of the whole report, and a dry run writes it a batch at a
time. The reports kept so far are copied over before the column goes."""

import django.db.models.deletion
from django.db import migrations, models


def copy_reports(apps, schema_editor):
    LedgerImport = apps.get_model("registry", "LedgerImport")
    LedgerImportRow = apps.get_model("registry", "LedgerImportRow")
    for record in LedgerImport.objects.only("id", "report").iterator(chunk_size=20):
        rows, seen = [], set()
        for data in record.report or []:
            number = data.get("row") if isinstance(data, dict) else None
            if not isinstance(number, int) or number in seen:
                continue
            seen.add(number)
            rows.append(
                LedgerImportRow(ledger_import_id=record.pk, row=number, action=str(data.get("action", ""))[:12], data=data)
            )
        LedgerImportRow.objects.bulk_create(rows, batch_size=1000)


def copy_back(apps, schema_editor):
    LedgerImport = apps.get_model("registry", "LedgerImport")
    for record in LedgerImport.objects.only("id").iterator(chunk_size=20):
        record.report = list(record.rows.order_by("row").values_list("data", flat=True))
        record.save(update_fields=["report"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0016_ledger_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerImportRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("row", models.PositiveIntegerField(verbose_name="行号")),
                ("action", models.CharField(max_length=12, verbose_name="结果")),
                ("data", models.JSONField(verbose_name="内容")),
                (
                    "ledger_import",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="rows", to="registry.ledgerimport"
                    ),
                ),
            ],
            options={
                "verbose_name": "台账导入逐行结果",
                "verbose_name_plural": "台账导入逐行结果",
                "indexes": [models.Index(fields=["ledger_import", "action", "row"], name="ledger_import_row_action")],
                "constraints": [models.UniqueConstraint(fields=("ledger_import", "row"), name="ledger_import_row_once")],
            },
        ),
        migrations.RunPython(copy_reports, copy_back),
        migrations.RemoveField(
            model_name="ledgerimport",
            name="report",
        ),
    ]
