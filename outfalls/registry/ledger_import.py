"""Importing attachment-1 tables (信息汇总表) as counties fill them in.

    record = LedgerImport.objects.create(created_by=user, file=upload, filename=name, crs="gcj02")
    preview = run_preview(record)          # every row: new / update / unchanged / duplicate / error
    commit(record, user, decisions={12: "new"})   # all rows or none

The file is read by `ledger_reader` (which finds the table); each row is judged by `ledger_rows` (values
read by `ledger_values` and `geo.coords`, names resolved against the database, matched with the existing
ledger by code, then name, then distance: an outfall of the same type within 30 m is a possible duplicate
for a person to decide; nothing is merged silently). A commit takes the dry run's stored verdicts while the ledger has not
moved since (ledger_verdicts; else it judges the stored file again), refuses if any row has an error or an
undecided duplicate, and writes everything in one transaction, with history rows that carry the import's
number.
"""

from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core import bulk, params
from outfalls.geo import coords

from . import coding, ledger_verdicts, services
from .choices import LifecycleStatus, ResponsibilityBasis
from .ledger_reader import LedgerFileError, read_table
from .ledger_rows import (  # noqa: F401  (re-exported: Action, DECISIONS, LedgerImportError, check_can_import)
    DECISIONS,
    FIELD_LABELS,
    Action,
    Existing,
    LedgerImportError,
    Preview,
    Resolver,
    RowReader,
    _compare,
    _norm,
    check_can_import,
    reported_notes,
)
from .models import DischargeUnit, LedgerImport, LedgerImportRow, Outfall

PROGRESS_EVERY = 500
BATCH = 2000


def judged(file, *, filename, user, crs="cgcs2000", progress=None, validate=True):
    """Read a file and judge its rows: (the table found, a generator of every row's RowResult in the file's
    order). Raises LedgerImportError for a file that cannot be read at all.

    The rows are read, matched, compared with the outfalls they update and checked BATCH at a time, and
    handed on: a caller that writes them away as they come (run_preview) never holds the file's verdicts
    together. Every check looks back only (a code, name, national code or point seen on an earlier row), so
    the verdicts are those of judging the whole file at once.

    With `validate` (the preview), every row that would be written is checked by the registry's own rules
    (services.validate_outfall: the model's clean(), the state only workflows change, the approval fields
    only the city sets, coordinates inside the city), and national codes are checked across the file and the
    ledger; what fails becomes the row's error naming its column. The commit leaves that to
    services.save_outfalls, which applies the same rules once more before anything is written.
    """
    try:
        table = read_table(file, filename=filename)
    except LedgerFileError as error:
        raise LedgerImportError(str(error))
    reader = RowReader(table, Resolver(user), coords.CRS(crs))
    return table, _judge(table, reader, user=user, validate=validate, progress=progress)


NO_ROWS = "文件中找到了表头，但表头下没有数据行。"


def interpret(file, *, filename, user, crs="cgcs2000", progress=None, validate=True):
    """Every row of a file judged (see judged()), as a Preview holding them all: for small files, tests and
    the commit's second judging; the dry run streams them (run_preview)."""
    table, rows = judged(file, filename=filename, user=user, crs=crs, progress=progress, validate=validate)
    results = list(rows)
    if not results:
        raise LedgerImportError(NO_ROWS)
    return Preview(results, _count_actions(results), table)


def _count_actions(results):
    """{action: rows, ..., "rows": all rows} of judged rows."""
    counts = {action: 0 for action in Action.LABELS}
    for result in results:
        counts[result.action] += 1
    counts["rows"] = len(results)
    return counts


def _judge(table, reader, *, user, validate, progress):
    city = reader.resolver.city
    allocator, prefixes, national_codes = coding.CodeAllocator(Outfall.codes_with_prefix), {}, {}

    def finish(batch):
        matched = [r.match.id for r in batch if r.match is not None and r.action != Action.ERROR]
        outfalls = Outfall.objects.for_list().in_bulk(matched) if matched else {}
        for result in batch:
            if result.match is not None and result.action != Action.ERROR:
                outfall = outfalls[result.match.id]
                result.changes = _compare(result, outfall)
                result.action = Action.UPDATE if result.changes else Action.UNCHANGED
                reported_notes(reader, result, outfall)
                if validate and result.action == Action.UPDATE:
                    changed, old = _updated_outfall(result, outfall)
                    _check_row(
                        reader, result, changed, old, user=user, city=city, fields=changed._import_fields
                    )
            elif result.action in (Action.NEW, Action.DUPLICATE):
                reported_notes(reader, result)
                if validate:
                    outfall = _new_outfall(result, None)
                    fields = services.set_fields(outfall)
                    _check_row(reader, result, outfall, None, user=user, city=city, fields=fields)
                    _check_code_room(reader, result, outfall, allocator, prefixes)
            if validate:
                _check_national_code(reader, result, national_codes)
        return batch

    batch, done = [], 0
    for raw in table.rows():
        batch.append(reader.read(raw))
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)
        if len(batch) == BATCH:
            yield from finish(batch)
            batch = []
    yield from finish(batch)


# Which column a model field's message belongs to (the attachment-1 column keys of ledger_template).
FIELD_COLUMNS = {
    "county": "county",
    "town": "town",
    "village": "village",
    "water_body": "water_body",
    "section_interval": "section_interval",
    "name": "name",
    "lon": "location",
    "lat": "location",
    "entry_mode": "entry_mode",
    "outlet_position": "outlet",
    "outlet_description": "outlet",
    "conveyance": "conveyance",
    "responsible_entity": "responsible_entity",
    "responsibility_note": "responsible_entity",
    "responsibility_basis": "responsible_entity",
    "type_code": "classification",
    "type_level2": "classification",
    "type_level3": "classification",
    "rectification_status": "rectification",
    "registered": "registered",
    "approval_date": "approval_date",
    "permit_number": "permit_number",
    "national_code": "national_code",
    "code": "code",
}


def _where(reader, number, field):
    key = FIELD_COLUMNS.get(field)
    if key is None:
        label = FIELD_LABELS.get(field) or str(Outfall._meta.get_field(field).verbose_name)
        return f"第 {number} 行 {label}"
    if key == "location" and key not in reader.table.columns and "lon" in reader.table.columns:
        key = "lon"
    return reader.where(number, key)


def _check_row(reader, result, outfall, old, *, user, city, fields):
    """The registry's rules for the outfall a row would write; each failure is the row's error. The field
    checks are remembered per value over the file (reader.memo)."""
    errors = services.validate_outfall(
        outfall, user=user, old=old, unique=False, city=city, fields=fields, memo=reader.memo
    )
    for field, message in errors.items():
        result.error(f"{_where(reader, result.number, field)}：{message}")


def _check_code_room(reader, result, outfall, allocator, prefixes):
    """A new row without a local code takes the next sequence number of its prefix (water body, division,
    type), as the commit will: one past the last number is the row's error in the preview, not a refusal at
    the commit. (A possible duplicate counts too: it may be confirmed as new.) prefixes: {(water body,
    county, town, village, type): prefix} over the file, as few as there are such combinations."""
    if result.action == Action.ERROR or outfall.code:
        return
    key = (outfall.water_body_id, outfall.county_id, outfall.town_id, outfall.village_id, outfall.type_code)
    prefix = prefixes.get(key)
    if prefix is None:
        prefix = prefixes[key] = outfall.code_prefix()
    try:
        allocator.code(prefix)
    except coding.SequenceExhausted as exhausted:
        result.error(f"{_where(reader, result.number, 'code')}：{exhausted.message}")


def _check_national_code(reader, result, seen):
    """A national code the database would refuse, caught in the preview: used by an earlier row of the file
    (seen: {code: row number}), or by another outfall of the ledger than the one the row updates (named
    only when the user may see it)."""
    code = result.values.get("national_code")
    if not code or result.action == Action.ERROR:
        return
    if code in seen:
        result.error(
            f"{_where(reader, result.number, 'national_code')}：国家统一编码 {code} 与第 {seen[code]} 行重复。"
        )
        return
    seen[code] = result.number
    owner = reader.resolver.by_national_of(code)
    if owner is not None and (result.match is None or owner.id != result.match.id):
        shown = f"排口 {owner.code}" if reader.resolver.in_scope(owner) else "其他辖区的排口"
        result.error(
            f"{_where(reader, result.number, 'national_code')}：国家统一编码 {code} 已被{shown}使用。"
        )


def report_rows(results):
    """(row, action, data) of what the import page lists (LedgerImportRow): every row but those unchanged
    without a note."""
    for r in results:
        if r.action != Action.UNCHANGED or r.notes:
            yield r.number, r.action, r.as_json()


@transaction.atomic
def store_report(record, rows):
    """Keep the report (rows: report_rows(), any iterable), replacing what an earlier run stored, both in one
    transaction; written a chunk at a time (bulk.insert_rows takes the generator so), so a large file's
    report never stands in memory whole."""
    record.rows.all().delete()
    bulk.insert_rows(
        LedgerImportRow, ("ledger_import", "row", "action", "data"), ((record.pk, *row) for row in rows)
    )


def _save_progress(record):
    def progress(done):
        LedgerImport.objects.filter(pk=record.pk).update(rows_done=done)

    return progress


# Rows that stop the commit (errors, possible duplicates) run_preview keeps in hand, the first of them: the
# stored report has every row. (A file of 300,000 rows with a note on most held them all: 400 MiB.)
IN_HAND = 1_000


def run_preview(record, *, user=None, progress=None):
    """The dry run: judge every row and keep the report and the verdicts on the record. Nothing in the ledger
    changes.

    The rows go, as they are judged, to two files on disk (the report's rows and the verdicts,
    ledger_verdicts.Writer) and are let go: memory does not grow with the file. The report is then written
    to the database in one short transaction. Returns a Preview with the counts and the first IN_HAND rows
    that stop the commit (errors, possible duplicates); the import page and the command read every row's
    report, notes included, from the record (LedgerImport.report). progress(rows read) is called as the
    rows are judged (default: kept on the record's rows_done)."""
    user = user or record.created_by
    LedgerImport.objects.filter(pk=record.pk).update(status=LedgerImport.Status.RUNNING)
    counts = {action: 0 for action in Action.LABELS}
    attention = []
    try:
        with record.file.open("rb") as handle, bulk.Spool() as report, ledger_verdicts.Writer() as verdicts:
            table, rows = judged(
                handle,
                filename=record.filename,
                user=user,
                crs=record.crs,
                progress=progress or _save_progress(record),
            )
            for result in rows:
                counts[result.action] += 1
                for row in report_rows((result,)):
                    report.write(row)
                verdicts.add(result)
                if result.action in (Action.ERROR, Action.DUPLICATE) and len(attention) < IN_HAND:
                    attention.append(result)
            counts["rows"] = sum(counts.values())
            if not counts["rows"]:
                raise LedgerImportError(NO_ROWS)
            store_report(record, report)
            verdicts.save(record, user)
    except (LedgerImportError, PermissionDenied) as error:
        record.status, record.error = LedgerImport.Status.FAILED, str(error)
        record.save(update_fields=["status", "error"])
        raise
    record.status = LedgerImport.Status.PREVIEWED
    record.rows_total = record.rows_done = counts["rows"]
    record.counts = counts
    record.error = ""
    record.save(
        update_fields=[
            "status",
            "rows_total",
            "rows_done",
            "counts",
            "error",
            "verdicts",
            "verdicts_key",
        ]
    )
    return Preview(attention, counts, table)


def normalise_decisions(decisions):
    """{row number: decision} from form or command input (keys may be strings); a key that is no row number
    is a ParamError (a 400), not silently dropped."""
    return {
        params.parse_int(str(k).strip(), "decision", minimum=1, label=f"疑似重复的行号“{k}”"): v
        for k, v in (decisions or {}).items()
    }


def check_decisions(duplicate_rows, decisions):
    """Every possible duplicate needs a person's decision; name the rows that have none."""
    undecided = [n for n in duplicate_rows if decisions.get(n) not in DECISIONS]
    if undecided:
        rows = "、".join(str(n) for n in undecided[:20])
        raise LedgerImportError(
            f"第 {rows} 行是疑似重复排口，请逐行选择“作为新排口导入”“更新已有排口”或“跳过”。"
        )


# What may be decided at once for the possible duplicates a person did not decide row by row (as the
# command's --duplicates): "update" needs a row's own choice of the outfall it updates.
REST_DECISIONS = {"new": "全部作为新排口导入", "skip": "全部跳过"}


def start_commit(record, user, decisions=None, rest=""):
    """Check that this user may confirm this import now, and mark it as being written.

    Only the uploader confirms (a citywide user who can see another person's import may not confirm it
    for them); the import must be waiting for confirmation; every possible duplicate in the preview needs
    a decision: its own, or `rest` ("new" or "skip") for those without one (a file with hundreds of them
    spreads over several pages). Returns the decisions as {row number: decision} for `commit`.
    """
    if record.created_by_id != user.pk:
        raise PermissionDenied("只能由上传人确认导入。")
    if record.status != LedgerImport.Status.PREVIEWED:
        raise LedgerImportError(f"该导入当前状态为“{record.get_status_display()}”，不能确认。")
    decisions = normalise_decisions(decisions)
    duplicates = list(
        record.rows.filter(action=Action.DUPLICATE).order_by("row").values_list("row", flat=True)
    )
    if rest:
        if rest not in REST_DECISIONS:
            raise LedgerImportError("未逐行选择的疑似重复行只能“全部作为新排口导入”或“全部跳过”。")
        for number in duplicates:
            if decisions.get(number) not in DECISIONS:
                decisions[number] = rest
    check_decisions(duplicates, decisions)
    updated = LedgerImport.objects.filter(pk=record.pk, status=LedgerImport.Status.PREVIEWED).update(
        status=LedgerImport.Status.COMMITTING, rows_done=0
    )
    if not updated:  # confirmed twice at the same moment
        raise LedgerImportError("该导入正在写入或已导入，不能再次确认。")
    return decisions


def commit(record, user, decisions=None, progress=None):
    """Write the whole import, or nothing. decisions: {row number: "new" | "update" | "skip"} for duplicates.
    progress(done, total): told as the outfalls are written (the job's progress bar)."""
    decisions = normalise_decisions(decisions)
    # The dry run's verdicts, while the ledger has not moved since (read from their file again on each pass).
    preview = ledger_verdicts.load(record, user)
    if preview is None:
        with record.file.open("rb") as handle:
            preview = interpret(handle, filename=record.filename, user=user, crs=record.crs, validate=False)
    if preview.counts.get(Action.ERROR):
        raise LedgerImportError(
            f"有 {preview.counts[Action.ERROR]} 行错误，未导入任何数据。请修改文件后重新上传。"
        )
    decided = {result.number: result for result in preview.duplicates}
    check_decisions(list(decided), decisions)
    for result in decided.values():
        decision = decisions[result.number]
        if decision == "skip":
            result.action = Action.SKIP
        elif decision == "new":
            result.action = Action.NEW
        else:
            target = next((c for _, c in result.candidates if isinstance(c, Existing)), None)
            if target is None:
                raise LedgerImportError(
                    f"第 {result.number} 行的疑似重复对象是文件中的另一行，只能选择新增或跳过。"
                )
            result.match = target
            result.action = Action.UPDATE
            result.changes = _compare(result, Outfall.objects.for_list().get(pk=target.id))

    def rows():  # every row as decided, a pass at a time
        return (decided.get(result.number, result) for result in preview.results)

    try:
        with transaction.atomic():
            _apply(record, user, rows, progress)
    except ValidationError as error:
        lines = error.messages
        shown = "；".join(lines[:20]) + (f"；等共 {len(lines)} 处" if len(lines) > 20 else "")
        raise LedgerImportError(f"未导入任何数据：{shown}") from None
    return preview


def _apply(record, user, rows, progress=None):
    """Write the judged rows through the registry's services: new units (services.create_units), new and
    updated outfalls (services.save_outfalls: the same rules as the form, one code allocator, bulk writes with
    history rows naming the import, status-change rows, owner links, spatial checks).

    rows() gives every row as decided, once per pass (stored verdicts are decoded again each time): the
    units, the counts and the rows that update (first pass), then the new outfalls (streamed to
    save_outfalls). Each row's report goes to a spool as the row is written and to the database at the end.
    What is held meanwhile: the new units and the outfalls being updated."""
    reason = record.history_reason
    now = timezone.now()
    new_units, updating = {}, []  # units named in the file that the platform does not know yet
    counts = {action: 0 for action in Action.LABELS}
    for result in rows():
        counts[result.action] += 1
        if result.action == Action.UPDATE:
            updating.append(result)
        if result.unit is not None and result.action in (Action.NEW, Action.UPDATE):
            key = _norm(result.unit["name"])
            if key not in new_units:
                new_units[key] = DischargeUnit(
                    name=result.unit["name"],
                    kind=result.unit["kind"],
                    county=result.values["county"],
                    lon=result.unit["lon"],
                    lat=result.unit["lat"],
                )
    counts["rows"] = sum(counts.values())
    if new_units:
        services.create_units(list(new_units.values()), user=user, reason=reason)

    def entity_of(result):
        if result.unit is not None:
            return new_units[_norm(result.unit["name"])]
        return result.values.get("responsible_entity")

    with bulk.Spool() as report:  # the report's rows, written as the rows are (no pass after the writing)

        def reported(result, outfall=None):
            if outfall is not None:
                result.outfall = Written(outfall.pk, outfall.code, outfall.name)
            for row in report_rows((result,)):
                report.write(row)

        def new_outfalls():  # one at a time: save_outfalls writes them a batch at a time and lets them go
            for result in rows():
                if result.action == Action.NEW:
                    outfall = _new_outfall(result, entity_of(result))
                    yield services.New(
                        outfall,
                        owner=outfall.responsible_entity,
                        label=f"第 {result.number} 行",
                        saved=lambda outfall, result=result: reported(result, outfall),
                    )
                elif result.action != Action.UPDATE:
                    reported(result)

        updates, changed_fields = [], set()
        for start in range(0, len(updating), BATCH):
            chunk = updating[start : start + BATCH]
            outfalls = Outfall.objects.for_list().in_bulk([r.match.id for r in chunk])
            for result in chunk:
                outfall, old = _updated_outfall(result, outfalls[result.match.id], entity_of(result))
                changed_fields |= outfall._import_fields
                updates.append(services.Changed(outfall, old, label=f"第 {result.number} 行"))
        saved = services.save_outfalls(
            new_outfalls(),
            updates,
            user=user,
            reason=reason,
            update_fields=changed_fields,
            count=counts[Action.NEW],
            progress=progress,
        )
        for result, change in zip(updating, updates, strict=True):
            reported(result, change.outfall)
        store_report(record, report)

    record.status = LedgerImport.Status.COMMITTED
    record.committed_at = now
    record.created_ids = saved.created
    record.updated_ids = [o.pk for o in saved.updated]
    record.created_unit_ids = [u.id for u in new_units.values()]
    record.counts = counts
    record.save()


class Written(NamedTuple):
    """What the import's report names of the outfall a row created or updated (not the whole instance)."""

    pk: int
    code: str
    name: str


def _new_outfall(result, entity):
    """The outfall a new row describes (not saved; services.save_outfalls names and codes it)."""
    values = {
        k: v for k, v in result.values.items() if k not in ("responsible_entity", "responsibility_note")
    }
    outfall = services.new_outfall(status=LifecycleStatus.VERIFIED, **values)
    entity = entity if entity is not None else result.values.get("responsible_entity")
    if entity is not None:
        outfall.responsible_entity = entity
        outfall.responsibility_basis = ResponsibilityBasis.DECLARED
        outfall.landmark = entity.name
    elif result.unit is not None:
        outfall.responsibility_note = result.unit["name"]
    outfall.name_auto = "name" not in values
    return outfall


def _updated_outfall(result, outfall, entity=None):
    """(the outfall with the row's cells applied, its snapshot before); the fields set are in _import_fields."""
    old = services.snapshot(outfall)
    fields = set()
    for name, value in result.values.items():
        if name == "responsibility_note":
            continue
        setattr(outfall, name, value)
        fields.add(name)
    if result.unit is not None and entity is not None:
        outfall.responsible_entity = entity
        fields.add("responsible_entity")
    if any(label == FIELD_LABELS["name"] for label, _, _ in result.changes):
        outfall.name_auto = False  # a name typed in the file wins over the generated one
        fields.add("name_auto")
    outfall._import_fields = fields
    return outfall, old
