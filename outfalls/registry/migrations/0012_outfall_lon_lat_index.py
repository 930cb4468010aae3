# The map's street-level boxes and the spatial checks' duplicate search read outfalls by (lon, lat).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_disclosure_state"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outfall",
            index=models.Index(fields=["lon", "lat"], name="registry_ou_lon_30f583_idx"),
        ),
    ]
