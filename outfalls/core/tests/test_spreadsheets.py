"""core.spreadsheets: formula-like text is escaped in CSV and typed as plain text in xlsx; numbers stay numbers;
tables print as one table (page set-up, rows as high as their wrapped text, the sign-off line). How LibreOffice
prints the real exports is checked in outfalls/tests/test_print.py."""

import csv
import io
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from outfalls.core.spreadsheets import (
    SIGN_OFF_ITEMS,
    csv_writer,
    print_layout,
    printed_table,
    reads_as_formula,
    row_height,
    safe_cell,
    safe_sheet,
    sign_off_text,
    spreadsheet_safe,
    spreadsheet_unescape,
    text_lines,
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


# Printing ------------------------------------------------------------------------------------------------
def test_text_lines_wrap_chinese_by_character_and_latin_at_break_opportunities():
    # Width 12 at 10 pt holds 5.8 em: five Chinese characters a line.
    assert text_lines("", 12, 10) == 1
    assert text_lines("大同市平城区", 12, 10) == 2
    assert text_lines("大同市平城", 12, 10) == 1
    assert text_lines("大同市\n平城区", 40, 10) == 2  # the text's own line break
    # A code breaks after a hyphen, the unbroken part carried to the next line whole.
    assert text_lines("YH01-140213-GY-0001", 20, 10) == 1
    assert text_lines("YH01-140213-GY-0001", 14, 10) == 2
    # A long Latin word with nowhere to break is cut where the line is full, as Excel and LibreOffice do.
    assert text_lines("91140213MA0XXXXXXX001P", 10, 10) == 3
    # Coordinates fit the ledger's coordinate column on one line.
    assert text_lines("113.981429,39.712666", 20.5, 10) == 1


@given(st.text(alphabet="大同市平城区御河AZaz09-,. ", min_size=1, max_size=60), st.integers(4, 40))
def test_more_width_never_means_more_lines(text, width):
    assert 1 <= text_lines(text, width + 4, 10) <= text_lines(text, width, 10)


def test_a_row_is_as_high_as_its_tallest_cell():
    one = row_height([("御河", 10), ("平城区", 10)], 10)
    three = row_height([("御河", 10), ("大同市平城区新建南路街道", 10)], 10)
    assert three > 2.5 * (one - 3)  # three lines against one (a few points of padding)
    assert row_height([(None, 5)], 10, minimum=30) == 30


def test_sign_off_line_spreads_its_items_over_the_table():
    narrow, wide = sign_off_text(80), sign_off_text(230)
    for text in (narrow, wide):
        assert [item in text for item in SIGN_OFF_ITEMS] == [True] * 4
    assert len(wide) > len(narrow)


def test_print_layout_survives_a_write_only_workbook():
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("表")
    print_layout(ws, title_rows="1:3")
    ws.row_dimensions[1].height = 40
    ws.append(["标题"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    ws = load_workbook(buffer).active
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$3" and ws.print_options.horizontalCentered
    assert ws.oddFooter.center.text.strip() == "第&P页 共&N页"
    assert ws.row_dimensions[1].height == 40


def test_printed_table():
    workbook = Workbook()
    ws = printed_table(
        workbook.active,
        title="测试表",
        headers=["县区", "数量"],
        rows=[["平城区", 3], ["=HYPERLINK(1)", 4], ["合计", 7]],
        widths=[12, 8],
        bold_rows={2},
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    ws = load_workbook(buffer).active
    assert ws["A1"].value == "测试表" and "A1:B1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["县区", "数量"] and ws["A2"].font.b
    assert ws["A4"].data_type == "s" and ws["A4"].quotePrefix  # typed text is never a formula
    assert ws["B4"].value == 4 and ws["A5"].font.b and not ws["A3"].font.b
    assert ws.max_row == 7 and ws["A7"].value.startswith("填报单位（盖章）：")
    assert "A7:B7" in {str(r) for r in ws.merged_cells.ranges}
    assert all(ws.row_dimensions[n].height for n in range(1, 6))
    assert ws.print_title_rows == "$1:$2" and ws.column_dimensions["A"].width == 12
