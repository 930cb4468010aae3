"""core.bulk: rows written as the ORM would write them, and history rows copied from the current rows."""

import datetime
import gzip

import pytest
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from outfalls.core import bulk
from outfalls.core.models import Jurisdiction
from outfalls.registry.models import Outfall, WaterBody

pytestmark = [pytest.mark.django_db]

INSERTED = [f for f in Outfall._meta.concrete_fields if not f.primary_key]


def _pair(county, water):
    """Two equal new outfalls but for their codes and names, with a date, a timestamp, booleans, a None and
    text with quotes, a tab, a backslash and a newline (COPY's text format escapes those)."""
    now = timezone.now().replace(microsecond=123456)
    values = dict(
        county=county,
        water_body=water,
        lon=113.2954321,
        lat=40.0912345,
        type_code="YH",
        registered=True,
        approval_date=datetime.date(2021, 3, 9),
        national_code=None,
        notes="引号\"和'，制表\t，反斜杠\\N，换行\n结束",
        status="verified",
        created_at=now,
        updated_at=now,
    )
    return (
        Outfall(code="BULK-ORM-1", name="批量写入对照", **values),
        Outfall(code="BULK-RAW-1", name="批量写入测试", **values),
    )


# The ORM sets auto_now(_add) timestamps itself; core.bulk stores the ones given (checked separately).
STAMPS = ("created_at", "updated_at")


def _stored(outfall, exclude=("id", "code", "name", *STAMPS)):
    row = Outfall.objects.filter(code=outfall.code).values().get()
    return {k: v for k, v in row.items() if k not in exclude}


def test_insert_rows_stores_what_the_orm_stores():
    county = Jurisdiction.objects.get(code="140213")
    water = WaterBody.objects.order_by("pk").first()
    by_orm, raw = _pair(county, water)
    Outfall.objects.bulk_create([by_orm])
    bulk.insert_rows(Outfall, [f.name for f in INSERTED], [[getattr(raw, f.attname) for f in INSERTED]])
    assert _stored(raw) == _stored(by_orm)
    assert _stored(raw)["notes"].endswith("\\N，换行\n结束") and _stored(raw)["national_code"] is None
    stored = Outfall.objects.get(code=raw.code)
    assert (stored.created_at, stored.updated_at) == (raw.created_at, raw.updated_at)


def test_copy_history_writes_the_row_simple_history_writes(demo_user):
    user = demo_user("bureau")
    county = Jurisdiction.objects.get(code="140213")
    water = WaterBody.objects.order_by("pk").first()
    by_orm, raw = _pair(county, water)
    when = timezone.now()
    bulk_create_with_history(
        [by_orm], Outfall, default_user=user, default_change_reason="对照", default_date=when
    )
    bulk.insert_rows(Outfall, [f.name for f in INSERTED], [[getattr(raw, f.attname) for f in INSERTED]])
    raw_id = Outfall.objects.get(code=raw.code).pk
    bulk.copy_history(Outfall, [raw_id], user=user, reason="对照", date=when)
    skip = {"id", "code", "name", "history_id", *STAMPS}
    (expected,) = Outfall.history.filter(code=by_orm.code).values()
    (copied,) = Outfall.history.filter(id=raw_id).values()
    assert {k: v for k, v in copied.items() if k not in skip} == {
        k: v for k, v in expected.items() if k not in skip
    }
    assert copied["history_type"] == "+" and copied["history_user_id"] == user.pk


def test_copy_history_cuts_the_reason_to_its_column():
    county = Jurisdiction.objects.get(code="140213")
    water = WaterBody.objects.order_by("pk").first()
    _, raw = _pair(county, water)
    bulk.insert_rows(Outfall, [f.name for f in INSERTED], [[getattr(raw, f.attname) for f in INSERTED]])
    raw_id = Outfall.objects.get(code=raw.code).pk
    bulk.copy_history(Outfall, [raw_id], user=None, reason="长" * 500, date=timezone.now(), history_type="~")
    (copied,) = Outfall.history.filter(id=raw_id).values(
        "history_change_reason", "history_type", "history_user"
    )
    limit = Outfall.history.model._meta.get_field("history_change_reason").max_length
    assert copied == {"history_change_reason": "长" * limit, "history_type": "~", "history_user": None}


def test_insert_rows_takes_a_generator_a_chunk_at_a_time(monkeypatch):
    """A generator of more rows than a chunk: every row stored, none lost at a chunk's edge, and no more than
    a chunk prepared at once (the import's report and the spatial findings are generators of 100,000s)."""
    from outfalls.registry.models import LedgerImport, LedgerImportRow

    assert [list(c) for c in bulk.chunks(iter(range(5)), 2)] == [[0, 1], [2, 3], [4]]
    record = LedgerImport.objects.create(filename="t.xlsx", file="t.xlsx")
    seen = []
    prepared = bulk._prepared_rows
    monkeypatch.setattr(bulk, "_prepared_rows", lambda rows, p: seen.append(len(rows)) or prepared(rows, p))
    total = 2 * bulk.CHUNK + 7
    pulled = []

    prepared_when_pulled = {}

    def rows():
        for number in range(1, total + 1):
            pulled.append(number)
            prepared_when_pulled[number] = sum(seen)
            yield (record.pk, number, "new", {"row": number, "name": f"第{number}行 <b>\t\\"})

    bulk.insert_rows(LedgerImportRow, ("ledger_import", "row", "action", "data"), rows())
    assert len(pulled) == total and max(seen) <= bulk.CHUNK and sum(seen) == total
    # Streamed: the first chunk was prepared (and sent) before the generator was asked for the next row.
    assert prepared_when_pulled[bulk.CHUNK] == 0 and prepared_when_pulled[bulk.CHUNK + 1] == bulk.CHUNK
    stored = list(record.report())
    assert [r["row"] for r in stored] == list(range(1, total + 1))
    assert stored[-1]["name"] == f"第{total}行 <b>\t\\"
    assert bulk.insert_rows(LedgerImportRow, ("ledger_import", "row", "action", "data"), iter(())) is None


def test_insert_rows_stores_json_as_the_orm_does():
    """JSON encoded by orjson reads back as the ORM's own: nested values, Chinese, quotes, floats, null;
    integer keys and integers beyond 64 bits, which orjson refuses, go through the field as before."""
    from outfalls.registry.models import LedgerImport, LedgerImportRow

    record = LedgerImport.objects.create(filename="t.xlsx", file="t.xlsx")
    values = [
        {"water": {"id": 3, "name": '御河"东"\\段'}, "km": 12.345, "none": None, "list": [1, 2.5, "三"]},
        ["<script>", '=HYPERLINK("x")', True, False, 0.1 + 0.2],
        {1: "integer key", "2": 2},
        {"big": 2**70},
        "纯文本",
    ]
    columns = ("ledger_import", "row", "action", "data")
    bulk.insert_rows(LedgerImportRow, columns, [(record.pk, n, "new", v) for n, v in enumerate(values)])
    by_orm = LedgerImport.objects.create(filename="o.xlsx", file="o.xlsx")
    LedgerImportRow.objects.bulk_create(
        [LedgerImportRow(ledger_import=by_orm, row=n, action="new", data=v) for n, v in enumerate(values)]
    )

    def stored(imported):
        return list(
            LedgerImportRow.objects.filter(ledger_import=imported)
            .order_by("row")
            .values_list("data", flat=True)
        )

    assert stored(record) == stored(by_orm)
    assert stored(record)[2] == {"1": "integer key", "2": 2} and stored(record)[3] == {"big": 2**70}
    assert stored(record)[0]["water"]["name"] == '御河"东"\\段'


def test_gc_paused_nests_and_resumes_only_what_ran():
    import gc

    assert gc.isenabled()
    with bulk.gc_paused():
        assert not gc.isenabled()
        with bulk.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk.gc_paused():
            pass
        assert not gc.isenabled()  # off before: stays off
    finally:
        gc.enable()

    @bulk.gc_paused()
    def work():
        return gc.isenabled()

    assert work() is False and gc.isenabled()
    with pytest.raises(ValueError), bulk.gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_spool_gives_back_what_was_written_on_every_pass():
    rows = [{"row": n, "text": f"第{n}行 <b>&"} for n in range(5000)] + [[1, None, 2.5], "末行"]
    with bulk.Spool() as spool:
        for row in rows:
            spool.write(row)
        assert spool.count == len(rows)
        assert list(spool) == rows and list(spool) == rows  # read again from the file each time
        with gzip.GzipFile(fileobj=spool.file()) as lines:
            assert lines.read().count(b"\n") == len(rows)
