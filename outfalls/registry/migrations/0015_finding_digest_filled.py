# The spatial checks write only what changed (registry/checks.py): each finding keeps a fingerprint of what
# the check computed (digest), and the 断面区间 it wrote into the ledger moves from data["filled"] to a
# column the next check reads without decoding JSON.

from django.db import migrations, models
from django.db.models import Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce


def copy_filled(apps, schema_editor):
    """The check's own earlier values, so the first check after the upgrade still recognises them."""
    SpatialFinding = apps.get_model("registry", "SpatialFinding")
    # data["filled"] is null where the check filled nothing: those rows keep "".
    SpatialFinding.objects.filter(kind="section_interval", data__filled__isnull=False).exclude(
        data__filled=None
    ).update(filled=Coalesce(KT("data__filled"), Value("")))


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0014_outfall_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="spatialfinding",
            name="digest",
            field=models.BigIntegerField(blank=True, editable=False, null=True, verbose_name="内容指纹"),
        ),
        migrations.AddField(
            model_name="spatialfinding",
            name="filled",
            field=models.CharField(blank=True, default="", max_length=100, verbose_name="已自动填入的断面区间"),
        ),
        migrations.AlterField(
            model_name="spatialfinding",
            name="checked_at",
            field=models.DateTimeField(auto_now=True, verbose_name="更新时间"),
        ),
        migrations.RunPython(copy_filled, migrations.RunPython.noop, elidable=True),
    ]
