"""Text that leaves the platform in a spreadsheet (xlsx or CSV) never becomes a formula.

A name such as ``=HYPERLINK("http://x","y")`` or ``@SUM(A1)`` typed into any field would otherwise be a
live formula when the export is opened in Excel, WPS or LibreOffice (formula or CSV injection). Every
xlsx and CSV writer in the platform goes through this module:

- CSV (``csv_writer``, ``spreadsheet_safe``): a text field that a spreadsheet would read as a formula gets
  a leading apostrophe (OWASP's recipe): it starts with ``= + - @``, a tab or a carriage return, also
  after leading spaces (a lone "-" is not a formula). Plain numbers written as text ("-5", "+3.5") are
  left as they are (a spreadsheet reads them as the number they are, never as a formula), and so are real
  numbers, dates and None. A text that already starts with apostrophes followed by such a text gets one
  more, so ``spreadsheet_unescape`` gives back exactly what was written (the ledger import reads our CSV
  back).
- xlsx (``safe_cell``): openpyxl writes a string starting with ``=`` as a formula and ``#N/A`` as an
  error; every text cell is forced to a plain string cell instead, and a text that would read as a
  formula when typed gets the cell's quote prefix (Excel's own leading apostrophe, not part of the
  value). The value in the file is exactly the text; numbers and dates keep their types.

Every xlsx also prints as one table (see "Printing" below): A4 landscape fitted to one page wide, the title
and header rows repeated on every page, 第X页 共Y页 in the footer, row heights computed from the wrapped
text, and the sign-off line counties sign under.
"""

import csv
import functools
import math
import re
import unicodedata
from copy import copy
from datetime import date, datetime

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_SUSPECT_FIRST = frozenset(FORMULA_CHARACTERS + (QUOTE,))
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def reads_as_formula(text):
    """True when a spreadsheet would take this text (as typed, or in a CSV) for a formula."""
    if not isinstance(text, str) or not text:
        return False
    if text[0] not in _SUSPECT_FIRST and not text[0].isspace():
        return False  # the usual case, decided on the first character
    # Apostrophes before such a text (our own escape, or one typed): escaped again (see the module doc).
    text = text.lstrip(QUOTE)
    if not text:
        return False
    if text[0] in ("\t", "\r"):
        return True
    stripped = text.lstrip()
    if stripped in ("", "-", "+"):  # nothing, or a lone dash as tables write "none": not a formula
        return False
    return stripped[0] in FORMULA_CHARACTERS and not _PLAIN_NUMBER.fullmatch(stripped)


def spreadsheet_safe(value):
    """A value for a CSV field: text that would read as a formula gets a leading apostrophe; anything else
    (other text, numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and reads_as_formula(value):
        return QUOTE + value
    return value


def spreadsheet_unescape(value):
    """The inverse of spreadsheet_safe for text read back from a CSV the platform wrote."""
    if isinstance(value, str) and value[:1] == QUOTE and reads_as_formula(value[1:]):
        return value[1:]
    return value


class _SafeWriter:
    """csv.writer whose every field passes through spreadsheet_safe."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([spreadsheet_safe(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

    @property
    def dialect(self):
        return self._writer.dialect


def csv_writer(file, **kwargs):
    """csv.writer(file, **kwargs) that escapes formula-like text in every field it writes."""
    return _SafeWriter(csv.writer(file, **kwargs))


def safe_cell(cell):
    """Make an openpyxl cell holding text a plain string cell (never a formula or an error value), quote-
    prefixed when the text would read as a formula. Cells holding anything else are left alone. Returns
    the cell."""
    value = cell.value
    prefix = False
    if isinstance(value, str):
        cell.data_type = "s"
        prefix = reads_as_formula(value)
    style = cell._style  # (read directly: the quotePrefix property is slow for every cell of a large export)
    if prefix != bool(style is not None and style.quotePrefix):  # a reused write-only cell: last row's prefix
        # openpyxl sets quotePrefix inside the cell's style array, which the workbook may already have
        # registered as the style of earlier cells: give the cell its own copy first.
        if style is not None:
            cell._style = copy(style)
        cell.quotePrefix = prefix
    return cell


def safe_sheet(ws):
    """safe_cell on every cell of a (normal, not write-only) worksheet; call it before saving."""
    for row in ws.iter_rows():
        for cell in row:
            safe_cell(cell)
    return ws


# Printing ------------------------------------------------------------------------------------------------
# Neither Excel nor LibreOffice measures wrapped text again when it opens a file: a row written without a
# height prints one line high, and LibreOffice draws the other lines over the next row. So every writer
# gives each row the height its wrapped text needs (row_height), measured with the metrics below: column
# widths are in Excel's unit, the width of "0" in the workbook's default font (Calibri 11, 7 px at 96 dpi);
# a Chinese character is as wide as the font is high; Latin text is measured per character class, on
# Calibri's (and Carlito's, its metric twin on Linux) widths, rounded up.
PAPER_A4 = 9  # SpreadsheetML paper size code
FONT_NAME = "Calibri"  # every cell's font, named (a font without a name is whatever the reader picks)
TITLE_SIZE = 16
HEADER_SIZE = 10
DATA_SIZE = 10
SIGN_OFF_SIZE = 11
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(vertical="center", wrap_text=True)
SIGN_OFF_ALIGNMENT = Alignment(horizontal="left", vertical="bottom", indent=1)
PAGE_FOOTER = "第&P页 共&N页"  # &P: this page, &N: the number of pages (Excel, WPS and LibreOffice alike)
SIGN_OFF_ITEMS = ("填报单位（盖章）：", "填表人：", "审核人：", "填报日期：　　　年　　月　　日")
SIGN_OFF_HEIGHT = 30  # points: room for a signature
UNIT_PX = 7  # one column-width unit, in pixels at 96 dpi
CELL_PADDING_PX = 6  # what a cell keeps clear of text on its left and right together
LINE_SPACING = 1.4  # one line of Chinese text, as a multiple of the font size (Noto Sans CJK: 1.4)
ROW_PADDING_PT = 3
# Width of Latin characters in em (Calibri): digits, narrow punctuation, capitals, the rest.
_NARROW = frozenset(".,:;'!|()[]{}iIjlft ")
_LATIN_EM = {**{c: 0.51 for c in "0123456789"}, **{c: 0.3 for c in _NARROW}, "-": 0.31, "#": 0.5}
_WIDE_CLASSES = frozenset("WFA")
_BREAK_AFTER = frozenset(" -/,;，、；。")


@functools.cache
def _char_em(char):
    em = _LATIN_EM.get(char)
    if em is not None:
        return em
    if char.isascii():
        return 0.62 if char.isupper() else 0.5
    return 1.0 if unicodedata.east_asian_width(char) in _WIDE_CLASSES else 0.6


_ASCII_EM = [_char_em(chr(code)) for code in range(128)]


def display_text(value):
    """The text a cell shows: dates as yyyy-mm-dd, whole floats without ".0", None as nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@functools.lru_cache(maxsize=4096)  # a column repeats its values (places, rivers, kinds) row after row
def text_lines(text, width, size=11):
    """How many lines `text` wraps to in a column `width` units wide, in a font of `size` points.

    Lines break at the text's own line breaks, between Chinese characters, after spaces, hyphens, slashes
    and commas, and inside a Latin word too long for a line (as Excel and LibreOffice do)."""
    if not text:
        return 1
    room = max(width * UNIT_PX - CELL_PADDING_PX, UNIT_PX) * 72 / 96 / size  # in em
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += _wrapped(paragraph, room)
    return lines


def _wrapped(paragraph, room):
    if len(paragraph) <= room:  # no character is wider than 1 em: fits whatever it holds
        return 1
    if paragraph.isascii() and sum(map(_ASCII_EM.__getitem__, paragraph.encode())) <= room:
        return 1  # codes and coordinates that fit, measured without the loop below
    lines, used, word = 1, 0.0, 0.0  # `word`: the Latin run since the last break opportunity
    for char in paragraph:
        em = _char_em(char)
        wide = em == 1.0
        if used + em > room:
            if not wide and 0 < word < used and word + em <= room:
                used = word  # carry the unbroken Latin run to the next line
            else:
                used = 0.0
                word = 0.0
            lines += 1
        used += em
        word = 0.0 if wide or char in _BREAK_AFTER else word + em
    return lines


def row_height(cells, size=11, minimum=0.0):
    """Points a row needs: `cells` are (value, width in units) pairs, or (value, width, font size)."""
    most = 1
    for cell in cells:
        value, width = cell[0], cell[1]
        lines = text_lines(display_text(value), width, cell[2] if len(cell) > 2 else size)
        if lines > most:
            most = lines
    return max(round(most * size * LINE_SPACING + ROW_PADDING_PT, 1), minimum)


def sign_off_text(width_units, size=11):
    """The sign-off line under a table, its items spread over `width_units` (the table's width)."""
    room = max(width_units * UNIT_PX - CELL_PADDING_PX, 0) * 72 / 96 / size * 0.9  # in em, with slack
    text_em = sum(_char_em(c) for item in SIGN_OFF_ITEMS for c in item)
    gaps = len(SIGN_OFF_ITEMS) - 1
    spaces = max(math.floor((room - text_em) / gaps), 2)  # full-width spaces (1 em) between the items
    return ("\u3000" * spaces).join(SIGN_OFF_ITEMS)


def is_sign_off(values):
    """True for the sign-off line of one of our tables read back (its only filled cell starts 填报单位（盖章）：)."""
    filled = [v for v in values if v not in (None, "")]
    return len(filled) == 1 and isinstance(filled[0], str) and filled[0].startswith(SIGN_OFF_ITEMS[0])


def print_layout(ws, *, title_rows):
    """Page set-up for a table: A4 landscape, one page wide (as many pages high as needed), centred, rows
    `title_rows` ("1:3") repeated at the top of every page, 第X页 共Y页 in the footer.

    Works on normal and write-only worksheets; on a write-only one call it before the first row is
    appended (the sheet's properties are written with the first row)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages as the rows need
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    ws.oddFooter.center.text = PAGE_FOOTER
    ws.oddFooter.center.size = 10
    return ws


def printed_table(ws, *, title, headers, rows, widths, left=(), bold_rows=()):
    """Fill a (normal, not write-only) worksheet with a table that prints as the bureau prints it.

    Row 1 the title merged across the table, row 2 the headers (bold, shaded), then `rows` (lists of
    values, with thin borders; columns whose index is in `left` left-aligned, the others centred; rows whose
    index is in `bold_rows` bold, e.g. a total), a blank row and the sign-off line; column `widths` in
    units; each row as high as its wrapped text; the page set-up of print_layout with rows 1–2 repeated.
    Text goes through safe_sheet. Returns the worksheet.
    """
    last = len(headers)
    for number, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(number)].width = width
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws["A1"].font = Font(name=FONT_NAME, bold=True, size=TITLE_SIZE)
    ws["A1"].alignment = CENTRED
    ws.row_dimensions[1].height = row_height([(title, sum(widths))], TITLE_SIZE)
    ws.append(list(headers))
    header_font = Font(name=FONT_NAME, bold=True, size=HEADER_SIZE)
    for cell in ws[2]:
        cell.font, cell.fill, cell.border, cell.alignment = header_font, HEADER_FILL, BORDER, CENTRED
    ws.row_dimensions[2].height = row_height(list(zip(headers, widths, strict=True)), HEADER_SIZE)
    data_font = Font(name=FONT_NAME, size=DATA_SIZE)
    bold_font = Font(name=FONT_NAME, bold=True, size=DATA_SIZE)
    for index, values in enumerate(rows):
        ws.append(list(values))
        number = ws.max_row
        for column, cell in enumerate(ws[number]):
            cell.font = bold_font if index in bold_rows else data_font
            cell.border = BORDER
            cell.alignment = LEFT if column in left else CENTRED
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
        ws.row_dimensions[number].height = row_height(list(zip(values, widths, strict=True)), DATA_SIZE)
    spacer = ws.max_row + 1
    ws.row_dimensions[spacer].height = 8
    sign_off = spacer + 1
    ws.cell(row=sign_off, column=1, value=sign_off_text(sum(widths), SIGN_OFF_SIZE))
    ws.merge_cells(start_row=sign_off, start_column=1, end_row=sign_off, end_column=last)
    ws.cell(row=sign_off, column=1).font = Font(name=FONT_NAME, size=SIGN_OFF_SIZE)
    ws.cell(row=sign_off, column=1).alignment = SIGN_OFF_ALIGNMENT
    ws.row_dimensions[sign_off].height = SIGN_OFF_HEIGHT
    ws.freeze_panes = "A3"
    print_layout(ws, title_rows="1:2")
    return safe_sheet(ws)
