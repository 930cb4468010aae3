"""Attachment 1 out: the prescribed ledger table (信息汇总表) as xlsx or CSV, live or as of a past date.

The xlsx is the table the city's plan prescribes: row 1 the title (大同市平城区入河排污口信息汇总表, with
"（截至2023-09-30）" for a past date), rows 2–3 the two header rows with the group headers merged over their
columns and the ungrouped headers merged over both rows, then one row per outfall numbered 1..n in 序号.
Thin borders, wrapped text, the template's column widths, the header frozen (A4), dates as real Excel
dates shown yyyy-mm-dd, coordinates as "lon,lat" text in CGCS2000 (ledger_template.format_point). Two
trailing columns (入河排污口编码, 国家统一编码, group 平台编码) let a returned file be matched by code;
`with_codes=False` leaves them out.

The CSV carries the same columns with the two header rows flattened into one: each column's own header
(the group header is dropped: every column header is unique and the import recognises it without the
group, and a CSV has no merged cells). No title line, so any CSV reader sees the header first. UTF-8 with a
BOM so Excel opens the Chinese correctly; dates as 2023-05-04.

The xlsx is written with openpyxl's write-only (streaming) workbook: merged ranges, column widths and the
frozen pane are all supported there (merges are kept in the sheet's merged_cells and written at the end),
so memory stays flat however many rows there are. Text never becomes a formula: every cell passes
through core.spreadsheets (string cells in the xlsx, an apostrophe before formula-like CSV fields).
Rows come from the database in chunks, with their related names in the same query (live) or in one query
per chunk (as of a date).

Who sees what: callers pass rows that already start from `Outfall.objects.visible_to(user)` or
`history.outfalls_as_of(when, user)` (see `outfall_rows`); this module never widens them.
"""

import re
from copy import copy
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from types import SimpleNamespace

from django.db import models
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel, Role
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.spreadsheets import (
    BORDER,
    CENTRED,
    DATA_SIZE,
    FONT_NAME,
    HEADER_FILL,
    HEADER_SIZE,
    LEFT,
    SIGN_OFF_ALIGNMENT,
    SIGN_OFF_HEIGHT,
    SIGN_OFF_SIZE,
    TITLE_SIZE,
    csv_writer,
    print_layout,
    row_height,
    safe_cell,
    sign_off_text,
)

from .history import outfalls_as_of
from .ledger_template import CODE_COLUMNS, COLUMNS, format_date, title_for
from .ledger_values import cell_values, parse_date
from .models import DischargeUnit, Outfall, WaterBody

TABLE_NAME = "入河排污口信息汇总表"
CITYWIDE_SUBJECT = "全市"
CHUNK_SIZE = 2000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_NUMBER_FORMAT = "yyyy-mm-dd"
FORMATS = ("xlsx", "csv")


def export_columns(with_codes=True):
    return COLUMNS + (CODE_COLUMNS if with_codes else ())


# Dates, titles, names ------------------------------------------------------------------------------------
def as_of_moment(as_of):
    """The moment an as-of date stands for: the end of that day in the platform's time zone
    (settings.TIME_ZONE, Asia/Shanghai). A datetime is taken as it is (a naive one as local time)."""
    if isinstance(as_of, datetime):
        return as_of if timezone.is_aware(as_of) else timezone.make_aware(as_of)
    return timezone.make_aware(datetime.combine(as_of, time.max))


def as_of_day(as_of):
    if isinstance(as_of, datetime):
        return timezone.localtime(as_of_moment(as_of)).date()
    return as_of


def parse_as_of(value):
    """An as-of date from a form or the command line → (date or None, error in Chinese or None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    day, error = parse_date(value)
    if error:
        return None, f"截至日期“{str(value).strip()[:40]}”无法识别，请写作 YYYY-MM-DD，如 2023-09-30。"
    return day, None


def city_name():
    """The root city's name, from the jurisdiction tree (大同市 in the demo data)."""
    city = (
        Jurisdiction.objects.filter(level=JurisdictionLevel.CITY, parent=None)
        .order_by("code")
        .only("name")
        .first()
    )
    return city.name if city else ""


def export_title(subject, as_of=None, city=None):
    """大同市平城区入河排污口信息汇总表, and （截至2023-09-30） for a past date."""
    city = city_name() if city is None else city
    if city.endswith("市") and subject.startswith("市"):  # 大同市 + 市城市管理局 → 大同市城市管理局
        subject = subject[1:]
    title = title_for(city, subject)
    if as_of is not None:
        title += f"（截至{as_of_day(as_of).isoformat()}）"
    return title


def _unique(names):
    return list(dict.fromkeys(n for n in names if n))


def export_subject(user=None, county=None):
    """Whose table it is, for the title and the file name.

    A county officer's table carries their county, a responsible entity's its unit name, a department's
    its name, a river chief's their county (or their rivers). A city-wide user's (and the system's, user
    None) carries the county the filter names, else 全市. `county` is a Jurisdiction or None.
    """
    scope = scope_of(user) if user is not None else None
    if scope is None or scope.citywide:
        return county.name if county is not None else CITYWIDE_SUBJECT
    names = []
    memberships = user.memberships.select_related("jurisdiction__county", "department", "unit")
    for m in memberships.prefetch_related("water_bodies"):
        if m.role == Role.ENTITY and m.unit_id:
            names.append(m.unit.name)
        elif m.role == Role.DEPARTMENT and m.department_id:
            names.append(m.department.name)
        elif m.role in (Role.COUNTY, Role.RIVER_CHIEF) and m.jurisdiction_id:
            names.append((m.jurisdiction.county or m.jurisdiction).name)
        elif m.role == Role.RIVER_CHIEF:
            names.extend(w.name for w in m.water_bodies.all())
    return "、".join(_unique(names)) or CITYWIDE_SUBJECT


_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def export_filename(subject, fmt, as_of=None, today=None):
    """入河排污口信息汇总表-平城区-20261128.xlsx; 入河排污口信息汇总表-全市-截至20230930.csv for a past date."""
    if as_of is not None:
        stamp = "截至" + as_of_day(as_of).strftime("%Y%m%d")
    else:
        stamp = (today or timezone.localdate()).strftime("%Y%m%d")
    subject = _UNSAFE_FILENAME.sub("_", subject).strip("_") or CITYWIDE_SUBJECT
    return f"{TABLE_NAME}-{subject}-{stamp}.{fmt}"


# Rows ----------------------------------------------------------------------------------------------------
def outfall_rows(*, user=None, as_of=None):
    """The outfalls to export, before any filter: live (Outfall.objects.for_list()) or as the ledger stood
    at the end of `as_of` (historical rows, read through history.outfalls_as_of).

    With a user, only what they may see. Without one, everything: management commands run as the system.
    """
    if as_of is None:
        rows = Outfall.objects.for_list()
        return rows if user is None else rows.visible_to(user)
    moment = as_of_moment(as_of)
    return Outfall.history.as_of(moment) if user is None else outfalls_as_of(moment, user)


def in_ledger_order(rows):
    """Rows sorted by code unless something (a sort the user chose) already ordered them."""
    if isinstance(rows, models.QuerySet) and not rows.query.order_by:
        return rows.order_by("code", "id")
    return rows


class _Related:
    """The related rows (places, rivers, responsible entities) of outfall rows that do not carry them:
    historical rows, or any rows when the table is as of a date (then the versions of that date).

    One query per model per chunk, only for ids not seen before; an id with no version at that date
    (a row older than its history) falls back to the current row.
    """

    FIELDS = {
        "county": Jurisdiction,
        "town": Jurisdiction,
        "village": Jurisdiction,
        "water_body": WaterBody,
        "responsible_entity": DischargeUnit,
    }
    VALUES = {
        Jurisdiction: ("id", "name"),
        WaterBody: ("id", "name"),
        DischargeUnit: ("id", "name", "kind", "lon", "lat"),
    }

    def __init__(self, moment=None):
        self.moment = moment
        self.cache = {model: {} for model in self.VALUES}

    def _load(self, model, ids):
        cache = self.cache[model]
        missing = {i for i in ids if i not in cache}
        if not missing:
            return
        fields = self.VALUES[model]
        missing = sorted(missing)
        for start in range(0, len(missing), 900):  # stay under SQLite's parameter limit
            part = missing[start : start + 900]
            if self.moment is not None:
                for row in model.history.as_of(self.moment).filter(id__in=part).values(*fields):
                    cache[row["id"]] = SimpleNamespace(**row)
            current = [i for i in part if i not in cache]
            if current:
                for row in model.objects.filter(id__in=current).values(*fields):
                    cache[row["id"]] = SimpleNamespace(**row)

    def for_batch(self, rows):
        """A `related` mapping for each row (None when the row carries its related objects already)."""
        wanted = {}
        needs = []
        for row in rows:
            fields = [
                name
                for name in self.FIELDS
                if getattr(row, f"{name}_id") is not None
                and (self.moment is not None or not row._meta.get_field(name).is_cached(row))
            ]
            needs.append(fields)
            for name in fields:
                wanted.setdefault(self.FIELDS[name], set()).add(getattr(row, f"{name}_id"))
        for model, ids in wanted.items():
            self._load(model, ids)
        return [
            {name: self.cache[self.FIELDS[name]].get(getattr(row, f"{name}_id")) for name in fields}
            if fields
            else None
            for row, fields in zip(rows, needs, strict=True)
        ]


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def iter_cells(rows, *, as_of=None):
    """The cell dicts (ledger_values.cell_values) of the rows, numbered 1..n in 序号.

    `rows`: a queryset or iterable of Outfall or historical Outfall rows, or of ready cell dicts (their
    序号 is filled in when missing). A queryset is read in chunks, sorted by code unless already sorted.
    """
    rows = in_ledger_order(rows)
    if isinstance(rows, models.QuerySet):
        rows = rows.iterator(chunk_size=CHUNK_SIZE)
    related = _Related(as_of_moment(as_of) if as_of is not None else None)
    seq = 0
    for batch in _batches(rows, CHUNK_SIZE):
        models_in_batch = [row for row in batch if not isinstance(row, dict)]
        relations = iter(related.for_batch(models_in_batch)) if models_in_batch else iter(())
        for row in batch:
            seq += 1
            if isinstance(row, dict):
                yield {**row, "seq": row.get("seq") or seq}
            else:
                yield cell_values(row, seq, related=next(relations))


# xlsx ------------------------------------------------------------------------------------------------------


class _Styles:
    """One template cell per style; data cells copy its style array (cheap, no per-cell style lookups)."""

    def __init__(self, ws):
        def template(**attrs):
            cell = WriteOnlyCell(ws)
            for name, value in attrs.items():
                setattr(cell, name, value)
            return cell

        centred = CENTRED
        data = Font(name=FONT_NAME, size=DATA_SIZE)
        self.title = template(font=Font(name=FONT_NAME, bold=True, size=TITLE_SIZE), alignment=centred)
        self.header = template(
            font=Font(name=FONT_NAME, bold=True, size=HEADER_SIZE),
            fill=HEADER_FILL,
            border=BORDER,
            alignment=centred,
        )
        self.text = template(font=data, border=BORDER, alignment=LEFT)
        self.centred = template(font=data, border=BORDER, alignment=centred)
        self.date = template(font=data, border=BORDER, alignment=centred, number_format=DATE_NUMBER_FORMAT)
        self.sign_off = template(font=Font(name=FONT_NAME, size=SIGN_OFF_SIZE), alignment=SIGN_OFF_ALIGNMENT)

    @staticmethod
    def cell(ws, value, template):
        cell = WriteOnlyCell(ws, value)
        cell._style = copy(template._style)
        return safe_cell(cell)


# Columns whose cells are centred (short codes and words); the others are left-aligned and wrap.
CENTRED_KEYS = {
    "seq",
    "county",
    "town",
    "village",
    "entry_mode",
    "conveyance",
    "unit_kind",
    "rectification",
    "registered",
}


def _header_rows(columns):
    """Row 2 and row 3 texts, and the merged ranges (1-based: min_col, min_row, max_col, max_row)."""
    top, bottom, merges = [], [], []
    index = 0
    while index < len(columns):
        column = columns[index]
        first = index + 1
        if column.group is None:
            top.append(column.header)
            bottom.append(None)
            merges.append((first, 2, first, 3))
            index += 1
            continue
        span = 0
        while index + span < len(columns) and columns[index + span].group == column.group:
            span += 1
        for offset in range(span):
            top.append(column.group if offset == 0 else None)
            bottom.append(columns[index + offset].header)
        if span > 1:
            merges.append((first, 2, first + span - 1, 2))
        index += span
    return top, bottom, merges


def _header_heights(columns, top, bottom):
    """Heights (points) of header rows 2 and 3: each sub-header fits row 3, each group header row 2, and a
    header merged down over both rows fits the two together."""
    widths = [column.width for column in columns]
    row3 = row_height(
        [(text, width) for text, width in zip(bottom, widths, strict=True) if text], HEADER_SIZE
    )
    row2, spans = 0.0, []
    for index, text in enumerate(top):
        if text is None:
            continue
        grouped = bottom[index] is not None
        span = index + 1
        while grouped and span < len(top) and top[span] is None and bottom[span] is not None:
            span += 1
        height = row_height([(text, sum(widths[index:span]))], HEADER_SIZE)
        if grouped:
            row2 = max(row2, height)
        else:
            spans.append(height)
    row2 = max([row2] + [height - row3 for height in spans])
    return row2, row3


def write_xlsx(rows_or_queryset, path_or_file, *, title_subject, as_of=None, with_codes=True, city=None):
    """Write the prescribed table to an xlsx file (a path or a binary file object); return the row count.

    `title_subject`: the county name, the unit name or 全市 (see export_subject). `as_of`: the date the
    rows stand for (titled 截至…; historical rows get their related names as of that date too).
    `city`: the city's name for the title (default: the root city jurisdiction's name).

    It prints as one table (core.spreadsheets.print_layout): A4 landscape one page wide, rows 1–3 (title
    and headers) on every page, 第X页 共Y页, each row as high as its wrapped text, and the sign-off line
    under the last row (a blank row, then one cell merged across the table, which the ledger import skips
    as it skips any row holding only a 序号 cell).
    """
    columns = export_columns(with_codes)
    last = len(columns)
    widths = [column.width for column in columns]
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(TABLE_NAME)
    styles = _Styles(ws)
    cell = styles.cell

    for number, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(number)].width = width
    ws.freeze_panes = "A4"
    print_layout(ws, title_rows="1:3")
    heights = ws.row_dimensions  # a write-only sheet reads a row's height when the row is appended

    title = export_title(title_subject, as_of, city)
    heights[1].height = row_height([(title, sum(widths))], TITLE_SIZE)
    ws.append([cell(ws, title, styles.title)] + [cell(ws, None, styles.title) for _ in range(last - 1)])
    top, bottom, merges = _header_rows(columns)
    heights[2].height, heights[3].height = _header_heights(columns, top, bottom)
    ws.append([cell(ws, text, styles.header) for text in top])
    ws.append([cell(ws, text, styles.header) for text in bottom])
    ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=last, max_row=1))
    for min_col, min_row, max_col, max_row in merges:
        ws.merged_cells.add(CellRange(min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row))

    # One styled cell per column (and a date-styled one), refilled for every row: the write-only sheet
    # serialises each appended row at once, so the cells can be reused instead of made 2 million times.
    # Each row's height is set just before it is appended and dropped after, so memory stays flat.
    keys = [column.key for column in columns]
    plain = [cell(ws, None, styles.centred if key in CENTRED_KEYS else styles.text) for key in keys]
    dated = [cell(ws, None, styles.date) for _ in keys]
    count = 0
    number = 3
    for values in iter_cells(rows_or_queryset, as_of=as_of):
        row = []
        texts = []
        for index, key in enumerate(keys):
            value = values.get(key)
            target = dated[index] if isinstance(value, date) else plain[index]
            target.value = value
            row.append(safe_cell(target))
            texts.append((value, widths[index]))
        number += 1
        heights[number].height = row_height(texts, DATA_SIZE)
        ws.append(row)
        del heights[number]
        count += 1
    heights[number + 1].height = 8
    ws.append([])
    sign_off = sign_off_text(sum(widths), SIGN_OFF_SIZE)
    heights[number + 2].height = SIGN_OFF_HEIGHT
    ws.append([cell(ws, sign_off, styles.sign_off)])
    ws.merged_cells.add(CellRange(min_col=1, min_row=number + 2, max_col=last, max_row=number + 2))
    workbook.save(path_or_file)
    return count


# CSV -------------------------------------------------------------------------------------------------------
class _Echo:
    def write(self, value):
        return value


def _csv_text(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def csv_lines(rows_or_queryset, *, as_of=None, with_codes=True):
    """The CSV as lines of text: a BOM, the one header row, then one line per outfall (for streaming)."""
    columns = export_columns(with_codes)
    keys = [column.key for column in columns]
    writer = csv_writer(_Echo())
    yield "\ufeff" + writer.writerow([column.header for column in columns])
    for values in iter_cells(rows_or_queryset, as_of=as_of):
        yield writer.writerow([_csv_text(values.get(key)) for key in keys])


def write_csv(rows_or_queryset, path_or_file, *, as_of=None, with_codes=True):
    """Write the table as CSV (UTF-8 with BOM) to a path or a file object (text or binary); return the
    row count."""
    lines = csv_lines(rows_or_queryset, as_of=as_of, with_codes=with_codes)
    count = -1
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "w", encoding="utf-8", newline="") as handle:
            for count, line in enumerate(lines):  # noqa: B007
                handle.write(line)
        return count
    binary = not hasattr(path_or_file, "encoding")
    for count, line in enumerate(lines):  # noqa: B007
        path_or_file.write(line.encode("utf-8") if binary else line)
    return count


def write_table(rows_or_queryset, path_or_file, fmt, *, title_subject, as_of=None, with_codes=True):
    """write_xlsx or write_csv by format name ("xlsx" or "csv")."""
    if fmt == "csv":
        return write_csv(rows_or_queryset, path_or_file, as_of=as_of, with_codes=with_codes)
    return write_xlsx(
        rows_or_queryset, path_or_file, title_subject=title_subject, as_of=as_of, with_codes=with_codes
    )


def county_by_code(code):
    """The county-level jurisdiction with this code, or None."""
    return Jurisdiction.objects.filter(code=str(code).strip(), level__in=COUNTY_LEVELS).first()
