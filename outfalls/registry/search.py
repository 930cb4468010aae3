"""The ledger search (``q``): the outfalls whose name, code, national code, responsible entity's name or a linked
unit's name contains a term, case-insensitively as the database's ``icontains``. docs/search.md has the design.

`plain_q` is the definition: ``icontains`` over the outfall's columns and the unit names. It reads every row
(``LIKE '%…%'`` has no index) and serves the ledger as of a past date (historical rows).

`search_outfalls` gives exactly the same rows from OutfallSearch, one text per outfall kept by database
triggers (search_triggers.py) and indexed by its grams (every run of one, two and three characters):

- a term that few outfalls contain (fewer than DENSE_CANDIDATES by the gram index) is looked up in the
  index once, and its ids serve the page, the count and the rows (`ids_q`); a term of four or more
  characters is checked against the text (its grams may lie apart);
- a term that many outfalls contain is checked row by row against the text as the list walks its ordering
  index: 50 rows are found after reading about 50 / share rows. Counting such a term exactly would read every
  row, so `count_or_estimate` estimates it when the rows to count are many (ESTIMATE_ABOVE): their number
  (PostgreSQL: the planner's estimate) times the share of a sample of them the term finds.
"""

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex, Upper

from .models import DischargeUnit, OutfallSearch, OutfallUnitLink
from .models.search import SEPARATOR
from .search_triggers import FTS, SEARCH

# From this many outfalls holding a term's grams (read from the index, capped), it is "dense": found row by
# row along the list's order instead of looked up in the index.
DENSE_CANDIDATES = 5_000
# A dense term's count is exact while the rows to count (the ledger under the other filters and the user's
# scope) are at most this many; above, it is estimated from a sample of about SAMPLE of them (by id).
ESTIMATE_ABOVE = 5_000
SAMPLE = 1_000
# PostgreSQL: the rows to count are taken from the planner only when it puts them above this many. Below, they
# are counted (a county's rows through the scope index, a few milliseconds): the planner's figure is as old as
# the last ANALYZE, and an estimate above the rows a county officer holds would be plainly wrong.
PLANNER_TOTAL_ABOVE = 50_000
# PostgreSQL: the whole ledger, unfiltered (a city-wide user's first page), is counted from the table's
# statistics above this many outfalls: COUNT(*) reads every row (125-140 ms at a million) on every page.
TABLE_ESTIMATE_ABOVE = 200_000

VENDORS = ("sqlite", "postgresql")
GRAM = 3  # the longest gram indexed (search_triggers)
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def plain_q(value):
    """The search by definition, on any outfall rows (id, not pk: historical rows too)."""
    units = DischargeUnit.objects.filter(name__icontains=value).values("pk")
    return (
        Q(name__icontains=value)
        | Q(code__icontains=value)
        | Q(national_code__icontains=value)
        | Q(responsible_entity_id__in=units)
        | Q(id__in=OutfallUnitLink.objects.filter(unit_id__in=units).values("outfall_id"))
    )


@dataclass
class Search:
    """A search applied to an OutfallQuerySet (kept on it as ``_search``) for its count."""

    value: str
    dense: bool
    q: Q  # the condition applied
    base: object  # the queryset before the search
    where: object  # the searched queryset's WHERE, to tell whether it was filtered further
    ids: list | None = None  # what the index found (a term few outfalls hold), read once per search


def fast_path_available(value):
    """Whether the index can answer this term (else the plain path): a term holding the separator could match
    across two parts of the joined text."""
    return connection.vendor in VENDORS and SEPARATOR not in value


def search_outfalls(queryset, value):
    """The outfalls of `queryset` the term finds (an OutfallQuerySet, which keeps the Search for its count)."""
    value = value.strip()
    if not value:
        return queryset
    if not fast_path_available(value):
        return queryset.filter(plain_q(value))
    ids = found_ids(value)
    dense = ids is None
    q = dense_q(value) if dense else ids_q(ids)
    searched = queryset.filter(q)
    searched._search = Search(
        value=value, dense=dense, q=q, base=queryset, where=searched.query.where.clone(), ids=ids
    )
    return searched


# The database's case folding, as the triggers store the text --------------------------------------------
def _sqlite_fold(value):
    return value.translate(ASCII_LOWER)  # SQLite's lower() and LIKE fold ASCII letters only


def _grams(folded):
    """The grams every text containing the (folded) term holds: the term itself up to three characters (then
    holding it is containing the term), else its runs of three (then the text is checked too)."""
    if len(folded) <= GRAM:
        return [folded]
    return sorted({folded[i : i + GRAM] for i in range(len(folded) - GRAM + 1)})


def _sqlite_words(value):
    """The FTS query: the term's grams as the hex words the index holds (search_triggers.SQLITE_GRAMS)."""
    return " ".join(gram.encode().hex() for gram in _grams(_sqlite_fold(value)))


def _folded_value(value):
    """The term folded as the stored text: by PostgreSQL's upper() in SQL, else as SQLite's lower()."""
    return Upper(Value(value)) if connection.vendor == "postgresql" else Value(_sqlite_fold(value))


# Conditions -----------------------------------------------------------------------------------------------
def found_ids(value, cap=None):
    """The ids of the outfalls the term finds, read from the gram index once, or None when at least `cap`
    outfalls hold its grams (a dense term: found row by row instead). The page, its count and its rows then
    use the ids (`id IN (…)`) instead of reading the index again for each statement."""
    cap = DENSE_CANDIDATES if cap is None else cap
    if connection.vendor == "sqlite":
        holding = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s"
        params = [_sqlite_words(value), cap]
    else:
        holding = f"SELECT outfall_id FROM {SEARCH} WHERE {SEARCH}_grams(text) @> {SEARCH}_term_grams(upper(%s)) LIMIT %s"
        params = [value, cap]
    with connection.cursor() as cursor:
        cursor.execute(holding, params)
        ids = [row[0] for row in cursor.fetchall()]
        if len(ids) >= cap:
            return None
        if len(value) <= GRAM or not ids:  # up to three characters, holding the gram is containing the term
            return sorted(ids)
        cursor.execute(*indexed_ids(value))  # longer: the texts holding all its grams, checked for the term
        return sorted(row[0] for row in cursor.fetchall())


def indexed_ids(value):
    """SQL (and its parameters) selecting the ids of the outfalls the term finds through the gram index (then
    checked against the text for terms longer than a gram: up to three characters, holding the gram is
    containing the term)."""
    if connection.vendor == "sqlite":
        found = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s"
        if len(value) <= GRAM:
            return found, [_sqlite_words(value)]
        sql = f"SELECT s.outfall_id FROM {SEARCH} s WHERE s.outfall_id IN ({found}) AND instr(s.text, %s) > 0"
        return sql, [_sqlite_words(value), _sqlite_fold(value)]
    # The ids read from the index once, as an array: joined in as a subquery, the planner would walk the
    # list's order computing the grams of each row (or hash the whole ledger) instead.
    sql = f"SELECT outfall_id FROM {SEARCH} WHERE {SEARCH}_grams(text) @> {SEARCH}_term_grams(upper(%s))"
    if len(value) <= GRAM:
        return f"SELECT unnest(ARRAY({sql}))", [value]
    return f"SELECT unnest(ARRAY({sql} AND strpos(text, upper(%s)) > 0))", [value, value]


def ids_q(ids):
    """id IN the ids, passed as one parameter (a JSON array on SQLite, an array on PostgreSQL): thousands of
    `%s` made each statement's compiling and parameter lists cost more than its execution."""
    if connection.vendor == "sqlite":
        return Q(id__in=RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)]))
    return Q(id__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))


def dense_q(value):
    """Each outfall checked against its text: for terms many outfalls contain, as the list walks its order."""
    texts = (
        OutfallSearch.objects.filter(outfall=OuterRef("id"))
        .alias(_position=StrIndex("text", _folded_value(value)))
        .filter(_position__gt=0)
    )
    return Q(Exists(texts))


# Counting -----------------------------------------------------------------------------------------------
def count_or_estimate(queryset):
    """(count, estimated): the exact count, or for a dense term over many rows an estimate from a sample, or
    for the whole ledger unfiltered on PostgreSQL above TABLE_ESTIMATE_ABOVE outfalls the table's statistics."""
    search = getattr(queryset, "_search", None)
    if search is None and not queryset.query.where and connection.vendor == "postgresql":
        rows = table_rows(queryset.model)
        if rows > TABLE_ESTIMATE_ABOVE:
            return round_estimate(rows), True
    if search is None or queryset.query.where != search.where:
        return queryset.count(), False
    if not search.dense:
        if search.base.query.where:
            return queryset.count(), False
        # Nothing but the search (the city bureau's whole ledger): the ids the index found are the count.
        return len(search.ids), False
    total = rows_before_search(search.base)
    if total <= ESTIMATE_ABOVE:
        return queryset.count(), False
    # About SAMPLE of those rows, every n-th by id, each checked against its text.
    sample = (
        search.base.order_by()
        .annotate(_search_bucket=F("id") % (total // SAMPLE))
        .filter(_search_bucket=0)
        .aggregate(rows=Count("id"), hits=Count("id", filter=search.q))
    )
    if not sample["rows"]:
        return queryset.count(), False
    return min(round_estimate(total * sample["hits"] / sample["rows"]), total), True


def table_rows(model):
    """PostgreSQL's row count of the model's table as of its last ANALYZE or autovacuum (pg_class.reltuples;
    -1 before the first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def rows_before_search(queryset):
    """How many rows the search narrows: on PostgreSQL the planner's estimate where it is above
    PLANNER_TOTAL_ABOVE (EXPLAIN, about a millisecond; a count reads every row in scope), else the count; on
    SQLite the count (through a covering index, a few milliseconds)."""
    if connection.vendor != "postgresql":
        return queryset.count()
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    planned = int(plan[0]["Plan"]["Plan Rows"])
    return planned if planned > PLANNER_TOTAL_ABOVE else queryset.count()


def round_estimate(number):
    """Two significant figures: an estimate should not look exact (46,262 -> 46,000; 3,456 -> 3,500)."""
    number = round(number)
    if number < 100:
        return number
    digits = len(str(number)) - 2
    return round(number, -digits)
