"""Monthly partitions of the value tables on PostgreSQL (native declarative partitioning).

Migration 0002 turns the four value tables (samples' values and the minute, hour and day online values) into
tables partitioned by range of their time column, with one partition per month from FIRST_MONTH to
LAST_MONTH and a DEFAULT partition for anything else. The primary key becomes (id, time) (a partitioned
table's unique keys must include the partition key), ids come from a sequence, and every index and foreign key
Django created is recreated on the partitioned table (so on each partition).

Writers call ``ensure_for(model, datetimes)`` before inserting: a month without its partition gets one, rows
of that month already in the DEFAULT partition are moved into it, and it is attached. ``manage.py
monitoring_partitions`` creates months ahead (for a cron job). On SQLite all of this is a no-op: the tables are
plain tables with the same indexes.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# table -> its time column (the partition key)
PARTITIONED = {
    "monitoring_samplevalue": "sampled_at",
    "monitoring_minutevalue": "at",
    "monitoring_hourvalue": "at",
    "monitoring_dayvalue": "at",
}
FIRST_MONTH = (2024, 1)
LAST_MONTH = (2027, 12)

_known = set()  # (table, year, month) partitions this process has seen or made


def _zone():
    return settings.TIME_ZONE


def month_after(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def months_between(first, last):
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = month_after(year, month)


def partition_name(table, year, month):
    return f"{table}_p{year:04d}{month:02d}"


def _bounds(year, month):
    nxt = month_after(year, month)
    return f"{year:04d}-{month:02d}-01 00:00:00", f"{nxt[0]:04d}-{nxt[1]:02d}-01 00:00:00"


def _literal(text):
    return "'" + str(text).replace("'", "''") + "'"


def _bound_sql(text):
    """A timestamptz expression for a local time in the platform's time zone (text and zone are ours)."""
    return f"({_literal(text)}::timestamp AT TIME ZONE {_literal(_zone())})"


def is_partitioned(table, cursor):
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return row is not None and row[0] == "p"


# The migration ------------------------------------------------------------------------------------------------
def partition_table(cursor, table, key, first=FIRST_MONTH, last=LAST_MONTH):
    """Replace a plain table (as Django created it) by a partitioned one with the same columns, keys, indexes and
    foreign keys, monthly partitions and a DEFAULT partition; rows already in it are kept."""
    if is_partitioned(table, cursor):
        return
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'c')",
        [table],
    )
    constraints = cursor.fetchall()
    constraint_names = {name for name, _, _ in constraints}
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    indexes = [(name, sql) for name, sql in cursor.fetchall() if name not in constraint_names]
    indexes = [(name, sql) for name, sql in indexes if not name.endswith("_pkey")]
    new = f"{table}_new"
    cursor.execute(f'CREATE TABLE "{new}" (LIKE "{table}" INCLUDING DEFAULTS) PARTITION BY RANGE ("{key}")')
    cursor.execute(f'ALTER TABLE "{new}" ALTER COLUMN "id" DROP DEFAULT')  # LIKE never copies the identity
    cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{new}" DEFAULT')
    for year, month in months_between(first, last):
        start, end = _bounds(year, month)
        cursor.execute(
            f'CREATE TABLE "{partition_name(table, year, month)}" PARTITION OF "{new}" '
            f"FOR VALUES FROM ({_bound_sql(start)}) TO ({_bound_sql(end)})"
        )
    cursor.execute(f'INSERT INTO "{new}" SELECT * FROM "{table}"')
    cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
    last_id = cursor.fetchone()[0]
    cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    sequence = f"{table}_id_seq"
    cursor.execute(f'CREATE SEQUENCE "{sequence}" OWNED BY "{table}"."id"')
    cursor.execute("SELECT setval(%s, %s, %s)", [sequence, max(last_id, 1), last_id > 0])
    cursor.execute(f"""ALTER TABLE "{table}" ALTER COLUMN "id" SET DEFAULT nextval('"{sequence}"')""")
    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ("id", "{key}")')
    for name, _kind, definition in constraints:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, sql in indexes:
        cursor.execute(sql)
    for year, month in months_between(first, last):
        _known.add((table, year, month))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, key in PARTITIONED.items():
            partition_table(cursor, table, key)


# At run time ----------------------------------------------------------------------------------------------------
def _local_month(value):
    from django.utils import timezone

    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.year, value.month
    return value.year, value.month  # a date


def ensure_month(table, year, month):
    """Make sure the month's partition of table exists (PostgreSQL); rows of that month in the DEFAULT partition
    are moved into it. Returns True when it was created now."""
    if (table, year, month) in _known or connection.vendor != "postgresql":
        return False
    name = partition_name(table, year, month)
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(table, cursor):
            return False
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            _known.add((table, year, month))
            return False
        key = PARTITIONED[table]
        start, end = _bounds(year, month)
        low, high = _bound_sql(start), _bound_sql(end)
        # Serialise with any other writer creating partitions of this table.
        cursor.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE')
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            _known.add((table, year, month))
            return False
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)')
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{table}_default" WHERE "{key}" >= {low} AND "{key}" < {high} RETURNING *) '
            f'INSERT INTO "{name}" SELECT * FROM moved'
        )
        cursor.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM ({low}) TO ({high})')
    _known.add((table, year, month))
    logger.info("created partition %s", name)
    return True


def ensure_for(model, datetimes):
    """Before inserting rows of model at these times: every month they fall in has its partition."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    if table not in PARTITIONED:
        return
    for year, month in sorted({_local_month(value) for value in datetimes if value is not None}):
        ensure_month(table, year, month)


def ensure_ahead(months=12, *, today=None):
    """Create the partitions of the coming months for every value table; returns the names created."""
    from django.utils import timezone

    today = today or timezone.localdate()
    first = (today.year, today.month)
    last = first
    for _ in range(months):
        last = month_after(*last)
    created = []
    for table in PARTITIONED:
        for year, month in months_between(first, last):
            if ensure_month(table, year, month):
                created.append(partition_name(table, year, month))
    return created


def describe(table):
    """[(partition name, bound expression, rows estimate)] for a partitioned table (PostgreSQL), else []."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [table],
        )
        return cursor.fetchall()
