"""Reading returned ledger files: find attachment 1's table in a hand-filled .xlsx or .csv and yield raw rows.

This is the reading layer of the ledger import. It finds the header rows by their names wherever they are
(ignoring the title row, merged group headers, blank rows, full-width characters, spaces and line breaks in
names, and the source document's own typos; see ledger_template), maps each column to a template key and
yields every data row as a `RawRow` of raw cell values. It does not interpret values: later code parses
numbers, dates and coordinates and reports problems using `Table.column_label`.

    table = read_table(path)                  # or read_table(uploaded_file, filename="平城区.xlsx")
    for row in table.rows():                  # RawRow(number=7, values={"name": "...", "location": ...})
        ...

Readers: .xlsx through xlsx_stream, which streams the sheet's XML a chunk at a time (memory flat in the
file's rows) and gives each cell as python-calamine would; openpyxl in read-only mode reads a file it cannot
read, or the rows after one it cannot parse. .csv in UTF-8 (with or without BOM), UTF-16 with BOM, or
GBK/GB18030, comma, tab or semicolon separated. Row numbers are those a person sees: Excel's row number, or
the CSV line on which the record starts. Every error is a `LedgerFileError` with a Chinese message.
"""

import codecs
import csv
import io
import operator
import os
from typing import NamedTuple

from outfalls.core.spreadsheets import spreadsheet_unescape
from outfalls.geo.gisio import without_paths

from .ledger_template import (
    ALL_COLUMNS,
    GROUP_CONVEYANCE,
    GROUP_OUTFALL,
    GROUP_PLACE,
    GROUP_PLATFORM,
    GROUP_UNIT,
    HEADER_INDEX,
    normalise_header,
)
from .xlsx_guard import WorkbookRefused, check_workbook
from .xlsx_stream import Workbook as StreamWorkbook
from .xlsx_stream import XlsxRefused, XlsxStreamError

HEADER_SCAN_ROWS = 30  # the header must start within the first rows of a sheet
MIN_HEADER_MATCHES = 3  # cells naming known columns for a row to count as the header
SUPPORTED_EXTENSIONS = (".xlsx", ".csv")
CSV_DELIMITERS = (",", "\t", ";")
CSV_SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024

GROUP_HEADERS = (GROUP_PLACE, GROUP_OUTFALL, GROUP_CONVEYANCE, GROUP_UNIT, GROUP_PLATFORM)
_GROUP_TEXTS = frozenset(normalise_header(g) for g in GROUP_HEADERS)
_KNOWN_TEXTS = frozenset(HEADER_INDEX) | _GROUP_TEXTS
_PRINTED = {column.key: column.header for column in ALL_COLUMNS}
_SPLIT_OF = {"location": ("lon", "lat"), "unit_location": ("unit_lon", "unit_lat")}
_AXIS_WORDS = (("经度", 0), ("东经", 0), ("纬度", 1), ("北纬", 1))
_AXIS_NOISE = str.maketrans("", "", "()[]（）【】°-_/:：、,，.。")


class LedgerFileError(ValueError):
    """A file that cannot be read as the ledger table; the message is Chinese and meant for the user."""


class RawRow(NamedTuple):
    number: int  # 1-based row number as Excel shows it, or the CSV line where the record starts
    values: dict  # key -> str | int | float | bool | date | datetime | time | None


def column_letter(index):
    """0-based column index -> Excel letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _display(value):
    """Header text as shown in messages: the file's own characters, without spaces or line breaks."""
    return "".join(str(value).split()) if value is not None else ""


def _header_text(value):
    return normalise_header(value) if isinstance(value, str) else ""


def _coordinate_axis_key(text):
    """`入河排污口地理坐标（经度）`, `排污单位信息经度` and the like -> lon/lat/unit_lon/unit_lat, else None."""
    if "经纬" in text:
        return None
    found = next(((word, axis) for word, axis in _AXIS_WORDS if word in text), None)
    if found is None:
        return None
    word, axis = found
    rest = text.replace(word, "", 1).translate(_AXIS_NOISE)
    if rest in ("", "度", "坐标", "地理坐标", "坐标系"):
        unit = False
    else:
        column = HEADER_INDEX.get(rest)
        if column is not None and column.key in _SPLIT_OF:
            unit = column.key == "unit_location"
        elif "单位" in rest:
            unit = True
        elif "排污口" in rest or "排口" in rest:
            unit = False
        else:
            return None
    return ("unit_lon", "unit_lat")[axis] if unit else ("lon", "lat")[axis]


def _coordinate_key(text):
    """`入河排污口坐标（经纬度）`, `排污单位经纬度` and the like -> location/unit_location, else None."""
    if "坐标" not in text and "经纬度" not in text:
        return None
    rest = text
    for word in ("地理坐标", "坐标", "经纬度", "位置"):
        rest = rest.replace(word, "")
    rest = rest.translate(_AXIS_NOISE)
    if rest in ("入河排污口", "排污口", "入河排口", "排口"):
        return "location"
    if rest in ("排污单位", "入河单位", "单位", "排污责任主体单位"):
        return "unit_location"
    return None


def _resolve(text):
    """The template key a normalised header text names, or None."""
    if not text:
        return None
    column = HEADER_INDEX.get(text)
    if column is not None:
        return column.key
    return _coordinate_axis_key(text) or _coordinate_key(text)


def _is_known(text):
    return bool(text) and (text in _KNOWN_TEXTS or _resolve(text) is not None)


def _score(texts):
    """Cells naming a column (group headers alone do not make a header row)."""
    return sum(1 for t in texts if t and _resolve(t) is not None)


def _nonempty(texts):
    return sum(1 for t in texts if t)


# Header detection --------------------------------------------------------------------------------------
class _Header:
    def __init__(self, columns, labels, header_rows, unknown):
        self.columns = columns  # key -> absolute 0-based column
        self.labels = labels  # key -> printed header text
        self.header_rows = header_rows  # 1-based row numbers
        self.unknown = unknown  # [(letter, text)]


def _texts_of(cells, width):
    texts = [_header_text(v) for v in cells]
    return texts + [""] * (width - len(texts))


def _raw_of(cells, width):
    raw = list(cells)
    return raw + [None] * (width - len(raw))


def _is_sub_header(top, bottom):
    """Whether `bottom` reads as the second header row below `top` (not as a data row)."""
    filled = _nonempty(bottom)
    if not filled:
        return False
    group = ""
    known = 0
    for t, b in zip(top, bottom, strict=True):
        if t:
            group = t
        if not b:
            continue
        if _is_known(b) or _resolve(t + b) or (group and _resolve(group + b)):
            known += 1
    return known >= 1 and known * 2 >= filled


def _is_header_like(texts):
    known = sum(1 for t in texts if t and _is_known(t))
    return known >= 1 and known * 2 >= _nonempty(texts)


def _find_header(head, merges):
    """Locate and map the header in the first rows of a sheet; None when no row looks like a header.

    head: [(row number, cells)] with cells at absolute column positions; merges: [((r0, c0), (r1, c1))]
    0-based, or None when the reader cannot tell.
    """
    if not head:
        return None
    width = max(len(cells) for _, cells in head)
    texts = [_texts_of(cells, width) for _, cells in head]
    h = next((i for i, row in enumerate(texts) if _score(row) >= MIN_HEADER_MATCHES), None)
    if h is None:
        return None

    def neighbour(start, step):
        i = start + step
        while 0 <= i < len(texts) and abs(i - start) <= 2:
            if _nonempty(texts[i]):
                return i
            i += step
        return None

    below, above = neighbour(h, 1), neighbour(h, -1)
    if below is not None and _is_sub_header(texts[h], texts[below]):
        rows = (h, below)
    elif above is not None and _is_header_like(texts[above]) and _is_sub_header(texts[above], texts[h]):
        rows = (above, h)
    else:
        rows = (h,)
    header_numbers = [head[i][0] for i in rows]
    return _map_columns(
        [texts[i] for i in rows],
        [_raw_of(head[i][1], width) for i in rows],
        header_numbers,
        merges,
        width,
    )


def _horizontal_spans(merges, row_number, width):
    """{first column: last column} for the merges across columns that start in a row (1-based row_number)."""
    return {
        c0: min(c1, width - 1)
        for (r0, c0), (_, c1) in merges or ()
        if r0 + 1 == row_number and c1 > c0 and c0 < width
    }


def _map_columns(texts, raws, header_numbers, merges, width):
    bottom, bottom_raw = texts[-1], raws[-1]
    two_rows = len(texts) == 2
    top = texts[0] if two_rows else [""] * width
    top_raw = raws[0] if two_rows else [None] * width

    # Group headers: a top cell spanning several columns, by its merge or (without merges) over the columns
    # to its right whose top cell is empty and whose sub-header is filled.
    group_of = [None] * width  # column -> anchor column of the group above it
    spans = _horizontal_spans(merges, header_numbers[0], width) if two_rows else {}
    if two_rows:
        for anchor, last in spans.items():
            if top[anchor]:
                for c in range(anchor, last + 1):
                    group_of[c] = anchor
        current = None
        for c in range(width):
            if top[c]:
                current = c if bottom[c] else None
                if group_of[c] is None and current is not None:
                    group_of[c] = c
            elif bottom[c] and current is not None and group_of[c] is None:
                group_of[c] = current
            elif not bottom[c]:
                current = None
    span_size = {}
    for anchor in group_of:
        if anchor is not None:
            span_size[anchor] = span_size.get(anchor, 0) + 1

    found = {}  # column -> (key, label)
    unknown = []
    covered = set()  # columns whose only header text is a merge or group reaching them from the left
    for c in range(width):
        t, b = top[c], bottom[c]
        anchor = group_of[c]
        # A header over several columns is a group (its text prefixes theirs), unless nothing is below it.
        grouped = anchor is not None and span_size.get(anchor, 0) > 1 and bool(b or c != anchor)
        own_top = "" if grouped else t
        own_top_raw = None if grouped else top_raw[c]
        candidates = []
        if own_top and b:
            candidates.append((own_top + b, _display(own_top_raw) + _display(bottom_raw[c])))
        if grouped and b:
            g = top[anchor]
            key_g, key_b = _resolve(g + b), _resolve(b)
            if key_g and key_g != key_b:
                candidates.append((g + b, f"{_display(top_raw[anchor])}·{_display(bottom_raw[c])}"))
        if b:
            candidates.append((b, _display(bottom_raw[c])))
        if own_top:
            candidates.append((own_top, _display(own_top_raw)))
        for text, label in candidates:
            key = _resolve(text)
            if key:
                found[c] = (key, label)
                break
        else:
            if b or own_top:
                unknown.append((c, _display(bottom_raw[c]) or _display(own_top_raw)))
            elif grouped:
                covered.add(c)

    # Columns a merged single-row header reaches from its left: the coordinate cell merged over two columns
    # holds longitude and latitude; any other merged header only names its first column.
    header_row = header_numbers[-1]
    for anchor, last in _horizontal_spans(merges, header_row, width).items():
        covered.update(range(anchor + 1, last + 1))
    if two_rows:
        for anchor, last in _horizontal_spans(merges, header_numbers[0], width).items():
            if not any(bottom[anchor : last + 1]):
                covered.update(range(anchor + 1, last + 1))
    rightmost = max((c for c in range(width) if top[c] or bottom[c]), default=-1)
    for c, (key, label) in sorted(found.items()):
        if key not in _SPLIT_OF or c + 1 >= width or (c + 1) in found:
            continue
        next_is_blank = not top[c + 1] and not bottom[c + 1]
        if next_is_blank and ((c + 1) in covered or c + 1 < rightmost):
            lon, lat = _SPLIT_OF[key]
            found[c] = (lon, label)
            found[c + 1] = (lat, label)

    columns, labels = {}, {}
    for c, (key, label) in sorted(found.items()):
        if key in columns:
            first = columns[key]
            raise LedgerFileError(
                f"表头第{header_row}行：{column_letter(first)}列（{labels[key]}）和"
                f"{column_letter(c)}列（{label}）都对应“{_PRINTED[key]}”，请删除或改名其中一列。"
            )
        columns[key] = c
        labels[key] = label
    return _Header(
        columns,
        labels,
        header_numbers,
        [(column_letter(c), text) for c, text in sorted(unknown)],
    )


def _check_required(header):
    columns, labels = header.columns, header.labels
    for lon, lat in (("lon", "lat"), ("unit_lon", "unit_lat")):
        if (lon in columns) != (lat in columns):
            have, missing = (lon, lat) if lon in columns else (lat, lon)
            raise LedgerFileError(
                f"找到了{column_letter(columns[have])}列（{labels[have]}），"
                f"但没有对应的“{_PRINTED[missing]}”列；坐标可以填在一列，也可以分经度、纬度两列。"
            )
    if "name" in columns or "location" in columns or "lon" in columns:
        return
    seen = "、".join(
        f"{column_letter(c)}列（{labels[k]}）" for k, c in sorted(columns.items(), key=lambda i: i[1])
    )
    message = (
        f"表头中没有“{_PRINTED['name']}”列，也没有“{_PRINTED['location']}”列（或经度、纬度两列），"
        f"至少需要其中之一。识别到的表头：{seen or '无'}"
    )
    if header.unknown:
        message += "；未识别的表头：" + "、".join(f"{letter}列（{text}）" for letter, text in header.unknown)
    raise LedgerFileError(message + "。")


# The table ---------------------------------------------------------------------------------------------
class Table:
    """The ledger table found in a file: its columns and a generator of its data rows."""

    def __init__(self, header, source, *, sheet_name=None, reader="", encoding=None, delimiter=None):
        self.columns = header.columns
        self.header_rows = header.header_rows
        self.unknown_headers = header.unknown
        self.headers = header.labels  # key -> header text as printed in the file
        self.sheet_name = sheet_name
        self.reader = reader  # "xlsx-stream", "openpyxl" or "csv"
        self.encoding = encoding
        self.delimiter = delimiter
        self._source = source

    def __repr__(self):
        return f"<Table {self.reader} sheet={self.sheet_name!r} header_rows={self.header_rows} columns={self.columns}>"

    def column_letter(self, key):
        return column_letter(self.columns[key])

    def column_label(self, key):
        """`H列（入河排污口地理坐标）` for messages; the template's header alone for a column not in the file."""
        if key not in self.columns:
            return f"“{_PRINTED.get(key, key)}”列"
        return f"{column_letter(self.columns[key])}列（{self.headers[key]}）"

    def rows(self):
        """Yield RawRow for each data row below the header, skipping blank rows and repeated headers.

        A row is blank when no known column other than 序号 holds a value. A row of column numbers
        (1, 2, 3, … right below the header, as government forms often have) is skipped too.
        """
        offset = self._source.col_offset
        ordered = sorted(self.columns.items(), key=lambda item: item[1])
        keys = tuple(key for key, _ in ordered)
        positions = tuple(c - offset for _, c in ordered)
        pick = (
            operator.itemgetter(*positions) if len(positions) > 1 else (lambda cells: (cells[positions[0]],))
        )
        widest = max(positions)
        seq = keys.index("seq") if "seq" in keys else None
        probes = tuple(keys.index(k) for k in dict.fromkeys((keys[0], "name", "water_body")) if k in keys)
        last_header = self.header_rows[-1]
        first = True
        for number, cells in self._source.iter_rows():
            if number <= last_header:
                continue
            if len(cells) > widest:
                picked = pick(cells)
            else:  # a short row (CSV, openpyxl): the missing cells are empty
                picked = [cells[i] if i < len(cells) else None for i in positions]
            # Empty and whitespace-only text -> None; whole floats -> int (as openpyxl and people read them).
            vals = [
                (v if v and not v.isspace() else None)
                if v.__class__ is str
                else (int(v) if v.__class__ is float and v.is_integer() else v)
                for v in picked
            ]
            present = len(vals) - vals.count(None)
            if present == 0 or (present == 1 and seq is not None and vals[seq] is not None):
                continue  # blank, or numbered in advance and left blank
            if seq is not None:
                v = vals[seq]
                plain = v is not None and (v.__class__ is not str or v.isdigit())
            else:
                plain = False
            if not plain and _looks_like_header(vals, probes):
                continue
            if first:
                first = False
                if _is_column_numbers(vals):
                    continue
            yield RawRow(number, dict(zip(keys, vals, strict=True)))


def _is_column_numbers(values):
    numbers = [v for v in values if v is not None]
    if len(numbers) < MIN_HEADER_MATCHES:
        return False
    try:
        numbers = [int(str(v).strip().strip("()（）")) for v in numbers]
    except ValueError:
        return False
    return numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] in (0, 1)


def _looks_like_header(values, probes):
    """A header row repeated below the first (files pasted together): two or more cells name columns."""
    for i in probes:
        v = values[i]
        if v.__class__ is str and len(v) <= 40 and normalise_header(v) in _KNOWN_TEXTS:
            break
    else:
        return False
    return sum(1 for v in values if v.__class__ is str and _is_known(normalise_header(v))) >= 2


# Sources -----------------------------------------------------------------------------------------------
class _OpenpyxlSource:
    reader = "openpyxl"
    col_offset = 0
    merges = None  # read-only mode does not read merged ranges

    def __init__(self, opener, sheet_name):
        self.opener = opener
        self.sheet_name = sheet_name

    def iter_rows(self):
        workbook = self.opener()
        try:
            sheet = workbook[self.sheet_name]
            sheet.reset_dimensions()  # do not trust the file's <dimension>; read every stored row
            yield from enumerate(sheet.iter_rows(values_only=True), 1)
        finally:
            workbook.close()

    def head(self, count):
        head = []
        for number, cells in self.iter_rows():
            head.append((number, list(cells)))
            if number >= count:
                break
        return head


class _CsvSource:
    reader = "csv"
    col_offset = 0
    merges = None

    def __init__(self, opener, delimiter):
        self.opener = opener  # () -> text stream
        self.delimiter = delimiter

    def iter_rows(self):
        stream = self.opener()
        try:
            reader = csv.reader(stream, delimiter=self.delimiter)
            line = 0
            try:
                for record in reader:
                    # A field the platform's own export escaped (core.spreadsheets) reads back as typed.
                    if any(v[:1] == "'" for v in record):
                        record = [spreadsheet_unescape(v) for v in record]
                    yield line + 1, record
                    line = reader.line_num
            except csv.Error as error:
                raise LedgerFileError(f"CSV 文件第{reader.line_num}行无法解析：{error}。")
        finally:
            stream.close()

    def head(self, count):
        head = []
        for index, (number, cells) in enumerate(self.iter_rows(), 1):
            head.append((number, [v if v and not v.isspace() else None for v in cells]))
            if index >= count:
                break
        return head


# Opening files -----------------------------------------------------------------------------------------
def _name_of(file_or_path, filename):
    if filename:
        return str(filename)
    if isinstance(file_or_path, str | os.PathLike):
        return os.fspath(file_or_path)
    return str(getattr(file_or_path, "name", "") or "")


def _extension(name):
    ext = os.path.splitext(name)[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        shown = os.path.basename(name) or "（无文件名）"
        raise LedgerFileError(f"不支持的文件类型：{shown}，请另存为 .xlsx 或 .csv 后再上传。")
    return ext


def _local_path(file_or_path):
    if isinstance(file_or_path, str | os.PathLike):
        return os.fspath(file_or_path)
    temporary = getattr(file_or_path, "temporary_file_path", None)  # Django's TemporaryUploadedFile
    return temporary() if temporary else None


def _rewind(file):
    if hasattr(file, "seek"):
        file.seek(0)
    return file


def _read_head_bytes(file_or_path, size):
    path = _local_path(file_or_path)
    if path is not None:
        try:
            with open(path, "rb") as f:
                return f.read(size)
        except OSError as error:
            raise LedgerFileError(f"无法打开文件：{error.strerror or error}。")
    data = _rewind(file_or_path).read(size)
    _rewind(file_or_path)
    return data


def _xlsx_problem(file_or_path, shown):
    head = _read_head_bytes(file_or_path, 8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return f"无法读取 {shown}：文件实际是旧版 .xls 格式或设置了打开密码，请取消密码并在 Excel 中另存为 .xlsx。"
    if not head:
        return f"无法读取 {shown}：文件是空的。"
    if not head.startswith(b"PK"):
        return f"无法读取 {shown}：文件内容不是 .xlsx 格式（可能是改了扩展名），请在 Excel 中另存为 .xlsx。"
    return None


def _open_calamine(file_or_path):
    import python_calamine

    path = _local_path(file_or_path)
    if path is not None:
        return python_calamine.CalamineWorkbook.from_path(path)
    return python_calamine.CalamineWorkbook.from_filelike(_rewind(file_or_path))


def _calamine_sheets(workbook):
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    for meta in workbook.sheets_metadata:
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
            yield meta.name


def _openpyxl_opener(file_or_path):
    import openpyxl

    path = _local_path(file_or_path)

    def opener():
        source = path if path is not None else _rewind(file_or_path)
        return openpyxl.load_workbook(source, read_only=True, data_only=True)

    return opener


def _damaged(shown, error):
    return LedgerFileError(
        f"无法读取 {shown}：文件已损坏或不是有效的 .xlsx 文件（{without_paths(str(error), shown)}）。"
    )


def _refused(shown, error):
    return LedgerFileError(f"无法读取 {shown}：{error}。")


def _check_xlsx(file_or_path, shown):
    problem = _xlsx_problem(file_or_path, shown)
    if problem:
        raise LedgerFileError(problem)
    try:  # before any reader allocates for what the file declares
        check_workbook(_local_path(file_or_path) or file_or_path, shown)
    except WorkbookRefused as error:
        raise LedgerFileError(str(error))


def _open_stream(file_or_path, shown):
    """The workbook for xlsx_stream, or None when it cannot read it (openpyxl then reads the file)."""
    try:
        return StreamWorkbook.open(_local_path(file_or_path) or _rewind(file_or_path))
    except XlsxRefused as error:
        raise _refused(shown, error)
    except XlsxStreamError:
        return None


def _openpyxl_rows(file_or_path, sheet_name, shown):
    """() -> the rows of one sheet read by openpyxl: where the streaming reader hands over when the XML
    cannot be parsed past some row (it keeps the rows it gave and takes openpyxl's after them)."""
    opener = _openpyxl_opener(file_or_path)

    def rows():
        try:
            yield from _OpenpyxlSource(opener, sheet_name).iter_rows()
        except Exception as error:  # noqa: BLE001 - openpyxl cannot read it either
            raise _damaged(shown, error)

    return rows


def _read_xlsx(file_or_path, shown):
    _check_xlsx(file_or_path, shown)
    book = _open_stream(file_or_path, shown)
    if book is None:
        return _read_xlsx_openpyxl(file_or_path, shown)
    sheets = (
        (
            name,
            book.sheet(
                member, merge_rows=HEADER_SCAN_ROWS, fallback=_openpyxl_rows(file_or_path, name, shown)
            ),
        )
        for name, member in book.visible_worksheets()
    )
    try:
        return _first_table(shown, sheets, book.sheet_count > 1)
    except XlsxRefused as error:
        raise _refused(shown, error)
    except XlsxStreamError:  # the header rows or the merges cannot be read: the whole file by openpyxl
        return _read_xlsx_openpyxl(file_or_path, shown)


def _read_xlsx_openpyxl(file_or_path, shown):
    opener = _openpyxl_opener(file_or_path)
    try:
        workbook = opener()
    except Exception as error:  # noqa: BLE001
        raise _damaged(shown, error)
    try:
        names = [ws.title for ws in workbook.worksheets if ws.sheet_state == "visible"]
        multiple = len(workbook.sheetnames) > 1
    finally:
        workbook.close()
    return _first_table(shown, ((name, _OpenpyxlSource(opener, name)) for name in names), multiple)


def _first_table(shown, sheets, multiple):
    """The table on the first sheet whose header is found and usable. sheets: (name, source or None)."""
    tried, refused = [], None
    for name, source in sheets:
        tried.append(name)
        if source is None:
            continue
        try:
            header = _header_of(source)
            if header is None:
                continue
            _check_required(header)
        except LedgerFileError as error:
            # A sheet with a header that cannot be used (a summary, an older layout): try the others first.
            refused = refused or LedgerFileError(_where(name, multiple) + str(error))
            continue
        return Table(header, source, sheet_name=name, reader=source.reader)
    raise refused or LedgerFileError(_no_header_message(shown, tried))


def _header_of(source):
    """The header found in a source's first rows (None when there is none).

    calamine's rows are all as wide as the sheet's used range; xlsx_stream's end at each row's last value.
    The width matters only to a merge in a header row that reaches past every value of the first rows (a
    coordinate header merged over two cells whose data starts below them): then the sheet's width is read
    (one more pass over the sheet) and the header found again as calamine's rows would give it."""
    head = source.head(HEADER_SCAN_ROWS)
    merges = source.merges
    header = _find_header(head, merges)
    if header is None or not merges or not hasattr(source, "sheet_width"):
        return header
    width = max(len(cells) for _, cells in head)
    rows = {number - 1 for number in header.header_rows}
    if any(r0 in rows and c0 < width <= c1 for (r0, c0), (_, c1) in merges):
        full = source.sheet_width()
        if full > width:
            head = [(number, list(cells) + [None] * (full - len(cells))) for number, cells in head]
            header = _find_header(head, merges)
    return header


def _where(sheet_name, name_it):
    return f"工作表“{sheet_name}”：" if name_it else ""


def _no_header_message(shown, sheets):
    where = "、".join(f"“{s}”" for s in sheets)
    where = f"工作表{where}的" if sheets else ""
    return (
        f"{shown}：在{where}前{HEADER_SCAN_ROWS}行中没有找到表头（需要一行中至少有{MIN_HEADER_MATCHES}个可识别的列名，"
        "如“序号”“受纳河流名称”“入河排污口名称”“入河排污口地理坐标”）。请使用平台下载的汇总表模板。"
    )


def _detect_encoding(file_or_path, shown):
    """'utf-8-sig', 'utf-16' or 'gb18030' (a superset of GBK), checked over the whole file."""
    head = _read_head_bytes(file_or_path, 4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in _byte_chunks(file_or_path):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise LedgerFileError(f"无法识别 {shown} 的文字编码，请另存为“CSV UTF-8”或 GBK 编码的 .csv 文件。")


def _byte_chunks(file_or_path):
    path = _local_path(file_or_path)
    if path is not None:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
    else:
        file = _rewind(file_or_path)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
        _rewind(file_or_path)


def _text_opener(file_or_path, encoding):
    path = _local_path(file_or_path)
    if path is not None:
        return lambda: open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the reader

    def opener():
        data = _rewind(file_or_path).read()
        if isinstance(data, str):
            return io.StringIO(data, newline="")
        return io.StringIO(data.decode(encoding), newline="")

    return opener


def _sniff_delimiter(opener):
    with opener() as stream:
        sample = stream.read(CSV_SAMPLE_BYTES)
    lines = sample.splitlines()[:HEADER_SCAN_ROWS]
    best, best_key = ",", None
    for delimiter in CSV_DELIMITERS:
        records = list(csv.reader(lines, delimiter=delimiter))
        score = max((_score([_header_text(v) for v in r]) for r in records), default=0)
        key = (score, sum(line.count(delimiter) for line in lines))
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    return best


def _is_text_stream(file_or_path):
    return isinstance(file_or_path, io.TextIOBase)


def _read_csv(file_or_path, shown):
    if _is_text_stream(file_or_path):
        encoding = None
        opener = lambda: io.StringIO(_rewind(file_or_path).read(), newline="")  # noqa: E731
    else:
        encoding = _detect_encoding(file_or_path, shown)
        opener = _text_opener(file_or_path, encoding)
    delimiter = _sniff_delimiter(opener)
    source = _CsvSource(opener, delimiter)
    header = _find_header(source.head(HEADER_SCAN_ROWS), None)
    if header is None:
        raise LedgerFileError(_no_header_message(shown, []))
    _check_required(header)
    return Table(header, source, reader=source.reader, encoding=encoding, delimiter=delimiter)


def read_table(file_or_path, *, filename=None):
    """Find the ledger table in an .xlsx or .csv file (a path, or a binary file object such as an upload).

    `filename` names the file when the object has no usable name (its extension picks the reader and it
    appears in messages). Raises LedgerFileError with a Chinese message.
    """
    name = _name_of(file_or_path, filename)
    ext = _extension(name)
    shown = os.path.basename(name)
    if ext == ".xlsx":
        return _read_xlsx(file_or_path, shown)
    return _read_csv(file_or_path, shown)


def bare_read(path):
    """Read every cell of the first visible sheet (or the CSV) with python-calamine, touching each.

    The benchmark's baseline, defined as calamine (not the streaming reader read_table uses for .xlsx): no
    header detection, no mapping. Returns the number of non-empty cells.
    """
    name = os.fspath(path)
    ext = _extension(name)
    count = 0
    if ext == ".csv":
        encoding = _detect_encoding(path, os.path.basename(name))
        opener = _text_opener(path, encoding)
        rows = _CsvSource(opener, _sniff_delimiter(opener)).iter_rows()
    else:
        try:
            with _open_calamine(path) as workbook:
                sheet = workbook.get_sheet_by_name(next(_calamine_sheets(workbook)))
            rows = enumerate(sheet.iter_rows() if sheet.start is not None else (), 1)
        except Exception:  # noqa: BLE001 - same fallback as read_table
            opener = _openpyxl_opener(path)
            workbook = opener()
            first = next(ws.title for ws in workbook.worksheets if ws.sheet_state == "visible")
            workbook.close()
            rows = _OpenpyxlSource(opener, first).iter_rows()
    for _, cells in rows:
        for v in cells:
            if v is not None and v != "":
                count += 1
    return count


def read_plain_rows(file_or_path, *, filename=None):
    """Every row of the first visible sheet of an .xlsx, or of a .csv, as (row number, [cell values]), the
    header included: for the imports that have a plain one-row header of their own (discharge permits).

    The same readers and guards as read_table: the xlsx is checked by xlsx_guard before any reader opens it
    (xlsx_stream, else openpyxl); the CSV's encoding (UTF-8, UTF-16, GBK) and separator (comma, tab,
    semicolon: the most frequent on the first line) are detected. Raises LedgerFileError with a Chinese
    message."""
    name = _name_of(file_or_path, filename)
    ext = _extension(name)
    shown = os.path.basename(name)
    if ext == ".csv":
        encoding = _detect_encoding(file_or_path, shown)
        opener = _text_opener(file_or_path, encoding)
        with opener() as stream:
            first = stream.readline()
        delimiter = max(CSV_DELIMITERS, key=first.count)
        yield from _CsvSource(opener, delimiter).iter_rows()
        return
    _check_xlsx(file_or_path, shown)
    book = _open_stream(file_or_path, shown)
    visible = book.visible_worksheets() if book is not None else []
    if not visible:
        opener = _openpyxl_opener(file_or_path)
        try:
            workbook = opener()
            first = next(ws.title for ws in workbook.worksheets if ws.sheet_state == "visible")
            workbook.close()
        except Exception as error:  # noqa: BLE001
            raise _damaged(shown, error)
        yield from _OpenpyxlSource(opener, first).iter_rows()
        return
    sheet_name, member = visible[0]
    sheet = book.sheet(member, fallback=_openpyxl_rows(file_or_path, sheet_name, shown))
    try:
        yield from sheet.iter_rows()
    except XlsxRefused as error:
        raise _refused(shown, error)
