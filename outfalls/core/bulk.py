"""Bulk writes at the database's pace, for imports of tens of thousands of rows.

The ORM's bulk_create prepares every value of every row through its field (``get_db_prep_save``) and builds a
model instance for each history row: at 100,000 outfalls that is most of an import's writing time
(docs/benchmarks.md). Here:

- ``insert_rows`` writes plain tuples with one prepared statement (``executemany``; ``COPY`` on PostgreSQL).
  A column of text, numbers, booleans or keys goes to the driver as it is; JSON (a ``JSONField`` with the
  default encoder) is encoded by orjson, about eight times faster than the standard library's encoder at
  200,000 findings, into the same JSON value the ORM would store (the text differs only in not escaping
  Chinese); what orjson refuses, and any other column (dates, timestamps), goes through its field's own
  ``get_db_prep_save``, once per distinct value, so what is stored is what the ORM would store.
- ``copy_history`` writes simple-history's rows for many objects with one ``INSERT … SELECT`` per chunk:
  the historical row is the current row plus who, when and why.

Callers are the registry's services (``services.save_outfalls``); they keep every rule (validation, scope,
codes) and only hand over rows that passed.
"""

import contextlib
import gc
import gzip
import itertools
import tempfile
import threading

import orjson
from django.db import connections, router, transaction
from django.db.models import JSONField

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


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cycle collector for bulk work that makes millions of short-lived objects: as they
    pile up the collector walks everything alive (Django's own 130,000 objects included) again and again; at
    100,000 outfalls that cost the spatial check about 1.5 s of its 7 s (docs/benchmarks.md; on the import it
    gave nothing measurable and is not used there). Reference counting still frees every row as it goes;
    cyclic garbage made inside waits for the next collection after the block. Nests, and is shared by
    threads: the collector resumes when the last pause ends, if it ran before the first."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


@contextlib.contextmanager
def indexes_set_aside(model, *, foreign_keys=False):
    """For rewriting most of a table inside a transaction: the table's secondary indexes (all but those behind
    its primary key and constraints) are dropped, and built again from the rows at the end: one sorted build
    each instead of 200,000 insertions into every B-tree (the spatial check's full rewrite: 0.6 s of 2.7 s on
    SQLite; docs/benchmarks.md). DROP INDEX locks the table as a schema change does: on PostgreSQL its readers
    wait until the transaction ends; on SQLite readers see the last committed rows (WAL) and writers wait for
    the transaction's lock anyway. An error inside leaves them to the rollback, which restores them.

    foreign_keys (PostgreSQL): the table's foreign keys are set aside too and added again at the end, which
    checks every row in one join instead of one deferred trigger a row (225,000 findings: about 1.5 s). While
    they are away, writes to the tables they reference wait (PostgreSQL locks those against changes); a row
    that breaks one fails the re-adding, and the transaction with it. SQLite cannot drop a foreign key
    without rebuilding the table: there it is ignored."""
    connection = connections[router.db_for_write(model)]
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_set_aside needs a transaction: the indexes must come back with it")
    table = model._meta.db_table
    quote = connection.ops.quote_name
    keys = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        elif connection.vendor == "postgresql":
            if foreign_keys:
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = %s::regclass AND contype = 'f'",
                    [quote(table)],
                )
                keys = cursor.fetchall()
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [quote(table)],
            )
        indexes = cursor.fetchall() if connection.vendor in ("sqlite", "postgresql") else []
        if keys:
            # Rows written before in this transaction may have checks pending: run them while the keys exist.
            connection.check_constraints()
        for name, _ in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    if indexes and connection.vendor == "postgresql":
        # PostgreSQL refuses CREATE INDEX on a table with deferred foreign-key checks pending (the rows just
        # written): Django's own check_constraints runs them now (SET CONSTRAINTS ALL IMMEDIATE, then back to
        # DEFERRED), as the commit would have.
        connection.check_constraints()
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def analyze(*models):
    """Refresh the planner's statistics of these tables after a bulk write that changed their size markedly.
    SQLite plans from the statistics of its last ANALYZE: after a city's first import into a ledger of 350
    outfalls, `id IN (…2,000 ids…)` was planned as a scan of all 100,000 rows, for every chunk, for the rest of
    the import (and for every page after it until the next `PRAGMA optimize`). ANALYZE of a 100,000-row table
    takes 0.1 s on SQLite; PostgreSQL samples (ANALYZE works inside a transaction there too)."""
    by_alias = {}
    for model in models:
        by_alias.setdefault(router.db_for_write(model), []).append(model._meta.db_table)
    for alias, tables in by_alias.items():
        connection = connections[alias]
        if connection.vendor not in ("sqlite", "postgresql"):
            continue
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def chunks(items, size=CHUNK):
    """Lists of up to `size` items of any iterable, taken as they come (a generator is never held whole)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class Spool:
    """JSON values written one at a time to an anonymous temporary file (gzip'd JSON lines through orjson) and
    read back in order as often as needed: a large job's rows on disk rather than in memory (the import's
    report and verdicts as the rows are judged, read again for each pass of the commit).

        with bulk.Spool() as spool:
            for row in rows:
                spool.write(row)
            for row in spool:            # every pass reads the file again
                ...
            spool.file()                 # the gzip'd lines, e.g. to keep as a FileField's content
    """

    def __init__(self, level=1):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._out = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=level)
        self.count = 0

    def write(self, value):
        self._out.write(orjson.dumps(value) + b"\n")
        self.count += 1

    def file(self):
        """The gzip'd lines written so far (no more can be written), rewound."""
        if not self._out.closed:
            self._out.close()
        self._file.seek(0)
        return self._file

    def __iter__(self):
        with gzip.GzipFile(fileobj=self.file(), mode="rb") as lines:
            for line in lines:
                yield orjson.loads(line)

    def close(self):
        if not self._out.closed:
            self._out.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _preparer(field, connection):
    """None for a column passed as it is; else a function value -> database value (remembered per value)."""
    if field.get_internal_type() in PLAIN_TYPES:
        return None
    if isinstance(field, JSONField) and field.encoder is None:
        return _json_preparer(field, connection)
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


def _json_preparer(field, connection):
    """JSON as text through orjson: SQLite stores the text, PostgreSQL's COPY parses it into jsonb. None stays
    SQL NULL (as JSONField.get_db_prep_save keeps it); a value orjson refuses (integer keys, integers beyond 64
    bits) goes through the field."""
    dumps = orjson.dumps

    def prepare(value):
        if value is None:
            return None
        try:
            return dumps(value).decode()
        except TypeError:
            return field.get_db_prep_save(value, connection)

    return prepare


def _prepared_rows(rows, preparers):
    """The rows (a list) with each prepared column mapped through its preparer: by column, transposed with
    zip, which at 200,000 rows costs a third of copying and assigning row by row."""
    if not rows or not any(preparers):
        return rows
    columns = list(zip(*rows, strict=True))
    for i, prepare in enumerate(preparers):
        if prepare is not None:
            columns[i] = map(prepare, columns[i])
    return list(zip(*columns, strict=True))


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
    # In one transaction: all rows or none, and on SQLite one commit instead of one per row in autocommit
    # mode (the import's report, 100,000 rows: 5.9 s → 0.8 s).
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
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
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        for chunk in chunks(sorted(ids)):
            cursor.execute(
                sql.format(marks=", ".join(["%s"] * len(chunk))),
                [date_value, user_id, reason, history_type, *chunk],
            )
