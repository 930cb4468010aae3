"""国家统一编码回写: the national codes the national platform assigned, written back to the ledger from a file of
(local code, national code) pairs, as the province or the national platform hands them out (.xlsx or .csv, any
sheet layout with a header row naming both columns).

All or nothing: every row is checked first (the local code names an outfall of the ledger; the national code is
filled, follows the same field rules as a form's, is not repeated in the file, and is not another outfall's),
and any refusal names its row; only then is each changed outfall saved through services.save_outfall, with a
history row citing the file, in one transaction. The city bureau's editors write them
(Scope.can_write_national_codes). A pair that only repeats what the ledger holds changes nothing.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from outfalls.core.scopes import scope_of
from outfalls.core.spreadsheets import is_sign_off

from . import services
from .ledger_reader import LedgerFileError, read_plain_rows
from .models import Outfall

LOCAL_HEADERS = ("入河排污口编码", "排污口编码", "本地编码", "地方编码", "编码")
NATIONAL_HEADERS = ("国家统一编码", "国家编码", "国家统一赋码", "统一编码")
# What a code from the national platform looks like: letters, digits and hyphens (a cell holding anything else,
# such as a formula or a note, is a wrong column or a typo).
NATIONAL_CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{3,47}")
HEADER_ROWS = 10  # the header is looked for in the first rows (a title row may come first)
MAX_ROWS = 200_000


class WriteBackError(Exception):
    """The file was refused: messages (Chinese), each naming its row where it has one."""

    def __init__(self, messages):
        super().__init__("；".join(messages[:5]))
        self.messages = messages


@dataclass
class Result:
    rows: int = 0
    changed: list = field(default_factory=list)  # (row, local code, old national code, new national code)
    unchanged: int = 0


def _text(value):
    return "" if value is None else str(value).strip()


def _columns(header):
    names = [_text(v).replace(" ", "") for v in header]

    def find(candidates):
        return next((i for i, name in enumerate(names) if name in candidates), None)

    return find(LOCAL_HEADERS), find(NATIONAL_HEADERS)


def read_pairs(file, *, filename):
    """[(row number, local code, national code)] of the file; a WriteBackError for a file without the two
    columns or that cannot be read."""
    try:
        rows = read_plain_rows(file, filename=filename)
        pairs, local_at, national_at = [], None, None
        for number, values in rows:
            if local_at is None:
                if number > HEADER_ROWS:
                    break
                local_at, national_at = _columns(values)
                if local_at is None or national_at is None:
                    local_at = national_at = None
                continue
            if is_sign_off(values):
                continue  # the sign-off line under one of the platform's own tables, returned filled in
            local = _text(values[local_at]) if local_at < len(values) else ""
            national = _text(values[national_at]) if national_at < len(values) else ""
            if local or national:
                pairs.append((number, local, national))
            if len(pairs) > MAX_ROWS:
                raise WriteBackError([f"文件超过 {MAX_ROWS} 行，请分批回写。"])
    except LedgerFileError as error:
        raise WriteBackError([str(error)]) from None
    if local_at is None:
        raise WriteBackError(
            [f"文件前 {HEADER_ROWS} 行中没有找到表头：须有“入河排污口编码”和“国家统一编码”两列。"]
        )
    if not pairs:
        raise WriteBackError(["表头下没有数据行。"])
    return pairs


def _judge(pairs, user):
    """(the outfalls to change as (row, outfall, old, new), unchanged count, messages)."""
    messages, seen_local, seen_national = [], {}, {}
    outfalls = {o.code: o for o in Outfall.objects.editable_by(user).filter(code__in=[p[1] for p in pairs])}
    holders = dict(
        Outfall.objects.filter(national_code__in=[p[2].upper() for p in pairs if p[2]]).values_list(
            "national_code", "code"
        )
    )
    changes, unchanged = [], 0
    for number, local, national in pairs:
        national = national.upper()
        where = f"第 {number} 行"
        if not local:
            messages.append(f"{where}：入河排污口编码为空。")
            continue
        if not national:
            messages.append(f"{where}：排口 {local} 的国家统一编码为空。")
            continue
        if not NATIONAL_CODE.fullmatch(national):
            shown = national[:30]
            messages.append(f"{where}：国家统一编码“{shown}”只能由字母、数字和连字符组成（4 至 48 位）。")
            continue
        if local in seen_local:
            messages.append(f"{where}：排口 {local} 与第 {seen_local[local]} 行重复。")
            continue
        seen_local[local] = number
        if national in seen_national:
            messages.append(f"{where}：国家统一编码 {national} 与第 {seen_national[national]} 行重复。")
            continue
        seen_national[national] = number
        outfall = outfalls.get(local)
        if outfall is None:
            messages.append(f"{where}：平台中没有编码为 {local} 的入河排污口（或不在您的范围内）。")
            continue
        if outfall.national_code == national:
            unchanged += 1
            continue
        holder = holders.get(national)
        if holder is not None and holder != local:
            messages.append(f"{where}：国家统一编码 {national} 已被排口 {holder} 使用。")
            continue
        old = outfall.national_code
        outfall.national_code = national
        errors = services.validate_outfall(outfall, user=user, unique=False, fields=["national_code"])
        if errors:
            messages.extend(f"{where}：{message}" for message in errors.values())
            continue
        changes.append((number, outfall, old, national))
    return changes, unchanged, messages


def write_back(file, *, filename, user, dry_run=False):
    """Check every pair, then (unless dry_run) write the changed national codes. Returns a Result; raises
    WriteBackError naming every refused row (nothing is written then), PermissionDenied for a user who may not."""
    if not scope_of(user).can_write_national_codes:
        raise PermissionDenied("国家统一编码由市生态环境局回写。")
    pairs = read_pairs(file, filename=filename)
    changes, unchanged, messages = _judge(pairs, user)
    if messages:
        raise WriteBackError(messages)
    result = Result(rows=len(pairs), unchanged=unchanged)
    result.changed = [(number, o.code, old, new) for number, o, old, new in changes]
    if dry_run:
        return result
    reason = f"国家统一编码回写（{filename}）"
    with transaction.atomic():  # a refusal on any row rolls back the rows saved before it
        for number, outfall, _old, _new in changes:
            try:
                services.save_outfall(outfall, user=user, reason=reason, confirm_placement=True)
            except ValidationError as error:
                raise WriteBackError([f"第 {number} 行：{m}" for m in error.messages]) from None
    return result
