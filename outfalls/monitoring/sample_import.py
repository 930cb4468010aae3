"""A lab's results file (CSV or xlsx) into samples: all or nothing, every problem named by row and column, and
the same file (or the same samples) twice changes nothing.

The file is a table with one header row and one row per sample (docs/monitoring.md):

    排污口编码 | 采样时间 | 样品编号 | 采样地点 | 流量 | 流量单位 | 天气 | 检测单位 | 化学需氧量(mg/L) | 氨氮(mg/L) | pH | …

- the place: 排污口编码 (the local or the national code) or 断面 (a section's name, or 河流·断面);
- 采样时间: 2024-03-05 10:30, 2024/3/5 10:30, 2024年3月5日 10:30 or a spreadsheet date-time;
- a column per parameter: its name or code (化学需氧量, COD, CODcr, 氨氮, NH3-N …) with the unit in brackets
  (mg/L when none is given); values as monitoring/values.py reads them (12.3, <0.05, 0.05L, 未检出, 约12);
- optional: 样品编号 (the lab's number: with it, the lab and number identify the sample), 采样地点, 流量 and
  流量单位 (or the unit in the header: 流量(m3/d)), 天气 (旱天/雨天), 检测单位 (else the one given at upload),
  备注.

A column the reader does not know is refused (naming it), so nothing in the file is silently dropped.
"""

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from outfalls.registry.models import Outfall, Section
from outfalls.registry.xlsx_guard import WorkbookRefused, check_workbook

from . import services
from .choices import ImportStatus, Weather
from .models import Parameter, SampleImport

MAX_ROWS = 20000
MAX_ERRORS = 200
HEADER_NAMES = {
    "outfall": (
        "排污口编码",
        "排口编码",
        "入河排污口编码",
        "排污口代码",
        "排口代码",
        "国家统一编码",
        "outfall",
    ),
    "section": ("断面", "断面名称", "考核断面", "section"),
    "sampled_at": ("采样时间", "采样日期时间", "采样日期", "sampled_at"),
    "lab_sample_id": ("样品编号", "样品号", "送检编号", "sample_id"),
    "place": ("采样地点", "采样点位", "点位", "place"),
    "flow": ("流量", "实测流量", "flow"),
    "flow_unit": ("流量单位", "flow_unit"),
    "weather": ("天气", "天气状况", "weather"),
    "lab": ("检测单位", "检测机构", "lab"),
    "notes": ("备注", "notes"),
    "row_number": ("序号", "No", "no"),
}
WEATHER_WORDS = {
    "旱天": Weather.DRY,
    "晴": Weather.DRY,
    "dry": Weather.DRY,
    "雨天": Weather.WET,
    "雨": Weather.WET,
    "wet": Weather.WET,
}
_UNIT_IN_HEADER = re.compile(r"^(.*?)\s*[（(]\s*(.*?)\s*[)）]\s*$")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日 %H时%M分",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is Chinese."""


@dataclass
class Result:
    created: int = 0
    values: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    outfall_ids: set = field(default_factory=set)


def _key(text):
    return unicodedata.normalize("NFKC", str(text or "")).strip().lower().replace(" ", "")


# Reading the file ---------------------------------------------------------------------------------------------
def _decode(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件的文字编码，请另存为“CSV UTF-8”或 GBK 编码的 .csv 文件。")


def _csv_rows(data):
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_rows(data, filename):
    try:
        check_workbook(io.BytesIO(data), filename)
    except WorkbookRefused as error:
        raise ImportFileError(str(error)) from None
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        return [list(row) for row in sheet.iter_rows()]
    except Exception as error:  # noqa: BLE001 - any reader failure is the file's
        raise ImportFileError(
            f"无法读取 {filename}：文件已损坏或不是有效的 .xlsx 文件（{type(error).__name__}）。"
        ) from None


def read_rows(data, filename):
    """The file's rows as lists of cells (strings, numbers, date-times)."""
    name = filename.lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data, filename)
    else:
        raise ImportFileError(f"不支持的文件类型：{filename}，请上传 .csv 或 .xlsx 文件。")
    rows = [
        [None if (c is None or (isinstance(c, str) and not c.strip())) else c for c in row] for row in rows
    ]
    while rows and not any(c is not None for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ImportFileError(f"{filename} 是空的。")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行样品（本文件 {len(rows) - 1} 行），请拆分后上传。")
    return rows


# The header --------------------------------------------------------------------------------------------------
@dataclass
class Column:
    index: int
    label: str
    field: str = ""  # a HEADER_NAMES key, or "value"
    parameter: object = None
    unit: str = ""


def read_header(cells, parameters):
    """[Column] for the header row; ImportFileError naming unknown or repeated columns and what is missing."""
    by_name = {}
    for p in parameters:
        for name in {p.code, p.name, *p.aliases}:
            by_name[_key(name)] = p
    fields = {_key(alias): name for name, aliases in HEADER_NAMES.items() for alias in aliases}
    columns, unknown, seen = [], [], {}
    for index, cell in enumerate(cells):
        if cell is None:
            continue
        label = str(cell).strip()
        key = _key(label)
        column = Column(index, label)
        if key in fields:
            column.field = fields[key]
        else:
            match = _UNIT_IN_HEADER.match(label)
            name, unit = (match.group(1), match.group(2)) if match else (label, "")
            if _key(name) in fields and fields[_key(name)] == "flow":
                column.field, column.unit = "flow", unit
            elif _key(name) in by_name:
                column.field, column.parameter, column.unit = "value", by_name[_key(name)], unit
            else:
                unknown.append(label)
                continue
        what = column.parameter.code if column.parameter else column.field
        if what in seen:
            raise ImportFileError(f"表头中“{label}”与“{seen[what]}”重复。")
        seen[what] = label
        columns.append(column)
    if unknown:
        listed = "、".join(f"“{u[:30]}”" for u in unknown[:10])
        raise ImportFileError(
            f"表头中有无法识别的列：{listed}。监测项目请写作名称或代码加单位，如“化学需氧量(mg/L)”“NH3-N(mg/L)”；"
            f"其他列可为：{'、'.join(HEADER_NAMES[n][0] for n in HEADER_NAMES if n != 'row_number')}。"
        )
    present = {c.field for c in columns}
    missing = []
    if not present & {"outfall", "section"}:
        missing.append("排污口编码（或断面）")
    if "sampled_at" not in present:
        missing.append("采样时间")
    if "value" not in present:
        missing.append("至少一个监测项目")
    if missing:
        raise ImportFileError(f"表头缺少：{'、'.join(missing)}。第 1 行须为表头。")
    return columns


# Rows --------------------------------------------------------------------------------------------------------
def parse_datetime(value):
    """A cell → aware datetime, or ValueError with a Chinese message."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime(value.year, value.month, value.day))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for fmt in DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return timezone.make_aware(parsed)
    raise ValueError(f"“{text[:30]}”不是可识别的采样时间（如 2024-03-05 10:30）。")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


class _Places:
    def __init__(self):
        self.outfalls = {}
        self.sections = None

    def outfall(self, code):
        if code not in self.outfalls:
            self.outfalls[code] = (
                Outfall.objects.filter(code=code).first()
                or Outfall.objects.filter(national_code=code).first()
            )
        return self.outfalls[code]

    def section(self, text):
        if self.sections is None:
            self.sections = {}
            for s in Section.objects.select_related("water_body"):
                self.sections.setdefault(_key(s.name), []).append(s)
                self.sections[_key(f"{s.water_body.name}·{s.name}")] = [s]
                self.sections[_key(f"{s.water_body.name}{s.name}")] = [s]
        found = self.sections.get(_key(text), [])
        return found[0] if len(found) == 1 else ("ambiguous" if found else None)


def read_samples(rows, *, source, lab, user):
    """[(row number, SampleInput)] and [error text] from the rows (header first)."""
    parameters = list(Parameter.objects.all())
    columns = read_header(rows[0], parameters)
    places = _Places()
    samples, errors = [], []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c is not None for c in cells):
            continue

        def cell(column, cells=cells):
            return cells[column.index] if column.index < len(cells) else None

        def where(column, number=number):
            return f"第 {number} 行“{column.label}”"

        data = services.SampleInput(source=source, sampled_at=None, lab=lab)
        row_errors = []
        for column in columns:
            raw = cell(column)
            if column.field == "value":
                if raw is not None:
                    data.values.append(
                        services.ValueInput(column.parameter, raw, column.unit, where=where(column))
                    )
            elif raw is None:
                continue
            elif column.field == "outfall":
                outfall = places.outfall(_text(raw))
                if outfall is None:
                    row_errors.append(f"{where(column)}：没有编码为“{_text(raw)[:40]}”的入河排污口。")
                data.outfall = outfall
            elif column.field == "section":
                section = places.section(_text(raw))
                if section is None or section == "ambiguous":
                    why = "有多个同名断面，请写作“河流·断面”" if section == "ambiguous" else "没有该断面"
                    row_errors.append(f"{where(column)}：“{_text(raw)[:40]}”{why}。")
                    section = None
                data.section = section
            elif column.field == "sampled_at":
                try:
                    data.sampled_at = parse_datetime(raw)
                except ValueError as error:
                    row_errors.append(f"{where(column)}：{error}")
            elif column.field == "flow":
                try:
                    data.flow = float(_text(raw))
                except ValueError:
                    row_errors.append(f"{where(column)}：“{_text(raw)[:20]}”不是数值。")
                if column.unit:
                    data.flow_unit = column.unit
            elif column.field == "weather":
                weather = WEATHER_WORDS.get(_key(raw))
                if weather is None:
                    row_errors.append(f"{where(column)}：“{_text(raw)[:10]}”应为“旱天”或“雨天”。")
                data.weather = weather or Weather.UNKNOWN
            elif column.field != "row_number":
                setattr(data, column.field, _text(raw))
        if data.outfall is None and data.section is None and not row_errors:
            row_errors.append(f"第 {number} 行：请填写排污口编码或断面。")
        if data.outfall is not None and data.section is not None:
            row_errors.append(f"第 {number} 行：排污口编码和断面只能填写一个。")
        if data.sampled_at is None and not row_errors:
            row_errors.append(f"第 {number} 行：采样时间为空。")
        if not data.values and not row_errors:
            row_errors.append(f"第 {number} 行：没有任何监测项目的数值。")
        if row_errors:
            errors.extend(row_errors)
            continue
        samples.append((number, data))
    return samples, errors


def _error_text(error):
    if isinstance(error, PermissionDenied):
        return str(error)
    if hasattr(error, "error_dict"):
        return "；".join(m for messages in error.message_dict.values() for m in messages)
    return "；".join(error.messages)


# The import --------------------------------------------------------------------------------------------------
def digest_of(data):
    return hashlib.sha256(data).hexdigest()


class _Refused(Exception):
    pass


def import_samples(record, *, user, data=None, progress=None):
    """Read the record's file and write its samples all or nothing. Returns the Result; the record says how it
    ended (imported, unchanged, failed with its errors)."""
    if data is None:
        with record.file.open("rb") as handle:
            data = handle.read()
    result = Result()
    earlier = (
        SampleImport.objects.filter(
            digest=record.digest, status__in=(ImportStatus.IMPORTED, ImportStatus.UNCHANGED)
        )
        .exclude(pk=record.pk)
        .order_by("created_at")
        .first()
    )
    if earlier is not None:
        record.status = ImportStatus.UNCHANGED
        record.errors = [
            f"与 {timezone.localtime(earlier.created_at):%Y-%m-%d %H:%M} 导入的“{earlier.filename}”内容相同，未作改动。"
        ]
        record.save(update_fields=["status", "errors"])
        return result
    try:
        rows = read_rows(data, record.filename)
        samples, errors = read_samples(rows, source=record.source, lab=record.lab, user=user)
    except ImportFileError as error:
        return _fail(record, result, [str(error)])
    if progress is not None:
        progress.step("检查样品", total=len(samples))
    prepared = {}
    for position, (number, item) in enumerate(samples, 1):
        try:
            sample, values_ = services.prepare(item, user=user)
        except (ValidationError, PermissionDenied) as error:
            errors.append(f"第 {number} 行：{_error_text(error)}")
        else:
            if sample.key in prepared:
                first_number, first, first_values = prepared[sample.key]
                if services.signature(first, first_values) != services.signature(sample, values_):
                    errors.append(
                        f"第 {number} 行：与第 {first_number} 行是同一样品（{sample.lab_sample_id or sample.key}），但数值不同。"
                    )
            else:
                prepared[sample.key] = (number, sample, values_)
        if progress is not None:
            progress(position)
        if len(errors) >= MAX_ERRORS:
            errors.append(f"错误超过 {MAX_ERRORS} 条，其余未列出。")
            break
    if errors:
        return _fail(record, result, errors)
    if progress is not None:
        progress.step("写入样品", total=len(prepared))
    try:
        with transaction.atomic():
            for position, (number, sample, values_) in enumerate(prepared.values(), 1):
                old, old_values = services.existing_sample(sample.key)
                if old is not None:
                    if services.signature(old, old_values) != services.signature(sample, values_):
                        result.errors.append(
                            f"第 {number} 行：样品“{sample.lab_sample_id or sample.key}”已录入，且"
                            f"{services.difference(old, old_values, sample, values_)}。"
                        )
                        continue
                    result.unchanged += 1
                    continue
                services.write(sample, values_, imported_in=record)
                result.created += 1
                result.values += len(values_)
                result.outfall_ids.add(sample.outfall_id)
                if progress is not None:
                    progress(position)
            if result.errors:
                raise _Refused
            record.status = ImportStatus.IMPORTED
            record.samples_created, record.values_created = result.created, result.values
            record.samples_unchanged, record.errors = result.unchanged, []
            record.save(
                update_fields=["status", "samples_created", "values_created", "samples_unchanged", "errors"]
            )
    except _Refused:
        errors, result = result.errors, Result()
        return _fail(record, result, errors)
    if progress is not None:
        progress.step("判定超标与旱天排水")
    services.after_save(result.outfall_ids)
    return result


def _fail(record, result, errors):
    record.status = ImportStatus.FAILED
    record.errors = errors[: MAX_ERRORS + 1]
    record.samples_created = record.values_created = record.samples_unchanged = 0
    record.save(update_fields=["status", "errors", "samples_created", "values_created", "samples_unchanged"])
    result.errors = record.errors
    return result


def create_record(upload, *, user, source, lab=""):
    """Keep the uploaded file as a SampleImport (pending), ready for the job."""
    data = upload.read()
    name = (getattr(upload, "name", "") or "upload.csv").rsplit("/", 1)[-1][:200]
    record = SampleImport(
        filename=name, digest=digest_of(data), source=source, lab=(lab or "")[:100], created_by=user
    )
    record.file.save(name, ContentFile(data), save=False)
    record.save()
    return record
