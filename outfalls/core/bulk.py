"""Bulk writes at the database's pace, for imports of tens of thousands of rows.

The ORM's bulk_create prepares every value of every row through its field (``get_db_prep_save``) and builds a
model instance for each history row: at 100,000 outfalls that is most of an import's writing time
(docs/benchmarks.md). Here:

- ``insert_rows`` writes plain tuples with one prepared statement (``executemany``; ``COPY`` on PostgreSQL).
  A column of text, numbers, booleans or keys goes to the driver as it is; any other column (dates,
  timestamps, JSON) goes through its field's own ``get_db_prep_save``, once per distinct value, so what is
  stored is what the ORM would store.
- ``copy_history`` writes simple-history's rows for many objects with one ``INSERT … SELECT`` per chunk:
  the historical row is the current row plus who, when and why.

Callers are the registry's services (``services.save_outfalls``); they keep every rule (validation, scope,
codes) and only hand over rows that passed.
"""

import itertools

from django.db import connections, router

CHUNK = 2000
# Fields whose Python values every driver stores as the ORM would (str, int, float, bool, None).
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}


def chunks(items, size=CHUNK):
    """Lists of up to `size` items of any iterable, taken as they come (a generator is never held whole)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _preparer(field, connection):
    """None for a column passed as it is; else a function value -> database value (remembered per value)."""
    if field.get_internal_type() in PLAIN_TYPES:
        return None
    memo = {}

    def prepare(value):
        try:
            return memo[value]
        except KeyError:
            prepared = memo[value] = field.get_db_prep_save(value, connection)
            return prepared
        except TypeError:  # unhashable (JSON)
            return field.get_db_prep_save(value, connection)

    return prepare


def _prepared_rows(rows, preparers):
    if not any(preparers):
        return rows
    pairs = [(i, p) for i, p in enumerate(preparers) if p is not None]
    out = []
    for row in rows:
        row = list(row)
        for i, prepare in pairs:
            row[i] = prepare(row[i])
        out.append(row)
    return out


def insert_rows(model, fields, rows, *, returning=False):
    """INSERT rows (sequences of Python values in the order of `fields`, field names; any iterable, taken a
    chunk at a time, so a generator of 200,000 rows is never held whole) into the model's table.

    No model instances, no signals, no auto_now: the caller gives every value, including timestamps and
    primary keys when it wants them. PostgreSQL gets them through COPY, SQLite through executemany. With
    `returning`, multi-row INSERT … RETURNING instead, and the new primary keys come back in the rows' order
    (as the ORM's bulk_create takes them on both databases).
    """
    batches = chunks(rows, CHUNK)
    first = next(batches, None)
    if first is None:
        return [] if returning else None
    batches = itertools.chain([first], batches)
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in model_fields)
    preparers = [_preparer(f, connection) for f in model_fields]
    with connection.cursor() as cursor:
        if returning:
            rows = [row for batch in batches for row in batch]
            return _insert_returning(cursor, connection, meta, table, columns, rows, preparers)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for batch in batches:
                    for row in _prepared_rows(batch, preparers):
                        copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(model_fields))})"
        for batch in batches:
            cursor.executemany(sql, _prepared_rows(batch, preparers))


def _insert_returning(cursor, connection, meta, table, columns, rows, preparers):
    width = len(preparers)
    # SQLite allows 32,766 parameters a statement, PostgreSQL 65,535.
    size = max(1, min(CHUNK, 30_000 // width))
    one = f"({', '.join(['%s'] * width)})"
    pk = connection.ops.quote_name(meta.pk.column)
    keys = []
    for chunk in chunks(rows, size):
        params = [value for row in _prepared_rows(chunk, preparers) for value in row]
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))} RETURNING {pk}", params
        )
        keys += [row[0] for row in cursor.fetchall()]
    return keys


def copy_history(model, ids, *, user, reason, date, history_type="+"):
    """One simple-history row per object (ids), copied from its current row: who (user), why (reason, at most
    the column's length), when (date) and how (+ created, ~ changed)."""
    history = model.history.model
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    source_columns = {f.column for f in model._meta.concrete_fields}
    copied = [f.column for f in history._meta.concrete_fields if f.column in source_columns]
    reason_field = history._meta.get_field("history_change_reason")
    reason = (reason or "")[: reason_field.max_length] if reason_field.max_length else reason
    date_value = history._meta.get_field("history_date").get_db_prep_save(date, connection)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    names = ", ".join(quote(c) for c in copied)
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({names}, history_date, history_user_id,"
        f" history_change_reason, history_type) SELECT {names}, %s, %s, %s, %s"
        f" FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} IN ({{marks}})"
    )
    with connection.cursor() as cursor:
        for chunk in chunks(sorted(ids)):
            cursor.execute(
                sql.format(marks=", ".join(["%s"] * len(chunk))),
                [date_value, user_id, reason, history_type, *chunk],
            )
