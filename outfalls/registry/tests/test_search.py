"""The ledger search's indexed path (registry/search.py, search_triggers.py) against its plain definition.

Every term must find exactly the outfalls `plain_q` (icontains over the outfall's columns and unit names)
finds, on both databases, through the index (few matches) and row by row (many matches); the text table must
follow every way the ledger is written; counts respect scope, and are marked when estimated.
"""

import pytest
from django.db import connection
from django.urls import reverse

from outfalls.registry import search, search_triggers
from outfalls.registry.choices import LinkRole
from outfalls.registry.models import DischargeUnit, Outfall, OutfallSearch, OutfallUnitLink

from .helpers import copy_as_new

pytestmark = pytest.mark.django_db

# Characters a user may type that mean something to LIKE or to an FTS5 query.
SPECIAL_NAME = '测试%排_口\\甲"乙*丙:丁(戊)AND OR NEAR'
SPECIAL_TERMS = [
    "%",
    "_",
    "\\",
    '"',
    "*",
    ":",
    "(",
    ")",
    "AND",
    "OR",
    "NEAR",
    "and",
    "%排",
    "排_口",
    "口\\甲",
    '甲"乙',
    "乙*丙",
    "丙:丁",
    "(戊)",
    "戊)AND",
    "AND OR",
    "OR NEAR",
]
# Found nowhere, but an FTS5 or LIKE syntax error if passed through unescaped.
SYNTAX_TERMS = ['"*"', "NEAR(", "^测", "-排", "{}", "%%", "__", "a:b", "NOT", '"', "(*)"]


def indexed(term, queryset=None):
    return set((queryset or Outfall.objects.all()).search(term).values_list("id", flat=True))


def plain(term, queryset=None):
    return set(
        (queryset or Outfall.objects.all()).filter(search.plain_q(term.strip())).values_list("id", flat=True)
    )


def demo_terms():
    """Terms of 1, 2, 3, 4 and more characters cut from the demo's outfall and unit names, and code pieces."""
    outfall = (
        Outfall.objects.filter(unit_links__isnull=False, national_code__isnull=False).order_by("id").first()
    )
    outfall = outfall or Outfall.objects.filter(unit_links__isnull=False).order_by("id").first()
    unit = outfall.unit_links.order_by("id").first().unit
    terms = [outfall.name[3:4], outfall.name[3:5], outfall.name[3:6], outfall.name[3:7], outfall.name[2:12]]
    terms += [unit.name[2:3], unit.name[2:4], unit.name[2:5], unit.name]
    terms += [outfall.code[-4:], outfall.code[:6].lower(), outfall.code.lower(), outfall.code.swapcase()]
    if outfall.national_code:
        terms += [outfall.national_code[-5:], outfall.national_code[:8].lower()]
    return terms + ["河", "排污", "入河排", "雨洪排口", "大同", "不存在的词", "x", "Zz9"]


@pytest.fixture
def special_outfall():
    """An outfall whose unit and name hold LIKE wildcards and FTS5 syntax."""
    outfall = copy_as_new(Outfall.objects.order_by("id").first())
    outfall.name_auto = False
    outfall.name = f"排口{SPECIAL_NAME}"
    outfall.save()
    unit = DischargeUnit.objects.create(name=f"单位{SPECIAL_NAME}", county=outfall.county)
    OutfallUnitLink.objects.create(outfall=outfall, unit=unit, role=LinkRole.SHARES)
    return outfall


@pytest.fixture(params=["indexed", "row by row"])
def path(request, monkeypatch):
    """Each test twice: terms looked up in the index, and every term treated as dense (checked row by row)."""
    if request.param == "row by row":
        monkeypatch.setattr(search, "DENSE_CANDIDATES", 0)
    return request.param


def test_the_indexed_search_finds_the_plain_rows(path):
    for term in demo_terms():
        found = indexed(term)
        assert found == plain(term), term
        # Counted from the index alone (nothing else filters) or row by row: exact under ESTIMATE_ABOVE.
        assert Outfall.objects.search(term).count_or_estimate() == (len(found), False), term
    assert indexed(demo_terms()[1]), "the demo has rows for a two-character piece of a name"


def test_wildcards_and_query_syntax_are_plain_characters(path, special_outfall):
    for term in SPECIAL_TERMS:
        found = indexed(term)
        assert found == plain(term), term
        assert special_outfall.id in found, term


def test_query_syntax_finds_what_the_plain_path_finds(path, special_outfall):
    for term in SYNTAX_TERMS:
        assert indexed(term) == plain(term), term


def test_a_term_with_the_separator_takes_the_plain_path(special_outfall):
    term = "甲\n乙"
    assert not search.fast_path_available(term)
    assert indexed(term) == plain(term) == set()


def test_scope_holds_with_the_search(path, demo_user):
    county_user = demo_user("pingcheng")
    visible = Outfall.objects.visible_to(county_user)
    for term in demo_terms():
        found = indexed(term, visible)
        assert found == plain(term, visible), term
        assert found <= set(visible.values_list("id", flat=True))
        assert visible.search(term).count_or_estimate() == (len(found), False), term


def texts():
    return dict(OutfallSearch.objects.values_list("outfall_id", "text"))


def assert_texts_as_rebuilt():
    """The trigger-kept texts are what writing them all again gives, and the index finds each outfall."""
    kept = texts()
    search_triggers.rebuild(connection)
    assert texts() == kept
    assert set(kept) == set(Outfall.objects.values_list("id", flat=True))


def test_the_text_follows_every_write(special_outfall):
    outfall = Outfall.objects.exclude(pk=special_outfall.pk).filter(unit_links__isnull=False).first()
    unit = outfall.unit_links.first().unit
    # An outfall saved, renamed and coded.
    outfall.name_auto = False
    outfall.name = "新起的名字甲乙丙"
    outfall.national_code = "NEWCODE123"
    outfall.save()
    assert outfall.id in indexed("名字甲") and outfall.id in indexed("newcode1")
    assert_texts_as_rebuilt()
    # A unit renamed: every outfall it is responsible for or linked to.
    DischargeUnit.objects.filter(pk=unit.pk).update(name="改名后的单位壬癸")
    assert outfall.id in indexed("壬癸")
    assert outfall.id not in indexed(unit.name)
    assert_texts_as_rebuilt()
    # Links added, moved and removed.
    other = (
        Outfall.objects.exclude(pk__in=[outfall.pk, special_outfall.pk])
        .filter(unit_links__isnull=True)
        .first()
    )
    link = OutfallUnitLink.objects.create(outfall=other, unit=unit, role=LinkRole.SHARES)
    assert other.id in indexed("壬癸")
    OutfallUnitLink.objects.filter(pk=link.pk).update(outfall=special_outfall)
    assert other.id not in indexed("壬癸") and special_outfall.id in indexed("壬癸")
    OutfallUnitLink.objects.filter(unit=unit).delete()
    assert outfall.id not in indexed("壬癸") or outfall.responsible_entity_id == unit.pk
    assert_texts_as_rebuilt()
    # The responsible entity changed.
    Outfall.objects.filter(pk=other.pk).update(responsible_entity=unit)
    assert other.id in indexed("壬癸")
    assert_texts_as_rebuilt()
    # Bulk writes: update(), bulk_create, raw SQL.
    Outfall.objects.filter(pk__in=[outfall.pk, other.pk]).update(name="批量改名子丑")
    assert indexed("批量改名子丑") == {outfall.pk, other.pk}
    copies = []
    for i in range(3):
        copy = copy_as_new(outfall)
        copy.code = f"BULK-SEARCH-{i}"
        copy.name = f"批量新增寅卯{i}"
        copies.append(copy)
    created = Outfall.objects.bulk_create(copies)
    assert indexed("寅卯") == {o.pk for o in created}
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Outfall._meta.db_table} SET name = %s WHERE id = %s", ["原始语句辰巳", created[0].pk]
        )
    assert indexed("辰巳") == {created[0].pk}
    assert_texts_as_rebuilt()
    # Deletes, through the ORM and in SQL.
    Outfall.objects.filter(pk=created[1].pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Outfall._meta.db_table} WHERE id = %s", [created[2].pk])
    assert indexed("寅卯") == set()
    assert created[1].pk not in texts() and created[2].pk not in texts()
    assert_texts_as_rebuilt()
    for term in ["壬癸", "子丑", "辰巳", *SPECIAL_TERMS[:6]]:
        assert indexed(term) == plain(term), term


def test_a_bulk_save_writes_each_text_once_and_keeps_every_trigger(demo_user, monkeypatch):
    """services.save_outfalls (imports) sets the SQLite insert triggers aside and writes the texts once at the
    end: the texts and the index are as the triggers would have left them, and the triggers are back, also
    after a bulk save that fails and rolls back."""
    from django.db import transaction

    from outfalls.registry import services

    bureau = demo_user("bureau")
    first = Outfall.objects.order_by("id").first()
    unit = DischargeUnit.objects.create(name="批量单位未申酉", county=first.county)
    new = []
    for i in range(3):
        outfall = copy_as_new(first)
        outfall.name_auto, outfall.name = False, f"批量保存午未{i}"
        outfall.lon += 0.01 * (i + 1)
        new.append(outfall)
    items = [services.New(new[0], owner=unit), *(services.New(o) for o in new[1:])]
    written = services.save_outfalls(items, user=bureau, reason="测试批量保存")
    ids = set(written.created)
    assert indexed("午未") == ids == plain("午未")
    assert indexed("未申酉") == {new[0].pk}
    assert search_triggers.missing_triggers(connection) == []
    # The grams written in bulk are the ones the triggers delete when the text changes: no stale words.
    new[1].name = "改名之后乾坤"
    new[1].save()
    assert indexed("午未") == plain("午未") == ids - {new[1].pk}
    assert indexed("乾坤") == {new[1].pk}
    assert_texts_as_rebuilt()
    # A failure inside the bulk write: nothing stays, and the triggers are there for the next write.
    broken = copy_as_new(first)
    broken.name_auto, broken.name = False, "回滚戌亥"

    def fail(*args, **kwargs):
        raise RuntimeError("failed while writing")

    monkeypatch.setattr(services, "_insert_outfalls", fail)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_outfalls([services.New(broken)], user=bureau, reason="测试回滚")
    monkeypatch.undo()
    assert search_triggers.missing_triggers(connection) == []
    later = copy_as_new(first)
    later.name_auto, later.name = False, "后来保存戌亥"
    later.save()
    assert indexed("戌亥") == {later.pk}
    assert_texts_as_rebuilt()


def test_the_bulk_grams_are_the_triggers_grams():
    """sqlite_grams (the bulk refresh) gives the very words the triggers' SQL gives, for every kind of text
    (the SQL run by SQLite itself, on either database's test run)."""
    import sqlite3

    samples = ["", "a", "ab", "abc", "大", "大同", "大同市", "大同市平城区御河排污口", "dt-0001\n大同\n", "x\ny",
               SPECIAL_NAME, "𠮷野家😀排口", "  空格  ", "ÄÖü ß"]  # fmt: skip
    database = sqlite3.connect(":memory:")
    try:
        for text in samples:
            row = database.execute(
                f"SELECT {search_triggers.SQLITE_GRAMS.format(text='?')}", [text]
            ).fetchone()
            assert search_triggers.sqlite_grams(text) == row[0], text
    finally:
        database.close()


def test_a_missing_trigger_is_put_back_after_migrate():
    name = search_triggers.expected_triggers(connection.vendor)[-1]
    table = search_triggers.PG_TRIGGER_TABLES[-1][1] if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if table else ""))
    assert search_triggers.missing_triggers(connection) == [name]
    assert search_triggers.ensure(connection) is True
    assert search_triggers.missing_triggers(connection) == []
    assert search_triggers.ensure(connection) is False
    assert_texts_as_rebuilt()


# Counts ---------------------------------------------------------------------------------------------------
@pytest.fixture
def dense(monkeypatch):
    """Every term dense and every count above a few rows estimated (the demo is small)."""
    monkeypatch.setattr(search, "DENSE_CANDIDATES", 0)
    monkeypatch.setattr(search, "ESTIMATE_ABOVE", 10)
    monkeypatch.setattr(search, "SAMPLE", 20)


def test_an_estimated_count_is_marked_and_the_rows_stay_exact(dense, client_for):
    term = "排口"
    exact = len(plain(term))
    assert exact > 50
    count, estimated = Outfall.objects.search(term).count_or_estimate()
    assert estimated and count > 0
    page = client_for("bureau").get(reverse("registry:outfall_list"), {"q": term})
    assert page.context["paginator"].count_estimated
    assert "约 <strong>" in page.content.decode()
    data = client_for("bureau").get("/api/v1/outfalls/", {"q": term, "page_size": 500}).json()
    assert data["count_estimated"] is True
    ids = {row["id"] for row in data["results"]}
    assert ids == plain(term) or len(ids) == 500


def test_an_estimate_counts_only_the_rows_in_scope(dense, demo_user):
    visible = Outfall.objects.visible_to(demo_user("pingcheng"))
    total = visible.count()
    count, estimated = visible.search("排").count_or_estimate()
    assert estimated and count <= total
    # Filtered further after the search: no estimate from the rows before it.
    narrowed = visible.search("排").filter(type_code="YH")
    assert narrowed.count_or_estimate() == (narrowed.count(), False)


def test_the_whole_unfiltered_ledger_is_counted_from_statistics_on_postgresql(monkeypatch, client_for):
    """A city-wide user's unfiltered list of a province's ledger: on PostgreSQL, above TABLE_ESTIMATE_ABOVE
    outfalls, the count is the table's statistics, marked 约 (COUNT(*) would read every row on every page);
    any filter or a county's scope counts exactly, and SQLite always counts."""
    monkeypatch.setattr(search, "TABLE_ESTIMATE_ABOVE", 10)
    total = Outfall.objects.count()
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE registry_outfall")
        assert search.table_rows(Outfall) == total
    bureau = client_for("bureau")
    page = bureau.get(reverse("registry:outfall_list"))
    paginator = page.context["paginator"]
    assert paginator.count_estimated is postgresql
    assert paginator.count == (search.round_estimate(total) if postgresql else total)
    assert ("约 <strong>" in page.content.decode()) is postgresql
    data = bureau.get("/api/v1/outfalls/", {"page_size": 5}).json()
    assert data.get("count_estimated", False) is postgresql
    filtered = bureau.get(reverse("registry:outfall_list"), {"type_code": "YH"}).context["paginator"]
    assert not filtered.count_estimated
    assert filtered.count == Outfall.objects.filter(type_code="YH").count()
    county = client_for("pingcheng").get(reverse("registry:outfall_list")).context["paginator"]
    assert (
        not county.count_estimated and county.count == Outfall.objects.filter(county__code="140213").count()
    )


def test_exact_counts_are_not_marked(client_for):
    page = client_for("bureau").get(reverse("registry:outfall_list"), {"q": "排"})
    assert not page.context["paginator"].count_estimated
    assert 'data-testid="result-count">共 <strong>' in page.content.decode()
    data = client_for("bureau").get("/api/v1/outfalls/", {"q": "排"}).json()
    assert "count_estimated" not in data
    assert data["count"] == len(plain("排"))


def test_paging_through_an_estimated_count_reaches_every_row(dense, client_for, monkeypatch):
    client = client_for("bureau")
    term = "排口"
    # An estimate well short of the rows there are: the pages still run to the last row.
    monkeypatch.setattr(search, "round_estimate", lambda number: 3)
    found, url, params = [], "/api/v1/outfalls/", {"q": term, "page_size": 200}
    while url:
        data = client.get(url, params).json()
        assert data["count"] == 3 and data["count_estimated"] is True
        found += [row["id"] for row in data["results"]]
        url, params = data["next"], None
    assert len(found) == len(set(found)) and set(found) == plain(term)
    pages = len(found) // 200 + 2
    assert client.get("/api/v1/outfalls/", {"q": term, "page_size": 200, "page": pages}).status_code == 404
