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
"""

import csv
import re
from copy import copy

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
