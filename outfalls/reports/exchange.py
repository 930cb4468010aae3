"""Exchange with the provincial and national platforms (实施方案（十二）): the ledger, the setup decisions, the
rectification and the monitoring in the exchange structure, as an .xlsx (one sheet per section and a 字段说明
sheet), as JSON, and through the API (/api/v1/exchange/).

The structure is data, not code: `settings.EXCHANGE_MAPPING` (default data/exchange_hj1314.json) lists the
sections and, for each, its data elements in order: the element's identifier, its Chinese name (the column
header), the platform value it carries (`source`, one of SOURCES below) and its status: confirmed (the value's
content and format are fixed by a standard we know), unsure (not checked against HJ 1314, which STANDARDS.md does
not hold) or missing (the exchange has it, the platform does not collect it: exported empty). Correcting the
structure once HJ 1314's text is at hand means editing that file: renaming, reordering, dropping or adding
elements over the sources below.

Round trip: `read_xlsx` and `read_json` read an exchange file back into the same records (all or nothing, each
refusal naming its sheet and row), and the national-code write-back (registry/national_codes.py) reads the
outfall sheet of a file the province returns with 国家统一编码 filled in.

Scope: every section starts from the model's visible_to(user); a county exports its own county. Without a user
(the management command) everything is exported.
"""

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max, Prefetch
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from outfalls.core.models import Jurisdiction
from outfalls.core.spreadsheets import printed_table
from outfalls.monitoring.choices import Qualifier, SampleSource
from outfalls.monitoring.models import SampleValue
from outfalls.permits.models import ApplicationPollutant, Decision
from outfalls.registry.choices import (
    Conveyance,
    EntryMode,
    LifecycleStatus,
    RectificationMeasure,
    RectificationStatus,
    UnitKind,
)
from outfalls.registry.ledger_export import city_name
from outfalls.registry.ledger_values import NO, YES, classification_text, outlet_text
from outfalls.registry.models import Outfall
from outfalls.registry.xlsx_guard import WorkbookRefused, check_workbook
from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import RectificationPlan

DEFAULT_MAPPING = Path(__file__).resolve().parent / "data" / "exchange_hj1314.json"
STATUSES = ("confirmed", "unsure", "missing")
STATUS_LABELS = {"confirmed": "已确认", "unsure": "待核实", "missing": "本平台暂无"}
STATUS_CHOICES = list(STATUS_LABELS.items())
#: The monitoring section covers this many days before the export when no period is given.
DEFAULT_MONITORING_DAYS = 365
#: The longest monitoring period one export covers (the file stays a size a desk computer opens).
MAX_PERIOD_DAYS = 366 * 3
MAX_READ_ROWS = 500_000
DICTIONARY_SHEET = "字段说明"

TEXT, NUMBER, DATE, MOMENT = "text", "number", "date", "moment"
KIND_CHOICES = [TEXT, NUMBER, DATE, MOMENT]


class ExchangeFileError(Exception):
    """An exchange file that cannot be read back: Chinese messages, each naming its sheet and row."""

    def __init__(self, messages):
        super().__init__("；".join(messages[:5]))
        self.messages = messages


# The structure (data) -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    element: str
    name: str
    source: str
    status: str
    note: str
    kind: str  # TEXT, NUMBER, DATE or MOMENT, from the source

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    note: str
    fields: tuple

    def field_named(self, name):
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Structure:
    title: str
    version: str
    basis: str
    sections: tuple

    def section(self, key):
        return next((s for s in self.sections if s.key == key), None)


def mapping_path():
    return Path(getattr(settings, "EXCHANGE_MAPPING", "") or DEFAULT_MAPPING)


def structure():
    path = mapping_path()
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path, _mtime):
    """The structure file, checked: every section known, every source one of SOURCES with the section's rows,
    identifiers and names unique within a section, statuses known. A mistake is an ImproperlyConfigured naming
    the section and element (the platform refuses to start an export on a broken structure)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"交换结构文件 {path} 无法读取：{error}") from error
    sections = []
    for raw in data.get("sections", []):
        key = raw.get("key")
        if key not in SECTIONS:
            raise ImproperlyConfigured(f"交换结构：未知的部分“{key}”（可用：{'、'.join(SECTIONS)}）。")
        sources = SECTIONS[key].sources
        fields, elements, names = [], set(), set()
        for item in raw.get("fields", []):
            element, name = item.get("element", ""), item.get("name", "")
            source, status = item.get("source", ""), item.get("status", "")
            where = f"交换结构“{raw.get('name', key)}”的“{name or element}”"
            if not element or not name:
                raise ImproperlyConfigured(f"{where}：缺少 element 或 name。")
            if element in elements or name in names:
                raise ImproperlyConfigured(f"{where}：标识符或名称重复。")
            if status not in STATUSES:
                raise ImproperlyConfigured(f"{where}：status 须为 {'、'.join(STATUSES)}。")
            if (status == "missing") != (not source):
                raise ImproperlyConfigured(f"{where}：本平台暂无的项不填 source，其余各项须填。")
            if source and source not in sources:
                raise ImproperlyConfigured(f"{where}：未知的 source“{source}”。")
            kind = sources[source][1] if source else TEXT
            elements.add(element)
            names.add(name)
            fields.append(Field(element, name, source, status, item.get("note", ""), kind))
        sections.append(Section(key, raw.get("name", key), raw.get("note", ""), tuple(fields)))
    return Structure(data.get("title", ""), data.get("version", ""), data.get("basis", ""), tuple(sections))


# The platform's values (code) -----------------------------------------------------------------------------------
def _label(choices, value):
    return choices(value).label if value in choices.values else (value or None)


def _yes_no(value):
    return YES if value else NO


def _text(value):
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def _moment(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else None


def _day(value):
    return timezone.localtime(value).date() if value else None


def _division(code, digits):
    """The GB/T 2260 code of the province (2) or city (4) a county code lies in."""
    return (code[:digits] + "0" * (6 - digits)) if code else None


OUTFALL_SOURCES = {
    "national_code": (lambda o: _text(o.national_code), TEXT),
    "code": (lambda o: _text(o.code), TEXT),
    "name": (lambda o: _text(o.name), TEXT),
    "type_code": (lambda o: _text(o.type_code), TEXT),
    "classification": (lambda o: classification_text(o.type_code, o.type_level2, o.type_level3), TEXT),
    "province_code": (lambda o: _division(o.county.code, 2), TEXT),
    "city_code": (lambda o: _division(o.county.code, 4), TEXT),
    "county_code": (lambda o: o.county.code, TEXT),
    "county": (lambda o: o.county.name, TEXT),
    "town_code": (lambda o: o.town.code if o.town_id else None, TEXT),
    "town": (lambda o: o.town.name if o.town_id else None, TEXT),
    "village": (lambda o: o.village.name if o.village_id else None, TEXT),
    "water_body": (lambda o: o.water_body.name if o.water_body_id else None, TEXT),
    "water_body_code": (lambda o: o.water_body.code if o.water_body_id else None, TEXT),
    "section_interval": (lambda o: _text(o.section_interval), TEXT),
    "lon": (lambda o: o.lon, NUMBER),
    "lat": (lambda o: o.lat, NUMBER),
    "entry_mode": (lambda o: _label(EntryMode, o.entry_mode), TEXT),
    "outlet": (lambda o: outlet_text(o.outlet_position, o.outlet_description), TEXT),
    "conveyance": (lambda o: _label(Conveyance, o.conveyance), TEXT),
    "status": (lambda o: _label(LifecycleStatus, o.status), TEXT),
    "rectification_measure": (lambda o: _label(RectificationMeasure, o.rectification_measure), TEXT),
    "rectification_status": (lambda o: _label(RectificationStatus, o.rectification_status), TEXT),
    "registered": (lambda o: _yes_no(o.registered), TEXT),
    "approval_date": (lambda o: o.approval_date, DATE),
    "approval_number": (lambda o: _text(o.approval_number), TEXT),
    "permit_number": (lambda o: _text(o.permit_number), TEXT),
    "entity_name": (
        lambda o: o.responsible_entity.name if o.responsible_entity_id else _text(o.responsibility_note),
        TEXT,
    ),
    "entity_credit_code": (
        lambda o: _text(o.responsible_entity.credit_code) if o.responsible_entity_id else None,
        TEXT,
    ),
    "entity_kind": (
        lambda o: _label(UnitKind, o.responsible_entity.kind) if o.responsible_entity_id else None,
        TEXT,
    ),
    "sign_installed": (lambda o: _yes_no(o.sign_installed), TEXT),
    "disclosed": (lambda o: _yes_no(o.disclosed), TEXT),
    "in_national_platform": (lambda o: _yes_no(o.national_code), TEXT),
    "updated_at": (lambda o: _moment(o.updated_at), MOMENT),
}


def _pollutants(application):
    return (
        "；".join(
            f"{p.parameter} {p.concentration:g} {p.unit}".strip()
            if p.concentration is not None
            else p.parameter
            for p in application.pollutants.all()
        )
        or None
    )


DECISION_SOURCES = {
    "outfall_code": (lambda d: d.application.outfall.code if d.application.outfall_id else None, TEXT),
    "outfall_national_code": (
        lambda d: _text(d.application.outfall.national_code) if d.application.outfall_id else None,
        TEXT,
    ),
    "outfall_name": (lambda d: _text(d.application.outfall_name), TEXT),
    "application_number": (lambda d: d.application.number, TEXT),
    "kind": (lambda d: d.application.get_kind_display(), TEXT),
    "procedure": (lambda d: d.application.get_procedure_display(), TEXT),
    "authority": (lambda d: d.application.get_authority_display(), TEXT),
    "applicant_name": (lambda d: d.application.applicant.name, TEXT),
    "applicant_credit_code": (lambda d: _text(d.application.applicant.credit_code), TEXT),
    "county_code": (lambda d: d.application.county.code, TEXT),
    "water_body": (lambda d: d.application.water_body.name if d.application.water_body_id else None, TEXT),
    "lon": (lambda d: d.application.lon, NUMBER),
    "lat": (lambda d: d.application.lat, NUMBER),
    "discharge_mode": (lambda d: _text(d.application.get_discharge_mode_display()), TEXT),
    "daily_volume": (lambda d: d.application.daily_volume_m3, NUMBER),
    "pollutants": (lambda d: _pollutants(d.application), TEXT),
    "outcome": (lambda d: d.get_outcome_display(), TEXT),
    "decision_number": (lambda d: _text(d.number), TEXT),
    "decided_on": (lambda d: d.decided_on, DATE),
    "issuing_authority": (lambda d: _text(d.issuing_authority), TEXT),
    "permit_number": (lambda d: _text(d.permit_number), TEXT),
    "public": (lambda d: _yes_no(d.public), TEXT),
}


def _stage(plan):
    """整治阶段 of a plan: 完成整治 once closed out, 未整治 before any progress, 整治中 between."""
    if plan.status == PlanStatus.APPROVED:
        return "完成整治"
    if not plan.percent_done and plan.last_progress_on is None:
        return "未整治"
    return "整治中"


RECTIFICATION_SOURCES = {
    "outfall_code": (lambda p: p.outfall.code, TEXT),
    "outfall_national_code": (lambda p: _text(p.outfall.national_code), TEXT),
    "outfall_name": (lambda p: _text(p.outfall.name), TEXT),
    "county_code": (lambda p: p.outfall.county.code, TEXT),
    "measure": (lambda p: _label(RectificationMeasure, p.measure), TEXT),
    "actions": (lambda p: _text(p.actions), TEXT),
    "responsible": (
        lambda p: p.responsible_unit.name if p.responsible_unit_id else _text(p.responsible_org),
        TEXT,
    ),
    "deadline": (lambda p: p.deadline, DATE),
    "transitional_until": (lambda p: p.transitional_until, DATE),
    "merge_target": (lambda p: p.merge_target.code if p.merge_target_id else None, TEXT),
    "stage": (_stage, TEXT),
    "percent_done": (lambda p: p.percent_done, NUMBER),
    "last_progress_on": (lambda p: p.last_progress_on, DATE),
    "submitted_on": (lambda p: _day(p.submitted_at), DATE),
    "approved_on": (lambda p: _day(p.approved_at), DATE),
}

MONITORING_SOURCES = {
    "outfall_code": (lambda v: v.outfall.code, TEXT),
    "outfall_national_code": (lambda v: _text(v.outfall.national_code), TEXT),
    "sampled_at": (lambda v: _moment(v.sampled_at), MOMENT),
    "source": (lambda v: _label(SampleSource, v.sample.source), TEXT),
    "parameter_name": (lambda v: v.parameter.name, TEXT),
    "parameter_code": (lambda v: _text(v.parameter.hj212_code), TEXT),
    "value": (lambda v: v.value_std, NUMBER),
    "unit": (lambda v: _text(v.parameter.unit), TEXT),
    "qualifier": (lambda v: _label(Qualifier, v.qualifier) if v.qualifier else None, TEXT),
    "detection_limit": (lambda v: v.detection_limit_std, NUMBER),
    "lab": (lambda v: _text(v.sample.lab), TEXT),
    "lab_sample_id": (lambda v: _text(v.sample.lab_sample_id), TEXT),
    "flow": (lambda v: v.sample.flow_m3h, NUMBER),
}


# Rows per section ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """The monitoring section's period (inclusive dates); the other sections are the current state."""

    since: date
    until: date

    @classmethod
    def default(cls, today=None):
        today = today or timezone.localdate()
        return cls(today - timedelta(days=DEFAULT_MONITORING_DAYS), today)

    @classmethod
    def of(cls, since=None, until=None, today=None):
        """The period from optional ends: the default length before `until` (else today), or after `since`."""
        until = until or (since + timedelta(days=DEFAULT_MONITORING_DAYS) if since else None)
        until = until or today or timezone.localdate()
        return cls(since or until - timedelta(days=DEFAULT_MONITORING_DAYS), until)


def _visible(queryset, user):
    return queryset if user is None else queryset.visible_to(user)


def _outfall_rows(user, county, period):
    rows = _visible(Outfall.objects.for_list(), user).select_related("responsible_entity")
    if county is not None:
        rows = rows.filter(county=county)
    return rows.order_by("code", "id")


def _decision_rows(user, county, period):
    rows = _visible(Decision.objects.all(), user).select_related(
        "application",
        "application__outfall",
        "application__applicant",
        "application__county",
        "application__water_body",
    )
    rows = rows.defer(
        "application__county__boundary", "application__water_body__geometry", "application__check_results"
    ).prefetch_related(Prefetch("application__pollutants", ApplicationPollutant.objects.order_by("id")))
    if county is not None:
        rows = rows.filter(application__county=county)
    return rows.order_by("decided_on", "id")


def _rectification_rows(user, county, period):
    rows = _visible(RectificationPlan.objects.all(), user).select_related(
        "outfall", "outfall__county", "responsible_unit", "merge_target"
    )
    rows = rows.defer("outfall__county__boundary").annotate(last_progress_on=Max("updates__date"))
    if county is not None:
        rows = rows.filter(outfall__county=county)
    return rows.order_by("outfall__code", "id")


def _moment_of(day, end=False):
    return timezone.make_aware(datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time()))


def _monitoring_rows(user, county, period):
    period = period or Period.default()
    rows = _visible(SampleValue.objects.filter(outfall__isnull=False), user).filter(
        sampled_at__gte=_moment_of(period.since), sampled_at__lt=_moment_of(period.until, end=True)
    )
    if county is not None:
        rows = rows.filter(outfall__county=county)
    return rows.select_related("outfall", "sample", "parameter").order_by("sampled_at", "outfall__code", "id")


@dataclass(frozen=True)
class SectionSource:
    rows: object  # (user, county, period) -> queryset
    sources: dict


SECTIONS = {
    "outfall": SectionSource(_outfall_rows, OUTFALL_SOURCES),
    "decision": SectionSource(_decision_rows, DECISION_SOURCES),
    "rectification": SectionSource(_rectification_rows, RECTIFICATION_SOURCES),
    "monitoring": SectionSource(_monitoring_rows, MONITORING_SOURCES),
}


def section_rows(section, *, user=None, county=None, period=None):
    """The queryset a section exports, in its order, in the user's scope."""
    return SECTIONS[section.key].rows(user, county, period)


def record(section, obj):
    """One row of a section as {element: value}: text, a number, a date, or None."""
    sources = SECTIONS[section.key].sources
    return {f.element: (sources[f.source][0](obj) if f.source else None) for f in section.fields}


def records(section, *, user=None, county=None, period=None):
    for obj in section_rows(section, user=user, county=county, period=period).iterator(chunk_size=2000):
        yield record(section, obj)


# Files ----------------------------------------------------------------------------------------------------------
def _subject(user, county):
    if county is not None:
        return county.name
    return "全市"


#: Sources whose values are long texts (names, descriptions): a wider column, fewer wrapped lines.
LONG_TEXT_SOURCES = {
    "name",
    "entity_name",
    "outfall_name",
    "applicant_name",
    "outlet",
    "actions",
    "pollutants",
}


def _width(field):
    if field.source in LONG_TEXT_SOURCES:
        return 26
    return min(max(len(field.name) * 1.9 + 2, 9 if field.kind != MOMENT else 15), 30)


#: Printable width of a landscape page in column-width units (A4: 277 mm, A3: 400 mm, at 7 px a unit, 96 dpi).
A4_UNITS, A3_UNITS = 150, 216
PAPER_A3 = 8  # SpreadsheetML paper size code
#: Columns repeated on every page of a sheet printed several pages wide (codes and name).
KEY_COLUMNS = 3


def _wide_layout(ws, widths):
    """A sheet wider than an A4 page prints on A3; wider than that, several pages wide with its first columns
    (the codes and the name) repeated on each, so every page stays at a readable size."""
    total = sum(widths)
    if total <= A4_UNITS * 1.2:
        return
    ws.page_setup.paperSize = PAPER_A3
    if total > A3_UNITS:
        keys = sum(widths[:KEY_COLUMNS])
        ws.page_setup.fitToWidth = math.ceil((total - keys) / (A3_UNITS - keys))
        ws.print_title_cols = f"A:{get_column_letter(KEY_COLUMNS)}"


def write_xlsx(file, *, user=None, county=None, period=None, today=None):
    """The exchange workbook: a sheet per section (title, header of element names, one row per record; printed
    as the platform's tables print), then 字段说明: each element's identifier, name, status and note."""
    today = today or timezone.localdate()
    period = period or Period.default(today)
    shape = structure()
    book = Workbook()
    book.remove(book.active)
    title_base = f"{city_name()}{_subject(user, county)}入河排污口交换数据"
    for section in shape.sections:
        ws = book.create_sheet(section.name)
        suffix = (
            f"（{period.since:%Y-%m-%d} 至 {period.until:%Y-%m-%d}）"
            if section.key == "monitoring"
            else f"（截至{today:%Y-%m-%d}）"
        )
        values = (
            [rec[f.element] for f in section.fields]
            for rec in records(section, user=user, county=county, period=period)
        )
        widths = [_width(f) for f in section.fields]
        printed_table(
            ws,
            title=f"{title_base}·{section.name}{suffix}",
            headers=[f.name for f in section.fields],
            rows=values,
            widths=widths,
            left=[i for i, f in enumerate(section.fields) if f.kind == TEXT],
        )
        _wide_layout(ws, widths)
    ws = book.create_sheet(DICTIONARY_SHEET)
    printed_table(
        ws,
        title=f"{shape.title}·字段说明（{shape.version}）",
        headers=["工作表", "序号", "数据元标识符", "名称", "核实状态", "说明"],
        rows=[
            [section.name, number, f.element, f.name, f.status_label, f.note]
            for section in shape.sections
            for number, f in enumerate(section.fields, 1)
        ]
        + [["说明", "", "", "", "", shape.basis]],
        widths=[9, 5, 20, 22, 10, 48],
        left=[2, 3, 5],
    )
    book.save(file)
    return file


def document(*, user=None, county=None, period=None, today=None):
    """The JSON exchange document: the structure's identity, the period, and each section's records."""
    today = today or timezone.localdate()
    period = period or Period.default(today)
    shape = structure()
    return {
        "structure": {"title": shape.title, "version": shape.version},
        "city": city_name(),
        "county": county.code if county is not None else None,
        "as_of": today.isoformat(),
        "monitoring_period": {"since": period.since.isoformat(), "until": period.until.isoformat()},
        "sections": {
            section.key: [
                json_record(rec) for rec in records(section, user=user, county=county, period=period)
            ]
            for section in shape.sections
        },
    }


def json_record(rec):
    return {key: (value.isoformat() if isinstance(value, date) else value) for key, value in rec.items()}


def write_json(file, **kwargs):
    text = json.dumps(document(**kwargs), ensure_ascii=False, indent=1)
    file.write(text.encode("utf-8") if "b" in getattr(file, "mode", "b") else text)
    return file


# Reading an exchange file back ---------------------------------------------------------------------------------
def _typed(field, value, where, errors):
    """A cell or JSON value as the record holds it; a wrong type is an error naming the place."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                return float(str(value).strip())
            except ValueError:
                errors.append(f"{where}“{field.name}”应为数字，实为“{str(value)[:30]}”。")
                return None
        return value
    if field.kind == DATE:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            errors.append(f"{where}“{field.name}”应为日期（YYYY-MM-DD），实为“{str(value)[:30]}”。")
            return None
    return value if isinstance(value, str) else str(value)


def read_xlsx(file, *, filename="交换文件.xlsx"):
    """{section key: [records]} of an exchange workbook, as write_xlsx wrote it (a sheet per section, its
    header in row 2; columns matched by name, so a re-ordered sheet reads the same). All or nothing."""
    try:
        check_workbook(file, filename)
        if hasattr(file, "seek"):
            file.seek(0)
        book = load_workbook(file, read_only=True, data_only=True)
    except WorkbookRefused as error:
        raise ExchangeFileError([str(error)]) from error
    except Exception as error:  # a corrupt or not-xlsx file: openpyxl raises many kinds
        raise ExchangeFileError([f"无法读取该文件：{type(error).__name__}。"]) from error
    shape, errors, result = structure(), [], {}
    try:
        for section in shape.sections:
            if section.name not in book.sheetnames:
                errors.append(f"缺少工作表“{section.name}”。")
                continue
            rows = book[section.name].iter_rows(values_only=True)
            next(rows, None)  # the title
            header = [str(v).strip() if v is not None else "" for v in next(rows, ()) or ()]
            columns = {}
            for field in section.fields:
                if field.name in header:
                    columns[field] = header.index(field.name)
                else:
                    errors.append(f"工作表“{section.name}”第 2 行缺少列“{field.name}”。")
            unknown = [name for name in header if name and section.field_named(name) is None]
            if unknown:
                errors.append(f"工作表“{section.name}”第 2 行有未知的列：{'、'.join(unknown[:5])}。")
            if len(columns) < len(section.fields):
                continue
            found = []
            for number, values in enumerate(rows, 3):
                if number > MAX_READ_ROWS:
                    errors.append(f"工作表“{section.name}”超过 {MAX_READ_ROWS} 行。")
                    break
                values = list(values)
                if not any(v not in (None, "") for v in values):
                    break  # the blank row before the sign-off line
                where = f"工作表“{section.name}”第 {number} 行"
                found.append(
                    {
                        f.element: _typed(f, values[i] if i < len(values) else None, where, errors)
                        for f, i in columns.items()
                    }
                )
            result[section.key] = found
    finally:
        book.close()
    if errors:
        raise ExchangeFileError(errors)
    return result


def read_json(data):
    """{section key: [records]} of a JSON exchange document (bytes, text or the parsed dict). All or nothing."""
    try:
        if isinstance(data, bytes | str):
            data = json.loads(data)
    except ValueError as error:
        raise ExchangeFileError([f"不是有效的 JSON：{error}。"]) from error
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, dict):
        raise ExchangeFileError(["缺少 sections。"])
    shape, errors, result = structure(), [], {}
    for section in shape.sections:
        rows = sections.get(section.key)
        if not isinstance(rows, list):
            errors.append(f"缺少部分“{section.key}”（{section.name}）。")
            continue
        known = {f.element for f in section.fields}
        found = []
        for number, row in enumerate(rows, 1):
            where = f"“{section.name}”第 {number} 条"
            if not isinstance(row, dict):
                errors.append(f"{where}不是对象。")
                continue
            unknown = sorted(set(row) - known)
            if unknown:
                errors.append(f"{where}有未知的数据元：{'、'.join(unknown[:5])}。")
            found.append({f.element: _typed(f, row.get(f.element), where, errors) for f in section.fields})
        result[section.key] = found
    if errors:
        raise ExchangeFileError(errors)
    return result


def counties_for(user):
    """The counties a user may pick for an export: their own (or every one for a citywide user)."""
    rows = Jurisdiction.objects.counties().defer("boundary").order_by("code")
    return rows if user is None else rows.visible_to(user)


def counts(*, user=None, county=None, period=None):
    """{section key: number of rows} the export would hold."""
    return {
        s.key: section_rows(s, user=user, county=county, period=period).count() for s in structure().sections
    }


def filename(kind, *, county=None, today=None):
    today = today or timezone.localdate()
    return f"{city_name()}{county.name if county else '全市'}入河排污口交换数据{today:%Y%m%d}.{kind}"
