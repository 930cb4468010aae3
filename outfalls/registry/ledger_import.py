"""Importing attachment-1 tables (信息汇总表) as counties fill them in.

    record = LedgerImport.objects.create(created_by=user, file=upload, filename=name, crs="gcj02")
    preview = run_preview(record)          # every row: new / update / unchanged / duplicate / error
    commit(record, user, decisions={12: "new"})   # all rows or none

The file is read by `ledger_reader` (which finds the table); each row is judged by `ledger_rows` (values
read by `ledger_values` and `geo.coords`, names resolved against the database, matched with the existing
ledger by code, then name, then distance: an outfall of the same type within 30 m is a possible duplicate
for a person to decide; nothing is merged silently). A commit re-reads the stored file, refuses if any row
has an error or an undecided duplicate, and writes everything in one transaction, with history rows that
carry the import's number.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from outfalls.core.models import StatusChange
from outfalls.geo import coords

from . import checks, coding
from .choices import LifecycleStatus, LinkRole, ResponsibilityBasis
from .classification import LEVEL2_CODE, TypeCode
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
)
from .models import DischargeUnit, LedgerImport, Outfall, OutfallUnitLink

PROGRESS_EVERY = 500
BATCH = 2000


def interpret(file, *, filename, user, crs="cgcs2000", progress=None):
    """Read a file and judge every row. Raises LedgerImportError for a file that cannot be read at all."""
    try:
        table = read_table(file, filename=filename)
    except LedgerFileError as error:
        raise LedgerImportError(str(error))
    resolver = Resolver(user)
    reader = RowReader(table, resolver, coords.CRS(crs))
    results = []
    for raw in table.rows():
        results.append(reader.read(raw))
        if progress and len(results) % PROGRESS_EVERY == 0:
            progress(len(results))
    if not results:
        raise LedgerImportError("文件中找到了表头，但表头下没有数据行。")
    # Compare matched rows with the outfalls they update, in batches.
    matched = [r for r in results if r.match is not None and r.action != Action.ERROR]
    for start in range(0, len(matched), BATCH):
        chunk = matched[start : start + BATCH]
        outfalls = Outfall.objects.for_list().in_bulk([r.match.id for r in chunk])
        for result in chunk:
            result.changes = _compare(result, outfalls[result.match.id])
            result.action = Action.UPDATE if result.changes else Action.UNCHANGED
    counts = {action: 0 for action in Action.LABELS}
    for result in results:
        counts[result.action] += 1
    counts["rows"] = len(results)
    return Preview(results, counts, table)


def _save_progress(record):
    def progress(done):
        LedgerImport.objects.filter(pk=record.pk).update(rows_done=done)

    return progress


def run_preview(record, *, user=None):
    """The dry run: judge every row and keep the report on the record. Nothing in the ledger changes."""
    user = user or record.created_by
    LedgerImport.objects.filter(pk=record.pk).update(status=LedgerImport.Status.RUNNING)
    try:
        with record.file.open("rb") as handle:
            preview = interpret(
                handle, filename=record.filename, user=user, crs=record.crs, progress=_save_progress(record)
            )
    except (LedgerImportError, PermissionDenied) as error:
        record.status, record.error = LedgerImport.Status.FAILED, str(error)
        record.save(update_fields=["status", "error"])
        raise
    record.status = LedgerImport.Status.PREVIEWED
    record.rows_total = record.rows_done = len(preview.results)
    record.counts = preview.counts
    record.report = [r.as_json() for r in preview.results if r.action != Action.UNCHANGED]
    record.error = ""
    record.save(update_fields=["status", "rows_total", "rows_done", "counts", "report", "error"])
    return preview


class CodeAllocator:
    """Local codes for many new outfalls at once: one query per code prefix, then counting up."""

    def __init__(self):
        self.next = {}

    def code(self, outfall):
        prefix = outfall.code_prefix()
        if prefix not in self.next:
            existing = Outfall.objects.filter(code__startswith=prefix).values_list("code", flat=True)
            last = coding.sequence_of(coding.next_code(existing, prefix), prefix)
            self.next[prefix] = last
        seq = self.next[prefix]
        self.next[prefix] = seq + 1
        return coding.format_code(prefix, seq)


def normalise_decisions(decisions):
    """{row number: decision} from form or command input (keys may be strings)."""
    return {int(k): v for k, v in (decisions or {}).items() if str(k).strip().isdigit()}


def check_decisions(duplicate_rows, decisions):
    """Every possible duplicate needs a person's decision; name the rows that have none."""
    undecided = [n for n in duplicate_rows if decisions.get(n) not in DECISIONS]
    if undecided:
        rows = "、".join(str(n) for n in undecided[:20])
        raise LedgerImportError(
            f"第 {rows} 行是疑似重复排口，请逐行选择“作为新排口导入”“更新已有排口”或“跳过”。"
        )


def start_commit(record, user, decisions=None):
    """Check that this user may confirm this import now, and mark it as being written.

    Only the uploader confirms (a citywide user who can see another person's import may not confirm it
    for them); the import must be waiting for confirmation; every possible duplicate in the preview needs
    a decision. Returns the decisions as {row number: decision} for `commit`.
    """
    if record.created_by_id != user.pk:
        raise PermissionDenied("只能由上传人确认导入。")
    if record.status != LedgerImport.Status.PREVIEWED:
        raise LedgerImportError(f"该导入当前状态为“{record.get_status_display()}”，不能确认。")
    decisions = normalise_decisions(decisions)
    check_decisions([r["row"] for r in record.report if r["action"] == Action.DUPLICATE], decisions)
    updated = LedgerImport.objects.filter(pk=record.pk, status=LedgerImport.Status.PREVIEWED).update(
        status=LedgerImport.Status.COMMITTING, rows_done=0
    )
    if not updated:  # confirmed twice at the same moment
        raise LedgerImportError("该导入正在写入或已导入，不能再次确认。")
    return decisions


def commit(record, user, decisions=None):
    """Write the whole import, or nothing. decisions: {row number: "new" | "update" | "skip"} for duplicates."""
    decisions = normalise_decisions(decisions)
    with record.file.open("rb") as handle:
        preview = interpret(handle, filename=record.filename, user=user, crs=record.crs)
    if preview.errors:
        raise LedgerImportError(f"有 {len(preview.errors)} 行错误，未导入任何数据。请修改文件后重新上传。")
    check_decisions([r.number for r in preview.duplicates], decisions)
    for result in preview.duplicates:
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
    with transaction.atomic():
        _apply(record, user, preview)
    return preview


def _apply(record, user, preview):
    reason = record.history_reason
    now = timezone.now()
    # Units named in the file that the platform does not know yet.
    new_units = {}
    for result in preview.results:
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
    if new_units:
        bulk_create_with_history(list(new_units.values()), DischargeUnit, batch_size=BATCH, default_user=user,
                                 default_change_reason=reason)  # fmt: skip
        created = {
            _norm(u.name): u
            for u in DischargeUnit.objects.filter(name__in=[u.name for u in new_units.values()])
        }
        new_units = {k: created[k] for k in new_units}

    def entity_of(result):
        if result.unit is not None:
            return new_units[_norm(result.unit["name"])]
        return result.values.get("responsible_entity")

    # New outfalls, a batch at a time (memory stays flat however long the file).
    allocator = CodeAllocator()
    content_type = _outfall_type()
    new_results = [r for r in preview.results if r.action == Action.NEW]
    created_ids = []
    for start in range(0, len(new_results), BATCH):
        batch = [_new_outfall(r, entity_of(r), allocator) for r in new_results[start : start + BATCH]]
        saved = bulk_create_with_history(batch, Outfall, default_user=user, default_change_reason=reason)
        _create_links(
            [
                OutfallUnitLink(outfall_id=o.pk, unit_id=o.responsible_entity_id, role=LinkRole.OWNER)
                for o in saved
                if o.responsible_entity_id
            ],
            user,
            reason,
        )
        StatusChange.objects.bulk_create(
            [
                StatusChange(content_type=content_type, object_id=o.pk, from_value="", to_value=o.status,
                             reason=reason, changed_by=user)
                for o in saved
            ]
        )  # fmt: skip
        created_ids += [o.pk for o in saved]

    # Updates.
    updating = [r for r in preview.results if r.action == Action.UPDATE]
    changed_fields = set()
    updated = []
    for start in range(0, len(updating), BATCH):
        chunk = updating[start : start + BATCH]
        outfalls = Outfall.objects.in_bulk([r.match.id for r in chunk])
        for result in chunk:
            outfall = outfalls[result.match.id]
            for name, value in result.values.items():
                if name == "responsibility_note":
                    continue
                setattr(outfall, name, value)
                changed_fields.add(name)
            entity = entity_of(result)
            if result.unit is not None and entity is not None:
                outfall.responsible_entity = entity
                changed_fields.add("responsible_entity")
            if any(label == FIELD_LABELS["name"] for label, _, _ in result.changes):
                outfall.name_auto = False  # a name typed in the file wins over the generated one
                changed_fields.add("name_auto")
            outfall.updated_at = now
            updated.append(outfall)
    if updated:
        fields = sorted(changed_fields | {"updated_at"})
        bulk_update_with_history(
            updated, Outfall, fields, batch_size=BATCH, default_user=user, default_change_reason=reason
        )

    # The spatial checks for every outfall written (findings; 断面区间 where empty).
    checks.check_outfalls(created_ids + [o.id for o in updated], user=user)

    record.status = LedgerImport.Status.COMMITTED
    record.committed_at = now
    record.created_ids = created_ids
    record.updated_ids = [o.id for o in updated]
    record.created_unit_ids = [u.id for u in new_units.values()]
    counts = {action: 0 for action in Action.LABELS}
    for result in preview.results:
        counts[result.action] += 1
    counts["rows"] = len(preview.results)
    record.counts = counts
    record.report = [r.as_json() for r in preview.results if r.action != Action.UNCHANGED]
    record.save()


def _new_outfall(result, entity, allocator):
    values = {
        k: v for k, v in result.values.items() if k not in ("responsible_entity", "responsibility_note")
    }
    outfall = Outfall(status=LifecycleStatus.VERIFIED, **values)
    if entity is not None:
        outfall.responsible_entity = entity
        outfall.responsibility_basis = ResponsibilityBasis.DECLARED
        outfall.landmark = entity.name
    outfall.name_auto = "name" not in values
    if outfall.name_auto:
        outfall.name = outfall.generated_name()
    if outfall.type_level2 and outfall.type_code in (TypeCode.UNDETERMINED, ""):
        outfall.type_code = LEVEL2_CODE[outfall.type_level2]
    outfall.code = allocator.code(outfall)
    return outfall


def _create_links(links, user, reason):
    if links:
        bulk_create_with_history(
            links, OutfallUnitLink, batch_size=BATCH, default_user=user, default_change_reason=reason
        )


def _outfall_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Outfall)
