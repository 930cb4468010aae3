"""PostgreSQL only: the four value tables become tables partitioned by month (monitoring/partitions.py).

On SQLite this does nothing: the tables stay plain tables with the same indexes."""

from django.db import migrations

from outfalls.monitoring.partitions import forwards


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
