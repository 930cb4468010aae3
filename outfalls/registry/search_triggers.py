"""The ledger search's database objects: the triggers that keep OutfallSearch's text, and its index.

The text is stored case-folded as the database's own `icontains` folds it: SQLite's lower() (ASCII letters
only, as its LIKE), PostgreSQL's upper() (as Django's UPPER(...) LIKE UPPER(...)). It is indexed by its
grams, every run of one, two and three characters, so that one- and two-character Chinese terms have an
index too (a trigram index has none for them): on SQLite a contentless FTS5 table of the grams written as
hex words (detail=none: rowids only), on PostgreSQL a GIN index of the grams as a text array. Triggers on outfalls, units and unit links
rewrite an outfall's text whatever writes them (the ORM, bulk imports, executemany, COPY, raw SQL).
docs/search.md has the design; registry/search.py the queries.

Migration 0014 installs them; `ensure()` runs after every migrate and puts back what a later migration
dropped (SQLite drops a table's triggers when Django rebuilds the table to alter it), then writes every text
again. Change the SQL here only together with a migration that calls `install()` again (and `rebuild()` when
the texts change: migration 0018 changed only how the PostgreSQL insert triggers honour a bulk insert).

Bulk writes (`refreshed_after`): a new outfall with an owner link had its text written twice (once for the
outfall, once again for the link), each time through the gram index. An import writes its rows with the
outfall and link insert triggers idle inside its transaction and then writes each new outfall's text once:
on SQLite the triggers (and the text table's own, whose grams `sqlite_grams` computes in Python) are
dropped and created again; on PostgreSQL they write nothing while the transaction-local setting
PG_DEFERRED_SETTING is on.
"""

import json
from contextlib import contextmanager

OUTFALL = "registry_outfall"
UNIT = "registry_dischargeunit"
LINK = "registry_outfallunitlink"
SEARCH = "registry_outfallsearch"
FTS = "registry_outfallsearch_grams"
PG_INDEX_NAME = f"{SEARCH}_grams_idx"

# SQLite -----------------------------------------------------------------------------------------------
# An outfall's text: name, code, national code, then the names of its responsible entity and linked units
# (each once), joined by a line feed (char(10), models.search.SEPARATOR), in lower case. `o` is the outfall row.
SQLITE_TEXT = f"""lower(
    o.name || char(10) || o.code || char(10) || coalesce(o.national_code, '') || coalesce((
        SELECT char(10) || group_concat(unit_name, char(10)) FROM (
            SELECT u.name AS unit_name FROM {UNIT} u WHERE u.id = o.responsible_entity_id
            UNION
            SELECT u.name FROM {LINK} l INNER JOIN {UNIT} u ON u.id = l.unit_id WHERE l.outfall_id = o.id
        )
    ), '')
)"""
SQLITE_FILL = f"INSERT INTO {SEARCH} (outfall_id, text) SELECT o.id, {SQLITE_TEXT} FROM {OUTFALL} o"


def _sqlite_refresh(outfall_ids):
    """Statements replacing the texts of the outfalls whose ids `outfall_ids` (SQL) lists."""
    return (
        f"DELETE FROM {SEARCH} WHERE outfall_id IN ({outfall_ids});\n"
        f"        {SQLITE_FILL} WHERE o.id IN ({outfall_ids});"
    )


# The grams of a text `{text}`, as hex words: for each character, the runs of one, two and three characters
# it starts (near the end, shorter runs again). json_each over a string of as many zeros as there are
# characters numbers them (a trigger cannot hold a recursive CTE). In hex, every gram is one word for the
# ascii tokenizer, whatever its characters.
SQLITE_GRAMS = """(
    SELECT group_concat(
        hex(substr(t.v, j.key + 1, 1)) || ' ' || hex(substr(t.v, j.key + 1, 2)) || ' '
        || hex(substr(t.v, j.key + 1, 3)),
        ' '
    )
    FROM (SELECT {text} || char(10) AS v) t,
        json_each('[' || substr(replace(printf('%.*c', length(t.v) - 1, '0'), '0', ',0'), 2) || ']') j
)"""


def sqlite_grams(text):
    """The words SQLITE_GRAMS gives for `text`, computed in Python (42 µs a row in SQL, mostly json_each; a few
    here): the bulk refresh writes them straight into the FTS table. test_search checks both give the same."""
    words = [_hex(c) for c in text + "\n"] + ["", ""]
    return " ".join(  # SQLite's printf gives one zero for an empty text too: one run at least
        f"{words[i]} {words[i]}{words[i + 1]} {words[i]}{words[i + 1]}{words[i + 2]}"
        for i in range(max(len(text), 1))
    )


_HEX = {}


def _hex(character):
    word = _HEX.get(character)
    if word is None:
        word = _HEX[character] = character.encode().hex().upper()
    return word


# Which outfalls hold which grams: rowid = outfall id; no content and no positions (detail=none): deleting a
# row's words needs only the same words again, which the old text gives.
SQLITE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(grams, content='', detail='none', tokenize='ascii')"
)


def _sqlite_trigger(name, event, body, when=""):
    return (
        name,
        f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} {when}\n    BEGIN\n        {body}\n    END",
    )


_FTS_INSERT = (
    f"INSERT INTO {FTS} (rowid, grams) VALUES (NEW.outfall_id, {SQLITE_GRAMS.format(text='NEW.text')});"
)
_FTS_DELETE = (
    f"INSERT INTO {FTS} ({FTS}, rowid, grams)"
    f" VALUES ('delete', OLD.outfall_id, {SQLITE_GRAMS.format(text='OLD.text')});"
)

SQLITE_TRIGGERS = [
    # The grams follow the text table.
    _sqlite_trigger(f"{SEARCH}_ai", f"INSERT ON {SEARCH}", _FTS_INSERT),
    _sqlite_trigger(f"{SEARCH}_ad", f"DELETE ON {SEARCH}", _FTS_DELETE),
    _sqlite_trigger(f"{SEARCH}_au", f"UPDATE ON {SEARCH}", f"{_FTS_DELETE}\n        {_FTS_INSERT}"),
    # Outfalls inserted, changed, deleted.
    _sqlite_trigger(f"{OUTFALL}_search_ai", f"INSERT ON {OUTFALL}", f"{SQLITE_FILL} WHERE o.id = NEW.id;"),
    _sqlite_trigger(
        f"{OUTFALL}_search_au",
        f"UPDATE OF id, name, code, national_code, responsible_entity_id ON {OUTFALL}",
        f"DELETE FROM {SEARCH} WHERE outfall_id = OLD.id;\n        {SQLITE_FILL} WHERE o.id = NEW.id;",
        when="WHEN OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name OR OLD.code IS NOT NEW.code"
        " OR OLD.national_code IS NOT NEW.national_code"
        " OR OLD.responsible_entity_id IS NOT NEW.responsible_entity_id",
    ),
    _sqlite_trigger(
        f"{OUTFALL}_search_ad", f"DELETE ON {OUTFALL}", f"DELETE FROM {SEARCH} WHERE outfall_id = OLD.id;"
    ),
    # A unit renamed: the outfalls it is responsible for or linked to.
    _sqlite_trigger(
        f"{UNIT}_search_au",
        f"UPDATE OF name ON {UNIT}",
        _sqlite_refresh(
            f"SELECT id FROM {OUTFALL} WHERE responsible_entity_id = NEW.id"
            f" UNION SELECT outfall_id FROM {LINK} WHERE unit_id = NEW.id"
        ),
        when="WHEN OLD.name IS NOT NEW.name",
    ),
    # Links added, removed or moved.
    _sqlite_trigger(f"{LINK}_search_ai", f"INSERT ON {LINK}", _sqlite_refresh("NEW.outfall_id")),
    _sqlite_trigger(f"{LINK}_search_ad", f"DELETE ON {LINK}", _sqlite_refresh("OLD.outfall_id")),
    _sqlite_trigger(
        f"{LINK}_search_au",
        f"UPDATE OF outfall_id, unit_id ON {LINK}",
        _sqlite_refresh("OLD.outfall_id, NEW.outfall_id"),
        when="WHEN OLD.outfall_id IS NOT NEW.outfall_id OR OLD.unit_id IS NOT NEW.unit_id",
    ),
]

# PostgreSQL -------------------------------------------------------------------------------------------
PG_FUNCTIONS = [
    # The same text from an outfall's values (concat_ws skips a null national code), in upper case.
    f"""CREATE OR REPLACE FUNCTION {SEARCH}_text(
        p_id bigint, p_name text, p_code text, p_national_code text, p_entity_id bigint
    ) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT upper(concat_ws(E'\\n', p_name, p_code, p_national_code, (
            SELECT string_agg(unit_name, E'\\n') FROM (
                SELECT u.name AS unit_name FROM {UNIT} u WHERE u.id = p_entity_id
                UNION
                SELECT u.name FROM {LINK} l INNER JOIN {UNIT} u ON u.id = l.unit_id WHERE l.outfall_id = p_id
            ) names
        )))
    $$""",
    f"""CREATE OR REPLACE FUNCTION {SEARCH}_refresh(p_ids bigint[]) RETURNS void LANGUAGE sql VOLATILE AS $$
        DELETE FROM {SEARCH} WHERE outfall_id = ANY(p_ids);
        INSERT INTO {SEARCH} (outfall_id, text)
        SELECT o.id, {SEARCH}_text(o.id, o.name, o.code, o.national_code, o.responsible_entity_id)
        FROM {OUTFALL} o WHERE o.id = ANY(p_ids);
    $$""",
    # The grams a text is indexed by: every run of one, two and three characters. Costly per row (COST): the
    # planner reads them from the index rather than computing them row by row.
    f"""CREATE OR REPLACE FUNCTION {SEARCH}_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
        SELECT coalesce(array_agg(DISTINCT g), '{{}}') FROM (
            SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) i
            UNION ALL
            SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) i
            UNION ALL
            SELECT substr(t, i, 3) FROM generate_series(1, length(t) - 2) i
        ) grams
    $$""",
    # The grams a search term needs: the term itself up to three characters, else its runs of three.
    f"""CREATE OR REPLACE FUNCTION {SEARCH}_term_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT CASE WHEN length(t) <= 3 THEN ARRAY[t] ELSE ARRAY(
            SELECT DISTINCT substr(t, i, 3) FROM generate_series(1, length(t) - 2) i
        ) END
    $$""",
]
PG_FUNCTION_SIGNATURES = [
    f"{SEARCH}_refresh(bigint[])",
    f"{SEARCH}_text(bigint, text, text, text, bigint)",
    f"{SEARCH}_term_grams(text)",
    f"{SEARCH}_grams(text)",
]
PG_FILL = f"""INSERT INTO {SEARCH} (outfall_id, text)
    SELECT o.id, {SEARCH}_text(o.id, o.name, o.code, o.national_code, o.responsible_entity_id) FROM {OUTFALL} o"""
PG_INDEX = f"CREATE INDEX IF NOT EXISTS {PG_INDEX_NAME} ON {SEARCH} USING gin ({SEARCH}_grams(text))"


# A transaction-local setting under which the insert triggers of outfalls and links write nothing: a bulk
# insert (refreshed_after) writes each text once at the end instead.
PG_DEFERRED_SETTING = "registry.search_deferred"
_PG_UNLESS_DEFERRED = (
    f"IF current_setting('{PG_DEFERRED_SETTING}', true) = 'on' THEN RETURN NULL; END IF;\n            "
)


def _pg_trigger(name, table, event, body, *, referencing="", row=False, when="", deferrable=False):
    skip = _PG_UNLESS_DEFERRED if deferrable else ""
    function = f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {skip}{body}
            RETURN NULL;
        END $$"""
    level = "ROW" if row else "STATEMENT"
    trigger = f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} FOR EACH {level} {when} EXECUTE FUNCTION {name}()"
    return name, table, function, trigger


_PG = [
    # Outfalls: inserted (one statement for a whole bulk insert or COPY), changed, deleted, truncated.
    _pg_trigger(
        f"{OUTFALL}_search_ai",
        OUTFALL,
        "INSERT",
        f"""INSERT INTO {SEARCH} (outfall_id, text)
            SELECT n.id, {SEARCH}_text(n.id, n.name, n.code, n.national_code, n.responsible_entity_id)
            FROM new_rows n;""",
        referencing="REFERENCING NEW TABLE AS new_rows",
        deferrable=True,
    ),
    _pg_trigger(
        f"{OUTFALL}_search_au",
        OUTFALL,
        "UPDATE OF id, name, code, national_code, responsible_entity_id",
        f"PERFORM {SEARCH}_refresh(ARRAY[OLD.id, NEW.id]);",
        row=True,
        when="WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name"
        " OR OLD.code IS DISTINCT FROM NEW.code OR OLD.national_code IS DISTINCT FROM NEW.national_code"
        " OR OLD.responsible_entity_id IS DISTINCT FROM NEW.responsible_entity_id)",
    ),
    _pg_trigger(
        f"{OUTFALL}_search_ad",
        OUTFALL,
        "DELETE",
        f"DELETE FROM {SEARCH} WHERE outfall_id IN (SELECT id FROM old_rows);",
        referencing="REFERENCING OLD TABLE AS old_rows",
    ),
    # DELETE, not TRUNCATE: a TRUNCATE of both tables in one statement (Django's flush) holds the text table.
    _pg_trigger(f"{OUTFALL}_search_at", OUTFALL, "TRUNCATE", f"DELETE FROM {SEARCH};"),
    # A unit renamed.
    _pg_trigger(
        f"{UNIT}_search_au",
        UNIT,
        "UPDATE OF name",
        f"""PERFORM {SEARCH}_refresh(ARRAY(
                SELECT id FROM {OUTFALL} WHERE responsible_entity_id = NEW.id
                UNION SELECT outfall_id FROM {LINK} WHERE unit_id = NEW.id));""",
        row=True,
        when="WHEN (OLD.name IS DISTINCT FROM NEW.name)",
    ),
    # Links added, removed or moved (one statement for a bulk insert).
    _pg_trigger(
        f"{LINK}_search_ai",
        LINK,
        "INSERT",
        f"PERFORM {SEARCH}_refresh(ARRAY(SELECT DISTINCT outfall_id FROM new_rows));",
        referencing="REFERENCING NEW TABLE AS new_rows",
        deferrable=True,
    ),
    _pg_trigger(
        f"{LINK}_search_ad",
        LINK,
        "DELETE",
        f"PERFORM {SEARCH}_refresh(ARRAY(SELECT DISTINCT outfall_id FROM old_rows));",
        referencing="REFERENCING OLD TABLE AS old_rows",
    ),
    _pg_trigger(
        f"{LINK}_search_au",
        LINK,
        "UPDATE OF outfall_id, unit_id",
        f"PERFORM {SEARCH}_refresh(ARRAY[OLD.outfall_id, NEW.outfall_id]);",
        row=True,
        when="WHEN (OLD.outfall_id IS DISTINCT FROM NEW.outfall_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)",
    ),
]
PG_TRIGGERS = [(name, (function, trigger)) for name, _table, function, trigger in _PG]
PG_TRIGGER_TABLES = [(name, table) for name, table, _function, _trigger in _PG]


# Bulk writes ----------------------------------------------------------------------------------------------
# The insert triggers a bulk write on SQLite sets aside (refreshed_after): the outfalls' and links' (which
# rewrite a text per row), and the text table's own (which computes its grams in SQL).
SQLITE_BULK_DEFERRED = (f"{OUTFALL}_search_ai", f"{LINK}_search_ai", f"{SEARCH}_ai")
REFRESH_CHUNK = 500
PG_REFRESH_CHUNK = 5000


@contextmanager
def refreshed_after(connection):
    """For a bulk insert of outfalls and links inside a transaction: yields a set for the caller to add the ids
    of the outfalls it inserted or linked to; their texts are written once at the end.

    SQLite: the outfall, link and text insert triggers are set aside meanwhile (dropped and created again in
    the same transaction, which holds SQLite's write lock throughout, so no other write can pass without
    them; a rollback puts them back too); the texts are written by the triggers' SQL, their grams by
    `sqlite_grams`. PostgreSQL: the outfall and link insert triggers write nothing while the
    transaction-local setting PG_DEFERRED_SETTING is on (no DDL, no lock; a rollback clears it): its
    statement-level triggers wrote a linked outfall's text twice, once for the outfall and again for its
    link, each time through the gram index (about 0.1 ms a text). Updates and deletes inside keep their
    triggers."""
    touched = set()
    if (
        connection.vendor not in ("sqlite", "postgresql")
        or SEARCH not in connection.introspection.table_names()
    ):
        yield touched
        return
    if not connection.in_atomic_block:
        raise RuntimeError("refreshed_after needs a transaction: the triggers must come back with it")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PG_DEFERRED_SETTING])
        yield touched  # on an error the rollback clears the setting (the transaction cannot run SQL then)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, '', true)", [PG_DEFERRED_SETTING])
            ids = sorted(touched)
            for start in range(0, len(ids), PG_REFRESH_CHUNK):
                cursor.execute(
                    f"SELECT {SEARCH}_refresh(%s::bigint[])", [ids[start : start + PG_REFRESH_CHUNK]]
                )
        return
    triggers = dict(SQLITE_TRIGGERS)
    with connection.cursor() as cursor:
        for name in SQLITE_BULK_DEFERRED:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    try:
        yield touched
        _write_texts(connection, sorted(touched))
    finally:
        with connection.cursor() as cursor:
            for name in SQLITE_BULK_DEFERRED:
                cursor.execute(triggers[name])


def _write_texts(connection, ids):
    """SQLite, the text table's insert trigger set aside: write these outfalls' texts again, and their grams.
    The ids go as one JSON parameter, the outfalls read by key from them (CROSS JOIN fixes the order): after
    a city's first import the statistics still describe the small ledger before it, and `o.id IN (…500…)`
    was planned as a scan of every outfall for each chunk (2 s of the 100,000-row import)."""
    with connection.cursor() as cursor:
        for start in range(0, len(ids), REFRESH_CHUNK):
            chunk = json.dumps(ids[start : start + REFRESH_CHUNK])
            chosen = "SELECT value FROM json_each(%s)"
            cursor.execute(
                f"DELETE FROM {SEARCH} WHERE outfall_id IN ({chosen})", [chunk]
            )  # old grams: trigger
            cursor.execute(
                f"INSERT INTO {SEARCH} (outfall_id, text) SELECT o.id, {SQLITE_TEXT}"
                f" FROM json_each(%s) chosen CROSS JOIN {OUTFALL} o ON o.id = chosen.value",
                [chunk],
            )
            cursor.execute(f"SELECT outfall_id, text FROM {SEARCH} WHERE outfall_id IN ({chosen})", [chunk])
            rows = [(outfall_id, sqlite_grams(text)) for outfall_id, text in cursor.fetchall()]
            cursor.executemany(f"INSERT INTO {FTS} (rowid, grams) VALUES (%s, %s)", rows)


# Installing -------------------------------------------------------------------------------------------
def expected_triggers(vendor):
    return [name for name, _ in (SQLITE_TRIGGERS if vendor == "sqlite" else PG_TRIGGERS)]


def _existing_triggers(cursor, vendor):
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    return {row[0] for row in cursor.fetchall()}


def missing_triggers(connection):
    with connection.cursor() as cursor:
        existing = _existing_triggers(cursor, connection.vendor)
    return [name for name in expected_triggers(connection.vendor) if name not in existing]


def _check_vendor(connection):
    if connection.vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"ledger search: no triggers for {connection.vendor}")


def install(connection):
    """Create the index and every missing trigger (idempotent)."""
    _check_vendor(connection)
    with connection.cursor() as cursor:
        existing = _existing_triggers(cursor, connection.vendor)
        if connection.vendor == "sqlite":
            cursor.execute(SQLITE_FTS)
            for name, sql in SQLITE_TRIGGERS:
                if name not in existing:
                    cursor.execute(sql)
            return
        for sql in PG_FUNCTIONS:
            cursor.execute(sql)
        for name, (function_sql, trigger_sql) in PG_TRIGGERS:
            cursor.execute(function_sql)
            if name not in existing:
                cursor.execute(trigger_sql)
        cursor.execute(PG_INDEX)


def rebuild(connection):
    """Write every outfall's text again (on SQLite, then the FTS index from it)."""
    _check_vendor(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Empty both without the triggers' per-row deletes (the words may not match the text any more).
            cursor.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('delete-all')")
            cursor.execute(f"DROP TRIGGER IF EXISTS {SEARCH}_ad")
            cursor.execute(f"DELETE FROM {SEARCH}")
            cursor.execute(dict(SQLITE_TRIGGERS)[f"{SEARCH}_ad"])
            cursor.execute(SQLITE_FILL)  # the insert trigger writes the words
        else:
            cursor.execute(f"DELETE FROM {SEARCH}")
            cursor.execute(PG_FILL)


def uninstall(connection):
    _check_vendor(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in reversed(expected_triggers("sqlite")):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS}")
            return
        for name, table in reversed(PG_TRIGGER_TABLES):
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX_NAME}")
        for signature in PG_FUNCTION_SIGNATURES:
            cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")


def ensure(connection):
    """After a migrate: when a trigger is missing (its table rebuilt by a later migration), install it again
    and write every text again, since rows may have changed without it. Nothing to do before migration 0014
    has run, or on another database. Returns whether it repaired anything."""
    if connection.vendor not in ("sqlite", "postgresql"):
        return False
    if SEARCH not in connection.introspection.table_names():
        return False
    if not missing_triggers(connection):
        return False
    install(connection)
    rebuild(connection)
    return True
