"""A version number of the outfalls and their unit links that changes with every write, whatever wrote it.

Caches of things computed from the whole ledger (the map's city-wide aggregates, maps/overview.py) put it
in their key. Database triggers keep it, so the ORM, queryset updates, raw SQL, executemany and COPY all
count; reading it is one primary-key lookup.

- **PostgreSQL**: a statement-level trigger on each table (INSERT, UPDATE, DELETE, TRUNCATE) marks the
  transaction (a transaction-local setting) and, the first time, inserts one row into
  ``registry_ledger_pending``. A deferred constraint trigger on that table runs at COMMIT: it sets the
  version to the next value of a sequence and deletes the pending row. The version row is locked only
  while a writing transaction commits, so a long import does not hold up every other save; a sequence value
  is never handed out twice (not even after a rollback), so no two states of the ledger share a version.
  A reader reads the version before the rows it caches, so it never keeps old rows under a new version.
  Inside the writing transaction itself the version changes at COMMIT only (``SET CONSTRAINTS
  registry_ledger_bump IMMEDIATE`` makes each write statement bump it at once, as the tests do).
- **SQLite** (row-level triggers only): every inserted, updated or deleted row adds one to the version, in
  the writer's transaction; SQLite runs one writer at a time. A rolled-back write can make a number seen
  inside that transaction come back.

The version table is no model (Django's flush leaves it alone, so numbers do not restart between tests).
``install`` creates the table, the sequence and the triggers; migration 0014 runs it, and so does every
``migrate`` (post_migrate): on SQLite, Django rebuilds a table to alter it and the rebuild drops its
triggers.
"""

from contextlib import contextmanager

from django.db import connection as default_connection

TABLE = "registry_ledger_version"
WATCHED = ("registry_outfall", "registry_outfallunitlink")

_SQLITE = [f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, version integer NOT NULL)"] + [
    f"INSERT OR IGNORE INTO {TABLE} (id, version) VALUES (1, 1)",
]
for _table in WATCHED:
    for _event in ("INSERT", "UPDATE", "DELETE"):
        _SQLITE += [
            f"DROP TRIGGER IF EXISTS {_table}_version_{_event.lower()}",
            f"CREATE TRIGGER {_table}_version_{_event.lower()} AFTER {_event} ON {_table} BEGIN "
            f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1; END",
        ]

_POSTGRESQL = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, version bigint NOT NULL)",
    f"CREATE SEQUENCE IF NOT EXISTS {TABLE}_seq",
    f"INSERT INTO {TABLE} (id, version) VALUES (1, nextval('{TABLE}_seq')) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS registry_ledger_pending (id bigserial PRIMARY KEY)",
    # The statement-level trigger: once per transaction (until the bump below resets the mark).
    """CREATE OR REPLACE FUNCTION registry_ledger_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(current_setting('registry.ledger_changed', true), '') <> '1' THEN
            PERFORM set_config('registry.ledger_changed', '1', true);
            INSERT INTO registry_ledger_pending DEFAULT VALUES;
        END IF;
        RETURN NULL;
    END $$""",
    # The deferred one: at COMMIT (or at once when IMMEDIATE), a new version.
    f"""CREATE OR REPLACE FUNCTION registry_ledger_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (id, version) VALUES (1, nextval('{TABLE}_seq'))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        DELETE FROM registry_ledger_pending WHERE id = NEW.id;
        PERFORM set_config('registry.ledger_changed', '', true);
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS registry_ledger_bump ON registry_ledger_pending",
    """CREATE CONSTRAINT TRIGGER registry_ledger_bump AFTER INSERT ON registry_ledger_pending
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION registry_ledger_bump()""",
]
for _table in WATCHED:
    _POSTGRESQL += [
        f"DROP TRIGGER IF EXISTS {_table}_version ON {_table}",
        f"CREATE TRIGGER {_table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {_table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION registry_ledger_changed()",
    ]


def install(connection=None):
    """Create the version table and the triggers (again: every statement is idempotent)."""
    connection = connection or default_connection
    statements = _POSTGRESQL if connection.vendor == "postgresql" else _SQLITE
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(connection=None):
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in WATCHED:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
            cursor.execute("DROP TABLE IF EXISTS registry_ledger_pending")
            cursor.execute("DROP FUNCTION IF EXISTS registry_ledger_changed(), registry_ledger_bump()")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(f"DROP SEQUENCE IF EXISTS {TABLE}_seq")
        else:
            for table in WATCHED:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_version_{event}")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


@contextmanager
def counted_once(connection=None):
    """For a bulk insert inside a transaction: on SQLite the per-row insert triggers (an UPDATE of the version
    row for every row, about 20 µs each: 2 s of a 100,000-outfall import) are set aside and the version goes
    up once at the end; they are created again in the same transaction (a rollback restores them too). On
    PostgreSQL the triggers are per statement already: nothing changes."""
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("counted_once needs a transaction: the triggers must come back with it")
    names = [f"{table}_version_insert" for table in WATCHED]
    triggers = {
        name: statement for statement in _SQLITE for name in names if f"CREATE TRIGGER {name} " in statement
    }
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    try:
        yield
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1")
    finally:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(triggers[name])


def ledger_version(connection=None):
    """The current version (a number as text; "" before the table exists)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def installed(connection=None):
    """The names of the triggers that keep the version (for the tests and a check)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                ["registry_%"],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'registry_%'")
        return sorted(name for (name,) in cursor.fetchall())
