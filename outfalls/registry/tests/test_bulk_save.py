"""services.save_outfalls' bulk paths (imports): the per-row triggers set aside, the outfall table's indexes
built after a first import, the planner's statistics refreshed. Each must leave what the plain path leaves."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q

from outfalls.core import bulk
from outfalls.registry import ledger_version, search_triggers, services
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from .helpers import copy_as_new

pytestmark = pytest.mark.django_db

COMPARED = ("name", "code", "lon", "lat", "county_id", "water_body_id", "section_interval", "status")


def _new_outfalls(count, tag):
    first = Outfall.objects.order_by("id").first()
    new = []
    for i in range(count):
        outfall = copy_as_new(first)
        outfall.name_auto, outfall.name = False, f"批量{tag}{i}"
        outfall.lon += 0.004 * (i + 1)
        new.append(outfall)
    return first, new


def _indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Outfall._meta.db_table)
    return sorted((tuple(c["columns"]), c["unique"]) for c in constraints.values() if c["index"])


def _refusal(demo_user, outfalls, reason, first=0):
    """The lines of save_outfalls' refusal of these new outfalls, labelled 第 N 行 from `first`."""
    with pytest.raises(ValidationError) as refused:
        services.save_outfalls(
            [services.New(o, label=f"第 {i + first} 行") for i, o in enumerate(outfalls)],
            user=demo_user("bureau"),
            reason=reason,
        )
    return refused.value.messages


def _saved(demo_user, monkeypatch, *, fast):
    """Save four new outfalls (one with an owner) through save_outfalls, inside a savepoint rolled back after;
    (their rows, their links, the outfall table's indexes, which bulk helpers ran)."""
    used = []
    if fast:  # as a city's first import: more new outfalls than the ledger holds
        monkeypatch.setattr(services, "REBUILD_OUTFALL_INDEXES_FROM", 1)
        monkeypatch.setattr(services, "ANALYZE_FROM", 1)
        monkeypatch.setattr(Outfall.objects.__class__, "count", lambda self: 2)
        monkeypatch.setattr(services, "CHECK_CHUNK", 2)  # two chunks: the findings' statistics between
    for name in ("indexes_set_aside", "analyze"):
        real = getattr(bulk, name)

        def spy(*models, _real=real, _name=name):
            used.append((_name, *(m.__name__ for m in models)))
            return _real(*models)

        monkeypatch.setattr(bulk, name, spy)
    with transaction.atomic():
        first, new = _new_outfalls(4, "寅卯")
        unit = DischargeUnit.objects.create(name="批量单位子丑", county=first.county)
        items = [services.New(new[0], owner=unit), *(services.New(o) for o in new[1:])]
        written = services.save_outfalls(items, user=demo_user("bureau"), reason="测试批量")
        ids = written.created
        rows = list(Outfall.objects.filter(pk__in=ids).order_by("pk").values_list(*COMPARED))
        links = list(
            OutfallUnitLink.objects.filter(outfall_id__in=ids).values_list("outfall__name", "unit__name")
        )
        found = set(Outfall.objects.search("寅卯").values_list("name", flat=True))
        indexes = _indexes()
        transaction.set_rollback(True)
    monkeypatch.undo()
    return rows, links, found, indexes, used


def test_a_first_import_through_rebuilt_indexes_saves_the_same(demo_user, monkeypatch):
    """With the outfall table's indexes set aside and its statistics refreshed (a city's first import), the
    same rows, links and search texts as the plain path, and the same indexes afterwards."""
    indexes = _indexes()
    plain = _saved(demo_user, monkeypatch, fast=False)
    fast = _saved(demo_user, monkeypatch, fast=True)
    assert plain[4] == []
    assert fast[4] == [
        ("indexes_set_aside", "Outfall"),
        ("analyze", "Outfall", "OutfallUnitLink"),
        ("analyze", "SpatialFinding"),
    ]
    assert len(fast[0]) == 4 and fast[:4] == plain[:4]
    assert fast[2] == {f"批量寅卯{i}" for i in range(4)}
    assert _indexes() == indexes and len(indexes) >= 10


def test_a_bulk_save_moves_the_version_and_keeps_every_trigger(
    demo_user, monkeypatch, ledger_version_at_once
):
    """The per-row version triggers are set aside during the inserts and the version moves once for them; every
    trigger is back after, also after a bulk save that fails inside (rolled back with it). (PostgreSQL: each
    statement moves the version at once here, as at COMMIT in use.)"""
    triggers = ledger_version.installed()
    before = ledger_version.ledger_version()
    _, new = _new_outfalls(3, "辰巳")
    services.save_outfalls(map(services.New, new), count=3, user=demo_user("bureau"), reason="测试版本")
    after = ledger_version.ledger_version()
    assert ledger_version.installed() == triggers and after != before

    def fail(*args, **kwargs):
        raise RuntimeError("failed while writing")

    _, broken = _new_outfalls(1, "午未")
    monkeypatch.setattr(services, "_insert_outfalls", fail)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_outfalls([services.New(o) for o in broken], user=demo_user("bureau"), reason="测试回滚")
    monkeypatch.undo()
    assert ledger_version.installed() == triggers
    assert search_triggers.missing_triggers(connection) == []
    assert ledger_version.ledger_version() == after
    # The next single save counts again through the triggers put back.
    _, later = _new_outfalls(1, "申酉")
    later[0].save()
    assert ledger_version.ledger_version() != after


def _rows_the_planner_knows():
    table = Outfall._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx IS NOT NULL LIMIT 1", [table]
            )
            row = cursor.fetchone()
            return int(row[0].split()[0]) if row else None
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return int(cursor.fetchone()[0])


def test_analyze_tells_the_planner_how_many_rows_there_are(demo_user):
    """SQLite planned `id IN (…)` as a scan of every outfall after a first import, from the small ledger's
    statistics; core.bulk.analyze brings them to the rows there are."""
    bulk.analyze(Outfall)
    assert _rows_the_planner_knows() == Outfall.objects.count()
    _, new = _new_outfalls(3, "戌亥")
    services.save_outfalls(
        [services.New(o) for o in new], user=demo_user("bureau"), reason="测试统计"
    )  # under ANALYZE_FROM
    assert _rows_the_planner_knows() == Outfall.objects.count() - 3
    bulk.analyze(Outfall)
    assert _rows_the_planner_knows() == Outfall.objects.count()


def test_new_outfalls_are_taken_a_batch_at_a_time_and_all_or_nothing(demo_user, monkeypatch):
    """A generator of new outfalls is written a batch at a time (the first batch is in the ledger before the
    next is made); a row failing in a later batch refuses the whole save, names every failing row, also those
    after it, and leaves nothing of the batches written before it."""
    monkeypatch.setattr(services, "BATCH", 2)
    before = Outfall.objects.count()
    _, good = _new_outfalls(5, "分批")
    made, seen_in_ledger = [], []

    def stream(items):
        for i, item in enumerate(items):
            made.append(i)
            if i == 2:  # the first batch (rows 0 and 1) is written before row 2 is made
                seen_in_ledger.append(Outfall.objects.filter(name__startswith="批量分批").count())
            yield item

    saved = []
    written = services.save_outfalls(
        stream([services.New(o, label=f"第 {i} 行", saved=saved.append) for i, o in enumerate(good)]),
        count=5,
        user=demo_user("bureau"),
        reason="测试分批",
    )
    assert seen_in_ledger == [2] and len(written.created) == 5 == Outfall.objects.count() - before
    assert [o.pk for o in saved] == written.created and all(o.code for o in saved)
    # A later batch fails: refused as a whole, every failing row named, nothing kept.
    before = Outfall.objects.count()
    _, rows = _new_outfalls(6, "失败")
    rows[3].lon, rows[3].lat = 0.0, 0.0  # outside the city
    rows[5].national_code = rows[4].national_code = "91140200MA0TEST01X"
    lines = _refusal(demo_user, rows, "测试失败")
    assert any(line.startswith("第 3 行") for line in lines), lines
    assert any(line.startswith("第 5 行") and "重复" in line for line in lines), lines
    assert not any(line.startswith(("第 0 行", "第 1 行", "第 2 行")) for line in lines), lines
    assert Outfall.objects.count() == before
    assert not Outfall.objects.filter(name__startswith="批量失败").exists()


def test_checking_in_chunks_stores_what_one_check_stores(demo_user, monkeypatch):
    """The bulk save checks its outfalls CHECK_CHUNK at a time; duplicate pairs split over two chunks (and a
    new outfall beside an old one) end as the same findings as checking all at once."""
    from outfalls.registry.models import SpatialFinding

    def findings(chunk):
        monkeypatch.setattr(services, "CHECK_CHUNK", chunk)
        with transaction.atomic():
            first, new = _new_outfalls(4, "检查")
            new[0].lon, new[0].lat = first.lon + 0.0001, first.lat  # about 9 m from an old outfall
            for a, b in ((1, 2), (2, 3)):  # a chain of new duplicates: 1-2 and 2-3 about 10 m apart
                new[b].lon, new[b].lat = new[a].lon + 0.00012, new[a].lat
            services.save_outfalls(
                [services.New(o) for o in new], user=demo_user("bureau"), reason="测试检查"
            )
            mine = Q(outfall__name__startswith="批量检查") | Q(other_outfall__name__startswith="批量检查")
            rows = sorted(
                SpatialFinding.objects.filter(mine).values_list(  # (no keys: PostgreSQL's run new ones)
                    "outfall__name", "kind", "other_outfall__name", "message", "severity"
                ),
                key=str,
            )
            intervals = sorted(
                Outfall.objects.filter(name__startswith="批量检查").values_list("name", "section_interval")
            )
            transaction.set_rollback(True)
        return rows, intervals

    together, apart = findings(100), findings(1)
    assert together == apart
    kinds = [(name, kind, other) for name, kind, other, _, _ in together[0] if kind == "duplicate"]
    assert ("批量检查1", "duplicate", "批量检查2") in kinds and (
        "批量检查3",
        "duplicate",
        "批量检查2",
    ) in kinds
    assert any(name == "批量检查0" and other and not other.startswith("批量") for name, _, other in kinds)


def test_an_exhausted_code_sequence_refuses_the_import_naming_the_row(demo_user, settings):
    """When a prefix has no sequence number left (10,000 outfalls of one type on one river in one county with
    four digits) the bulk save refuses, naming the row and the prefix, instead of failing with a traceback."""
    first, new = _new_outfalls(2, "编码")
    prefix = new[0].code_prefix()
    taken = copy_as_new(first)
    taken.name_auto, taken.name, taken.code = (
        False,
        "占用末号",
        prefix + "9" * settings.OUTFALL_CODE_SEQ_WIDTH,
    )
    taken.save()
    before = Outfall.objects.count()
    lines = _refusal(demo_user, new, "测试编码", first=3)
    assert lines[0].startswith("第 3 行：") and f"“{prefix}”" in lines[0] and "顺序号已用完" in lines[0], (
        lines
    )
    assert Outfall.objects.count() == before
