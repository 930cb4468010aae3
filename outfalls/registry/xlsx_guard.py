"""The check every xlsx workbook passes before a spreadsheet reader (calamine, openpyxl) opens it.

A 5 KB workbook can make a reader allocate hundreds of gigabytes: calamine allocates a dense grid from the
first to the last cell, so one value in A1 and one in XFD1048576 asks for 17 billion cells (512 GiB), and
the process aborts. This module looks at the workbook without loading it:

1. the zip's central directory: member count, unpacked size, compression ratio (geo/archives.py);
2. each worksheet's XML, streamed a chunk at a time through a bounded scanner: the declared
   ``<dimension ref>``, the rows and the cells, their extent (first to last row and column) and their
   count.

Anything over the limits (settings ``SPREADSHEET_MAX_ROWS``, ``SPREADSHEET_MAX_CELLS``,
``SPREADSHEET_MAX_UNZIPPED_MB``) is refused with a Chinese message that names the sheet and the limit.

    check_workbook(path_or_file, "平城区.xlsx")      # WorkbookRefused, or the sheets' facts
"""

import re
from dataclasses import dataclass

from django.conf import settings

from outfalls.geo import archives

MAX_MEMBERS = 10_000
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([^"]*)"')


def _patterns(prefix):
    """(row pattern, cell openings, cell-column pattern) for a sheet whose elements carry this prefix
    (usually none; some writers use "x:"). Literal openings keep the scan in C at tens of MB a second."""
    p = re.escape(prefix)
    row = re.compile(rb"<" + p + rb'row[\s>/](?:[^>]*?\br="(\d{1,9})")?')
    cells = (b"<" + prefix + b"c ", b"<" + prefix + b"c>")
    column = re.compile(rb"<" + p + rb'c\s[^>]*?\br="([A-Za-z]{1,3})\d')
    return row, cells, column


_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
MAX_TAG_BYTES = 64 * 1024


class WorkbookRefused(ValueError):
    """A workbook refused before reading; the message is Chinese and meant for the user."""


def _limits():
    return (
        settings.SPREADSHEET_MAX_ROWS,
        settings.SPREADSHEET_MAX_CELLS,
        settings.SPREADSHEET_MAX_UNZIPPED_MB * archives.MB,
    )


def column_number(letters):
    """Excel column letters -> 1-based number: A -> 1, XFD -> 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


@dataclass
class SheetFacts:
    name: str
    declared: str = ""  # the <dimension ref>, as written
    declared_cells: int = 0
    rows: int = 0  # <row> elements
    cells: int = 0  # <c> elements
    first_row: int = 0
    last_row: int = 0
    first_col: int = 0
    last_col: int = 0

    @property
    def extent_cells(self):
        if not self.cells:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_col - self.first_col + 1)


def _area(ref):
    """Cells in a dimension such as A1:XFD1048576 (0 when it cannot be read)."""
    corners = ref.split(":")
    found = [_CELL_REF.match(c.strip()) for c in corners]
    if not corners or not all(found) or len(found) > 2:
        return 0
    (c1, r1), (c2, r2) = (
        (column_number(found[0][1]), int(found[0][2])),
        (column_number(found[-1][1]), int(found[-1][2])),
    )
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def workbook_sheets(archive):
    """The workbook's sheets in its own order: [(name, member path, state, kind)] from xl/workbook.xml and
    its relationships. state: "visible", "hidden" or "veryHidden"; kind: the relationship type's last word
    ("worksheet", "chartsheet", ...). Targets may be relative to xl/ or absolute (/xl/...). Empty when the
    workbook or its relationships cannot be read."""
    try:
        workbook = archive.read("xl/workbook.xml")[: 4 * archives.MB]
        rels = archive.read("xl/_rels/workbook.xml.rels")[: 4 * archives.MB]
    except (KeyError, OSError, ValueError, archives.zipfile.BadZipFile):
        return []
    targets = {}
    for tag in _RELATIONSHIP.findall(rels):
        attrs = dict(_ATTR.findall(tag))
        target = attrs.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
        if target and not target.startswith("xl/"):
            target = "xl/" + target
        kind = attrs.get(b"Type", b"").decode("utf-8", "replace").rsplit("/", 1)[-1]
        targets[attrs.get(b"Id", b"")] = (target, kind)
    sheets = []
    for tag in _SHEET.findall(workbook):
        attrs = {key.split(b":")[-1] if key != b"r:id" else key: value for key, value in _ATTR.findall(tag)}
        rel = attrs.get(b"r:id") or next((v for k, v in attrs.items() if k.endswith(b"id")), b"")
        if rel in targets:
            name = _unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
            state = attrs.get(b"state", b"visible").decode("utf-8", "replace")
            target, kind = targets[rel]
            sheets.append((name, target, state, kind))
    return sheets


def _sheet_names(archive, shown):
    """{member path: sheet name} from the workbook's own list (so messages say "Sheet1", not sheet1.xml)."""
    return {path: name for name, path, _, _ in workbook_sheets(archive)}


def _unescape(text):
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    ).replace("&amp;", "&")


class _Scanner:
    """Counts rows and cells of one sheet's XML as it streams by; refuses as soon as a limit is passed."""

    def __init__(self, facts, max_rows, max_cells, refuse):
        self.facts, self.max_rows, self.max_cells, self.refuse = facts, max_rows, max_cells, refuse
        self.row = 0
        self.patterns = None
        self.in_data = False

    def feed_all(self, chunks):
        carry = b""
        for chunk in chunks:
            data = carry + chunk
            # Attribute values cannot hold a raw "<", so every tag that starts before the last "<" is whole.
            if self.patterns is None:
                root = _ROOT.search(data)
                if root is None and len(data) < MAX_TAG_BYTES:
                    carry = data
                    continue
                self.patterns = _patterns(root.group(1) or b"" if root else b"")
            split = data.rfind(b"<")
            if split < 0:
                carry = b""
                continue
            self.feed(data[:split])
            carry = data[split:]
            if len(carry) > MAX_TAG_BYTES:
                carry = b""  # no spreadsheet writes a tag this long; nothing in it is a row or a cell
        if self.patterns is None:
            self.patterns = _patterns(b"")
        self.feed(carry)
        return self.facts

    def feed(self, data):
        """Rows one by one (there are few); cells by counting and their columns by their distinct letters,
        in C (there may be millions)."""
        facts = self.facts
        if not self.in_data:  # <dimension> comes before <sheetData>, if at all
            self.in_data = b"sheetData" in data
            found = _DIMENSION.search(data)
            if found and not facts.declared:
                facts.declared = found.group(1).decode("ascii", "replace")[:40]
                facts.declared_cells = _area(facts.declared)
                if facts.declared_cells > self.max_cells:
                    self.refuse(
                        f"声明的数据范围 {facts.declared} 有 {facts.declared_cells:,} 个单元格，"
                        f"超过上限 {self.max_cells:,} 个"
                    )
        row_pattern, cell_openings, column_pattern = self.patterns
        for number in row_pattern.findall(data):
            self.row = int(number) if number else self.row + 1
            facts.rows += 1
            if self.row > self.max_rows or facts.rows > self.max_rows:
                self.refuse(f"第 {self.row:,} 行超过行数上限 {self.max_rows:,} 行")
            facts.first_row = min(facts.first_row or self.row, self.row)
            facts.last_row = max(facts.last_row, self.row)
        cells = sum(data.count(opening) for opening in cell_openings)
        if not cells:
            return
        facts.cells += cells
        if facts.cells > self.max_cells:
            self.refuse(f"单元格数超过上限 {self.max_cells:,} 个")
        columns = [column_number(letters.decode("ascii")) for letters in set(column_pattern.findall(data))]
        if columns:
            facts.first_col = min(facts.first_col or min(columns), *columns)
            facts.last_col = max(facts.last_col, *columns)
        if not facts.first_col:  # cells without positions: one column each, as many as there are
            facts.first_col, facts.last_col = 1, max(facts.last_col, 1)
        if facts.extent_cells > self.max_cells:
            self.refuse(
                f"数据从第 {facts.first_row} 行第 {facts.first_col} 列延伸到第 {facts.last_row:,} 行"
                f"第 {facts.last_col:,} 列，共 {facts.extent_cells:,} 个单元格，超过上限 {self.max_cells:,} 个"
            )


def check_workbook(source, shown):
    """Check an .xlsx (a path or a binary file object) before any reader opens it.

    Returns [SheetFacts] for its worksheets; raises WorkbookRefused with a Chinese message.
    """
    max_rows, max_cells, max_bytes = _limits()
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        try:
            archive = archives.open_zip(source, shown)
        except archives.ArchiveRefused:
            raise WorkbookRefused(f"无法读取 {shown}：文件已损坏或不是有效的 .xlsx 文件。")
        with archive:
            members = archives.check_zip(archive, shown, max_members=MAX_MEMBERS, max_total_bytes=max_bytes)
            names = _sheet_names(archive, shown)
            sheets = []
            for info in members:
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                facts = SheetFacts(names.get(info.filename) or info.filename.rsplit("/", 1)[-1])

                def refuse(reason, facts=facts):
                    raise WorkbookRefused(
                        f"无法读取 {shown}：工作表“{facts.name}”{reason}，文件可能损坏或被恶意构造。"
                        "请删除多余的行列（或只保留数据区域另存为新文件）后重新上传。"
                    )

                scanner = _Scanner(facts, max_rows, max_cells, refuse)
                sheets.append(scanner.feed_all(archives.iter_member(archive, info, shown)))
    except archives.ArchiveRefused as error:
        raise WorkbookRefused(f"无法读取 {error.message}")
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    return sheets
