"""The value tables: partitioned by month on PostgreSQL (migration 0002), plain tables with the same indexes on
SQLite; a month without its partition gets one before rows are written, with the rows the DEFAULT partition held."""

import io

from django.core.management import call_command
from django.db import connection

from outfalls.monitoring import partitions
from outfalls.monitoring.models import HourValue, SampleValue, Station
from outfalls.registry.classification import Level2

from .helpers import at, new_outfall, parameter, record


def test_the_value_tables_are_partitioned_by_month_on_postgresql(db):
    with connection.cursor() as cursor:
        for table in partitions.PARTITIONED:
            partitioned = connection.vendor == "postgresql" and partitions.is_partitioned(table, cursor)
            assert partitioned == (connection.vendor == "postgresql")
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            names = set(connection.introspection.get_constraints(cursor, "monitoring_samplevalue"))
        assert {"sv_outfall_param_time", "sv_section_param_time", "sv_sample"} <= names
        return
    months = partitions.describe("monitoring_samplevalue")
    names = [name for name, _, _ in months]
    assert "monitoring_samplevalue_default" in names and "monitoring_samplevalue_p202601" in names
    assert len(names) == 1 + 12 * (partitions.LAST_MONTH[0] - partitions.FIRST_MONTH[0] + 1)


def test_rows_land_in_their_month_and_a_new_month_gets_its_partition(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2026-03-15 10:00", {"COD": 20})
    far = at("2031-05-15 10:00")
    station = Station.objects.create(code="TEST-PART", name="分区测试", outfall=outfall)
    # A row of a month without a partition first lands in DEFAULT (written without ensure_for) ...
    HourValue.objects.create(station=station, outfall=outfall, parameter=parameter("COD"), at=far, avg=1)
    # ... then the month gets its partition, and the row moves into it.
    created = partitions.ensure_month("monitoring_hourvalue", 2031, 5)
    assert created == (connection.vendor == "postgresql")
    assert HourValue.objects.filter(station=station, at=far).count() == 1
    record(outfall, far, {"COD": 21})  # the service ensures the partition itself
    assert SampleValue.objects.filter(outfall=outfall).count() == 2
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableoid::regclass::text FROM monitoring_hourvalue WHERE station_id = %s",
                [station.pk],
            )
            assert cursor.fetchone()[0] == "monitoring_hourvalue_p203105"
            cursor.execute(
                "SELECT tableoid::regclass::text FROM monitoring_samplevalue WHERE outfall_id = %s ORDER BY sampled_at",
                [outfall.pk],
            )
            assert [row[0] for row in cursor.fetchall()] == [
                "monitoring_samplevalue_p202603",
                "monitoring_samplevalue_p203105",
            ]
    assert partitions.ensure_month("monitoring_hourvalue", 2031, 5) is False  # known now


def test_the_command_creates_the_coming_months(db):
    out = io.StringIO()
    call_command("monitoring_partitions", "--months", "3", stdout=out)
    if connection.vendor != "postgresql":
        assert out.getvalue().startswith("SQLite 不分区")
        return
    from datetime import date

    names = {name for name, _, _ in partitions.describe("monitoring_dayvalue")}
    year, month = date.today().year, date.today().month
    for _ in range(3):
        year, month = partitions.month_after(year, month)
        assert partitions.partition_name("monitoring_dayvalue", year, month) in names
