"""Discharge permits from a CSV or xlsx a user makes from the national permit system's export (全国排污许可证管理
信息平台): one row per permitted parameter at one outlet; the permit's and the outlet's columns repeat on each
row (or are left blank after the first). All or nothing: every row is read and checked first, one bad row writes
nothing, and each message names the row and the column. A permit already registered is replaced.

The xlsx goes through registry/xlsx_guard.py before a reader opens it (registry.ledger_reader.read_plain_rows);
a file holds at most PERMITS_IMPORT_MAX_ROWS rows, so an import stays a few seconds and runs with the request.
The columns are COLUMNS (docs/permits.md lists them).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from outfalls.registry.ledger_reader import LedgerFileError, read_plain_rows
from outfalls.registry.ledger_values import normalise, parse_date
from outfalls.registry.models import DischargeUnit, Outfall

from .choices import Averaging
from .models import DischargePermit
from .permit_services import check_can_keep, permit_errors, save_permit


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    level: str  # permit, outlet or row
    required: bool
    help: str
    aliases: tuple = ()


COLUMNS = (
    Column(
        "number",
        "许可证编号",
        "permit",
        True,
        "HJ 608：统一社会信用代码＋3 位流水号＋1 位字母",
        ("排污许可证编号",),
    ),
    Column(
        "unit_name", "单位名称", "permit", False, "核对用：须与平台中该信用代码的单位同名", ("排污单位名称",)
    ),
    Column(
        "credit_code", "统一社会信用代码", "permit", True, "持证单位；须已在平台排污单位中登记", ("信用代码",)
    ),
    Column("valid_from", "有效期起", "permit", True, "日期，如 2023-05-04", ("有效期限起",)),
    Column("valid_until", "有效期至", "permit", True, "日期", ("有效期限止", "有效期止")),
    Column("issued_by", "发证机关", "permit", False, "", ()),
    Column("issued_on", "发证日期", "permit", False, "日期", ()),
    Column("self_monitoring", "自行监测要求", "permit", False, "总体要求（文字）", ()),
    Column("disclosure", "信息公开要求", "permit", False, "文字", ()),
    Column("outlet_code", "排放口编号", "outlet", False, "许可证中的编号，如 DW001", ("排污口编号",)),
    Column(
        "outfall_code", "入河排污口编码", "outlet", True, "平台的排污口编码或国家统一编码", ("排污口编码",)
    ),
    Column("share_percent", "责任份额（%）", "outlet", False, "共用排口时本单位的份额，0–100", ("责任份额",)),
    Column("share_note", "责任分担说明", "outlet", False, "共用排口时的责任划分", ()),
    Column(
        "parameter", "污染物", "row", False, "如 化学需氧量；留空则该行只登记排口", ("污染物种类", "监测项目")
    ),
    Column("limit_value", "许可限值", "row", False, "数字；有污染物时必填", ("许可排放浓度限值", "排放限值")),
    Column("lower_value", "限值下限", "row", False, "如 pH 6–9 的 6", ()),
    Column("unit", "单位", "row", False, "默认 mg/L", ("计量单位",)),
    Column("averaging", "平均时间", "row", False, "瞬时值、小时均值、日均值、月均值、年均值；默认日均值", ()),
    Column("standard", "执行标准", "row", False, "如 GB 18918-2002 一级A", ("执行标准名称",)),
    Column(
        "frequency",
        "监测频次",
        "row",
        False,
        "填写则记为该污染物的自行监测要求，如 1次/月",
        ("自行监测频次",),
    ),
)
HEADER_SCAN_ROWS = 20  # the header row must be within the first rows (a title may stand above it)
HEADER_MIN_COLUMNS = 3
BY_HEADER = {normalise(name): c for c in COLUMNS for name in (c.header, *c.aliases)}
AVERAGING = {normalise(c.label): c.value for c in Averaging} | {
    normalise(c.value): c.value for c in Averaging
}


@dataclass
class ImportResult:
    filename: str
    dry_run: bool = False
    errors: list = field(default_factory=list)
    permits: list = field(default_factory=list)  # (number, unit name, outfalls, limits, new?)
    rows: int = 0

    @property
    def ok(self):
        return not self.errors and bool(self.permits)

    @property
    def summary(self):
        new = sum(1 for p in self.permits if p[4])
        verb = "检查通过，可导入" if self.dry_run else "已导入"
        return f"{verb}排污许可证 {len(self.permits)} 张（新登记 {new} 张，更新 {len(self.permits) - new} 张），共 {self.rows} 行。"


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value, label, errors, *, low=None, high=None):
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text.replace("，", ".").replace(",", "."))
    except ValueError:
        errors.append(f"{label}：“{text[:30]}”不是数字。")
        return None
    if low is not None and number < low or high is not None and number > high:
        errors.append(f"{label}：{text} 超出范围（{low}–{high}）。")
        return None
    return number


def _header(cells):
    mapping, unknown = {}, []
    for index, cell in enumerate(cells):
        text = _text(cell)
        if not text:
            continue
        column = BY_HEADER.get(normalise(text))
        if column is None:
            unknown.append(text)
        elif column.key not in mapping:
            mapping[column.key] = index
    return mapping, unknown


def read(upload, filename):
    """(header mapping, [(row number, {key: value})], errors) from the file."""
    rows, errors = [], []
    iterator = read_plain_rows(upload, filename=filename)
    mapping = None
    limit = settings.PERMITS_IMPORT_MAX_ROWS
    for number, cells in iterator:
        if mapping is None:
            if not any(_text(c) for c in cells):
                continue
            found, _ = _header(cells)
            if len(found) < HEADER_MIN_COLUMNS:  # a title above the table
                if number >= HEADER_SCAN_ROWS:
                    break
                continue
            mapping = found
            missing = [c.header for c in COLUMNS if c.required and c.key not in mapping]
            if missing:
                errors.append(f"第 {number} 行（表头）缺少列：{'、'.join(missing)}。列名见导入说明。")
                return mapping, rows, errors
            continue
        if not any(_text(c) for c in cells):
            continue
        rows.append((number, {key: cells[i] if i < len(cells) else None for key, i in mapping.items()}))
        if len(rows) > limit:
            errors.append(f"一次最多导入 {limit} 行，请分成几个文件。")
            return mapping, rows, errors
    if mapping is None:
        errors.append(
            f"前 {HEADER_SCAN_ROWS} 行中没有找到表头（需要一行中至少有 {HEADER_MIN_COLUMNS} 个可识别的列名，"
            "如“许可证编号”“统一社会信用代码”“入河排污口编码”），列名见导入说明。"
        )
    elif not rows:
        errors.append("文件中没有数据行。")
    return mapping, rows, errors


def _label(number, key):
    column = next(c for c in COLUMNS if c.key == key)
    return f"第 {number} 行“{column.header}”"


def plan(rows):
    """Group rows into permits and check them: ({permit number: (fields, entries, first row)}, errors)."""
    errors = []
    credit_codes = {_text(v.get("credit_code")).upper() for _, v in rows}
    units = {u.credit_code: u for u in DischargeUnit.objects.filter(credit_code__in=credit_codes - {""})}
    codes = {_text(v.get("outfall_code")) for _, v in rows} - {""}
    outfalls = {}
    for o in Outfall.objects.filter(Q(code__in=codes) | Q(national_code__in=codes)).only(
        "id", "code", "national_code", "name"
    ):
        outfalls[o.code] = o
        if o.national_code:
            outfalls[o.national_code] = o
    permits = {}
    for number, values in rows:
        row_errors = []
        permit_number = _text(values.get("number")).upper()
        if not permit_number:
            errors.append(f"{_label(number, 'number')}：为空。")
            continue
        fields = {"number": permit_number}
        credit = _text(values.get("credit_code")).upper()
        unit = units.get(credit)
        if credit and unit is None:
            row_errors.append(
                f"{_label(number, 'credit_code')}：平台中没有统一社会信用代码为 {credit} 的排污单位，请先登记该单位。"
            )
        if unit is not None:
            fields["unit"] = unit
            name = _text(values.get("unit_name"))
            if name and name != unit.name:
                row_errors.append(
                    f"{_label(number, 'unit_name')}：“{name[:40]}”与平台中该信用代码的单位“{unit.name}”不一致。"
                )
        for key in ("valid_from", "valid_until", "issued_on"):
            value, problem = parse_date(values.get(key))
            if problem:
                row_errors.append(f"{_label(number, key)}：{problem}")
            elif value is not None:
                fields[key] = value
        for key in ("issued_by", "self_monitoring", "disclosure"):
            text = _text(values.get(key))
            if text:
                fields[key] = text
        code = _text(values.get("outfall_code"))
        outfall = outfalls.get(code)
        if not code:
            row_errors.append(f"{_label(number, 'outfall_code')}：为空。")
        elif outfall is None:
            row_errors.append(
                f"{_label(number, 'outfall_code')}：台账中没有编码为 {code[:48]} 的入河排污口。"
            )
        entry = {}
        if outfall is not None:
            entry = {
                "outfall": outfall,
                "outlet_code": _text(values.get("outlet_code"))[:16],
                "share_note": _text(values.get("share_note"))[:200],
            }
            share = _number(
                values.get("share_percent"), _label(number, "share_percent"), row_errors, low=0, high=100
            )
            if share is not None:
                entry["share_percent"] = int(round(share))
        limit, duty = _limit(number, values, row_errors)
        if row_errors:
            errors += row_errors
            continue
        current = permits.setdefault(permit_number, ({}, {}, number))
        _merge_fields(current[0], fields, number, errors)
        if outfall is not None:
            held = current[1].setdefault(outfall.pk, {**entry, "limits": [], "monitoring": []})
            for key in ("outlet_code", "share_note", "share_percent"):
                if entry.get(key) not in (None, "") and held.get(key) in (None, ""):
                    held[key] = entry[key]
                elif entry.get(key) not in (None, "") and held.get(key) != entry[key]:
                    errors.append(f"{_label(number, key)}：同一排口前面的行写的是“{held[key]}”。")
            if limit:
                held["limits"].append(limit)
            if duty:
                held["monitoring"].append(duty)
    for permit_number, (fields, entries, first) in permits.items():
        for key in ("unit", "valid_from", "valid_until"):
            if key not in fields:
                errors.append(
                    f"{_label(first, 'credit_code' if key == 'unit' else key)}：许可证 {permit_number} 缺少该项。"
                )
        if {"unit", "valid_from", "valid_until"} <= set(fields):
            errors += permit_errors(
                DischargePermit(**fields),
                list(entries.values()),
                label=f"许可证 {permit_number}（第 {first} 行起）：",
            )
    return permits, errors


def _merge_fields(held, fields, number, errors):
    for key, value in fields.items():
        if key not in held:
            held[key] = value
        elif held[key] != value:
            errors.append(
                f"{_label(number, 'credit_code' if key == 'unit' else key)}：与同一许可证前面的行不一致。"
            )


def _limit(number, values, errors):
    parameter = _text(values.get("parameter"))[:32]
    if not parameter:
        return None, None
    limit = None
    value = _number(values.get("limit_value"), _label(number, "limit_value"), errors)
    lower = _number(values.get("lower_value"), _label(number, "lower_value"), errors)
    averaging_text = _text(values.get("averaging"))
    averaging = AVERAGING.get(normalise(averaging_text)) if averaging_text else Averaging.DAILY.value
    if averaging is None:
        labels = "、".join(c.label for c in Averaging)
        errors.append(f"{_label(number, 'averaging')}：“{averaging_text[:20]}”无法识别，应为：{labels}。")
    if value is not None:
        limit = {
            "parameter": parameter,
            "limit_value": value,
            "lower_value": lower,
            "unit": (_text(values.get("unit")) or "mg/L")[:16],
            "averaging": averaging or Averaging.DAILY.value,
            "standard": _text(values.get("standard"))[:100],
        }
    frequency = _text(values.get("frequency"))[:32]
    duty = {"parameter": parameter, "frequency": frequency} if frequency else None
    if value is None and duty is None and not errors:
        errors.append(
            f"{_label(number, 'limit_value')}：填写了污染物“{parameter}”，须填写许可限值或监测频次。"
        )
    return limit, duty


def import_file(upload, *, filename, user, dry_run=False):
    """Read, check and (unless dry_run) save every permit of the file in one transaction: all or nothing."""
    check_can_keep(user)
    result = ImportResult(filename=filename, dry_run=dry_run)
    try:
        _, rows, errors = read(upload, filename)
    except LedgerFileError as error:
        result.errors.append(str(error))
        return result
    result.rows = len(rows)
    if errors:
        result.errors += errors
        return result
    permits, errors = plan(rows)
    if errors:
        result.errors += errors
        return result
    existing = set(DischargePermit.objects.filter(number__in=list(permits)).values_list("number", flat=True))
    for permit_number, (fields, entries, _) in permits.items():
        result.permits.append(
            (
                permit_number,
                fields["unit"].name,
                len(entries),
                sum(len(e["limits"]) for e in entries.values()),
                permit_number not in existing,
            )
        )
    if dry_run:
        return result
    try:
        with transaction.atomic():
            for fields, entries, _ in permits.values():
                save_permit(
                    {**fields, "source": f"导入：{filename}"[:200]}, list(entries.values()), user=user
                )
    except ValidationError as error:
        result.errors += error.messages
    except PermissionDenied as error:
        result.errors.append(str(error))
    return result
