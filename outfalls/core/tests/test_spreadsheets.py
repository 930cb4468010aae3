"""core.spreadsheets: formula-like text is escaped in CSV and typed as plain text in xlsx; numbers stay numbers."""

import csv
import io
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from outfalls.core.spreadsheets import (
    csv_writer,
    reads_as_formula,
    safe_cell,
    safe_sheet,
    spreadsheet_safe,
    spreadsheet_unescape,
)

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "  =1+1", " @x"]
PLAIN = ["大同市平城区御河1#雨洪排口", "-", "+", "", "-5", "+3.5", "-0.25", "1-2", "a=b", "—说明", "#N/A"]


def test_csv_fields_that_would_run_get_an_apostrophe():
    for text in FORMULAS:
        assert reads_as_formula(text)
        assert spreadsheet_safe(text) == "'" + text
    for text in PLAIN:
        assert not reads_as_formula(text), text
        assert spreadsheet_safe(text) == text
    # Not text: unchanged, whatever it is.
    for value in (None, -5, 3.25, date(2023, 9, 30), True):
        assert spreadsheet_safe(value) == value
    # An apostrophe the user typed before a formula is kept (escaped once more), so reading back is exact.
    assert spreadsheet_safe("'=1+1") == "''=1+1"
    assert spreadsheet_unescape("''=1+1") == "'=1+1"
    assert spreadsheet_unescape("'it's") == "'it's"
    many = "'" * 5000 + "=1"  # however many apostrophes (no recursion limit)
    assert spreadsheet_unescape(spreadsheet_safe(many)) == many


@given(st.text(max_size=30))
def test_unescape_gives_back_what_was_written(text):
    assert spreadsheet_unescape(spreadsheet_safe(text)) == text


def test_csv_writer_escapes_every_field():
    buffer = io.StringIO()
    csv_writer(buffer).writerows([["=1+1", -5, "-5", "平城区"], ["@A1", 2.5, None, "\t+x"]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["'=1+1", "-5", "-5", "平城区"], ["'@A1", "2.5", "", "'\t+x"]]


def test_xlsx_text_is_a_string_cell_and_numbers_stay_numbers():
    values = ['=HYPERLINK("http://x","y")', "#N/A", "@SUM(A1)", "平城区", -5, 2.5, date(2023, 9, 30), "-5"]
    normal = Workbook()
    normal.active.append(values)
    safe_sheet(normal.active)
    streamed = Workbook(write_only=True)
    ws = streamed.create_sheet("s")
    reused = WriteOnlyCell(ws)  # one cell refilled per row, as the ledger export does
    for value in values:
        reused.value = value
        ws.append([safe_cell(reused)])
    for workbook in (normal, streamed):
        buffer = io.BytesIO()
        workbook.save(buffer)
        read = load_workbook(io.BytesIO(buffer.getvalue()))
        got = list(read.active.iter_rows(values_only=False))
        got = got[0] if len(got) == 1 else [row[0] for row in got]
        assert [c.value for c in got[:4]] == values[:4]  # exactly the text, no apostrophe in the value
        assert [c.data_type for c in got] == ["s", "s", "s", "s", "n", "n", "d", "s"]
        assert [c.quotePrefix for c in got] == [True, False, True, False, False, False, False, False]
        assert got[4].value == -5 and got[5].value == 2.5
