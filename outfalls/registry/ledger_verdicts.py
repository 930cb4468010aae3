"""The dry run's verdicts kept for the commit, so that a file is judged once, not twice.

A preview (ledger_import.run_preview) judges every row; the person then confirms, minutes or days later, and
the commit needs the same verdicts. Judging 100,000 rows again costs as much as the dry run itself. So the
preview stores its verdicts beside the uploaded file (gzip'd JSON lines through orjson, a header and then one
line a row: values, with the places, rivers and units as keys; written as the rows are judged (Writer) and
read again on each pass of the commit (StoredRows), so that 300,000 rows never stand in memory together)
together with the state of what it judged against: the ledger, the units, the places and rivers, the user's
scope and the duplicate distance (``state_key``). The commit takes the stored verdicts only while that
state has not moved; otherwise, or when there are none (a preview with errors stores none), it judges the
file again. Either way ``services.save_outfalls`` applies every rule once more before it writes.
"""

import dataclasses
import datetime
import gzip
import hashlib
import json

import orjson
from django.core.files import File
from django.db.models import Count, Max

from outfalls.core import bulk
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of

from . import checks
from .ledger_rows import Action, Existing, Preview, RowResult
from .models import DischargeUnit, Outfall, WaterBody

FORMAT = 3  # 1: one JSON document; 2: counts in the header (older formats are judged again)
RELATIONS = {"county": Jurisdiction, "town": Jurisdiction, "village": Jurisdiction, "water_body": WaterBody,
             "responsible_entity": DischargeUnit}  # fmt: skip
DATE_FIELDS = ("approval_date",)
SHARED_LENGTH = 16  # text values up to this long (codes of choices) are kept once when loaded


def state_key(user):
    """What a verdict depends on, as one short digest: it changes when any outfall, unit, place or river is
    added, changed or removed, when the user's scope changes, or when the duplicate distance does."""
    parts = [FORMAT, checks.duplicate_m()]
    for model, stamp in ((Outfall, "updated_at"), (DischargeUnit, "updated_at"), (Jurisdiction, None),
                         (WaterBody, None)):  # fmt: skip
        aggregates = {"n": Count("pk"), "top": Max("pk")}
        if stamp:
            aggregates["at"] = Max(stamp)
        parts.append(sorted((k, str(v)) for k, v in model.objects.aggregate(**aggregates).items()))
    scope = scope_of(user)
    parts.append(
        [bool(scope.can_edit_citywide), sorted(scope.county_ids), bool(scope.can_set_approval), user.pk]
    )
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=16).hexdigest()


def _value(name, value):
    if name in RELATIONS:
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _existing(item):
    return dataclasses.astuple(item) if isinstance(item, Existing) else item


def _row(result):
    return {
        "n": result.number,
        "a": result.action,
        "name": result.name,
        "v": {k: _value(k, v) for k, v in result.values.items()},
        "unit": result.unit,
        "match": _existing(result.match) if result.match is not None else None,
        "cand": [[d, _existing(c)] for d, c in result.candidates],
        "chg": result.changes,
        "rep": {k: _value(k, v) for k, v in result.reported.items()},
        "notes": result.notes,
    }


class Writer:
    """The verdict lines written as the dry run judges the rows (a header, then one line a row), so that the
    rows never stand in memory together; kept on the record by save() unless a row had an error (such a
    file cannot be committed).

        with ledger_verdicts.Writer() as verdicts:
            for result in judged_rows:
                verdicts.add(result)
            verdicts.save(record, user)       # the caller saves the record
    """

    def __init__(self):
        self.spool = bulk.Spool()
        self.spool.write({"format": FORMAT})
        self.failed = False

    def add(self, result):
        if result.action == Action.ERROR:
            self.failed = True
        if not self.failed:
            self.spool.write(_row(result))

    def save(self, record, user):
        if self.failed:
            record.verdicts, record.verdicts_key = None, ""
            return
        record.verdicts.save(f"{record.pk}-verdicts.json.gz", File(self.spool.file()), save=False)
        record.verdicts_key = state_key(user)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.spool.close()


def _rows(record):
    """The header and a generator of the stored rows, read a line at a time."""
    handle = record.verdicts.open("rb")
    lines = gzip.GzipFile(fileobj=handle, mode="rb")
    try:
        header = orjson.loads(lines.readline() or b"null")
    except (ValueError, OSError, EOFError):  # not JSON, not gzip, cut short
        header = None

    def rows():
        try:
            for line in lines:
                yield orjson.loads(line)
        finally:
            lines.close()
            handle.close()

    if not isinstance(header, dict) or header.get("format") != FORMAT:
        lines.close()
        handle.close()
        return None, iter(())
    return header, rows()


def load(record, user):
    """The stored verdicts as a Preview whose rows are read from the file again on each pass (StoredRows), or
    None when there are none or the state moved since. Its counts are the record's (the dry run's)."""
    if not record.verdicts or not record.verdicts_key or record.verdicts_key != state_key(user):
        return None
    header, rows = _rows(record)
    if header is None:
        return None
    # First pass: no row in error, and the places, rivers and units the rows name, read once each.
    wanted = {model: set() for model in set(RELATIONS.values())}
    for row in rows:
        if row["a"] == Action.ERROR:
            rows.close()
            return None
        for name, model in RELATIONS.items():
            if name in row["v"]:
                wanted[model].add(row["v"][name])
    found = {model: model.objects.in_bulk(ids) for model, ids in wanted.items()}
    if any(len(found[model]) != len(ids) for model, ids in wanted.items()):
        return None  # something judged against is gone (the state key should have said so)
    return Preview(StoredRows(record, found), dict(record.counts), None)


class StoredRows:
    """The kept verdicts as RowResults, decoded from the file again on every pass over them: a commit makes
    a few passes (units, new outfalls, the report) and 300,000 rows are never held together."""

    def __init__(self, record, found):
        self.record, self.found = record, found

    def __iter__(self):
        # Each line is decoded on its own, so its keys and repeated values (field names, actions, unit kinds)
        # would be new strings on every row: one shared string each instead.
        shared = {}
        for row in _rows(self.record)[1]:
            yield _result(row, self.found, shared.setdefault)


def _result(row, found, one):
    values = {}
    for name, value in row["v"].items():
        if name in RELATIONS:
            value = found[RELATIONS[name]][value]
        elif name in DATE_FIELDS and value is not None:
            value = datetime.date.fromisoformat(value)
        elif value.__class__ is str and len(value) <= SHARED_LENGTH:
            value = one(value, value)
        values[one(name, name)] = value
    reported = {
        one(k, k): datetime.date.fromisoformat(v) if k in DATE_FIELDS and v is not None else v
        for k, v in row["rep"].items()
    }
    unit = row["unit"]
    if unit is not None:
        unit = {one(k, k): one(v, v) if k == "kind" else v for k, v in unit.items()}
    return RowResult(
        row["n"],
        action=one(row["a"], row["a"]),
        name=row["name"],
        values=values,
        unit=unit,
        match=Existing(*row["match"]) if row["match"] is not None else None,
        candidates=[(d, Existing(*c) if isinstance(c, list) else c) for d, c in row["cand"]],
        changes=[tuple(change) for change in row["chg"]],
        reported=reported,
        notes=row["notes"],
    )
