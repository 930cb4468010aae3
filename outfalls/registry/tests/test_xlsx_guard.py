"""Workbooks that would make a spreadsheet reader allocate without end are refused before any reader opens
them, with a Chinese message naming the sheet and the limit; real tables still read."""

import io
import zipfile

import pytest
from django.test import override_settings
from openpyxl import Workbook

from outfalls.registry import xlsx_guard
from outfalls.registry.ledger_reader import LedgerFileError, read_table

from . import ledger_files


def corner_bomb(path):
    """Values in A1 and XFD1048576: a dense reader wants 17 billion cells (512 GiB) for this 5 KB file."""
    workbook = Workbook()
    workbook.active.title = "汇总表"
    workbook.active["A1"] = "序号"
    workbook.active["XFD1048576"] = "x"
    workbook.save(path)
    return path


def sheet_xml(body, dimension=None):
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main">{head}<sheetData>{body}</sheetData></worksheet>'
    ).encode()


def with_sheet(path, xml):
    """A valid workbook whose first sheet's XML is replaced by xml (as a hand-made bomb would be)."""
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    workbook.save(path)
    source = zipfile.ZipFile(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_corner_bomb_is_refused_by_its_declared_dimension(tmp_path):
    path = corner_bomb(tmp_path / "平城区.xlsx")
    assert path.stat().st_size < 10_000
    with pytest.raises(LedgerFileError) as refused:
        read_table(path)
    message = str(refused.value)
    assert "平城区.xlsx" in message and "工作表“汇总表”" in message
    assert "A1:XFD1048576" in message and "10,000,000" in message


def test_lying_dimension_does_not_help_cells_are_counted_from_the_xml(tmp_path):
    body = '<row r="1"><c r="A1" t="inlineStr"><is><t>序号</t></is></c></row>'
    body += '<row r="400000"><c r="ZZ400000"><v>1</v></c></row>'
    path = with_sheet(tmp_path / "t.xlsx", sheet_xml(body, dimension="A1"))
    with pytest.raises(LedgerFileError, match="延伸到第 400,000 行"):
        read_table(path)


def test_a_million_empty_rows_are_refused_by_the_row_limit(tmp_path):
    body = "".join(f'<row r="{n}"/>' for n in range(1, 1_000_001))
    path = with_sheet(tmp_path / "rows.xlsx", sheet_xml(body))
    assert path.stat().st_size < 3_000_000
    with pytest.raises(LedgerFileError, match="超过行数上限 500,000 行"):
        read_table(path)


def test_cells_without_positions_are_counted_too(tmp_path):
    body = "<row>" + "<c><v>1</v></c>" * 30 + "</row>"
    with override_settings(SPREADSHEET_MAX_CELLS=20):
        path = with_sheet(tmp_path / "norefs.xlsx", sheet_xml(body))
        with pytest.raises(xlsx_guard.WorkbookRefused, match="超过上限 20 个"):
            xlsx_guard.check_workbook(path, "norefs.xlsx")


def test_every_cell_position_counts_in_the_extent(tmp_path):
    body = '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="2"/></row><row r="3"><c r="B3"><v>2</v></c></row>'
    path = with_sheet(tmp_path / "styled.xlsx", sheet_xml(body))
    (facts,) = xlsx_guard.check_workbook(path, "styled.xlsx")
    assert (facts.rows, facts.cells, facts.first_row, facts.last_row) == (2, 3, 1, 3)
    assert (facts.first_col, facts.last_col, facts.extent_cells) == (1, 16384, 3 * 16384)


def test_zip_bomb_member_is_refused_by_its_ratio(tmp_path):
    path = with_sheet(tmp_path / "ratio.xlsx", sheet_xml("<row r='1'/>" + " " * 50_000_000))
    with pytest.raises(LedgerFileError, match="压缩比异常"):
        read_table(path)


def test_unzipped_size_limit(tmp_path):
    path = ledger_files.messy_xlsx(tmp_path, []).path
    with override_settings(SPREADSHEET_MAX_UNZIPPED_MB=0):
        with pytest.raises(LedgerFileError, match="超过上限 0 MB"):
            read_table(path)


def test_a_real_table_passes_and_its_facts_are_counted(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "附件1"
    for row in range(1, 101):
        for col in range(1, 11):
            sheet.cell(row=row, column=col, value=row * col)
    path = tmp_path / "real.xlsx"
    workbook.save(path)
    (facts,) = xlsx_guard.check_workbook(path, "real.xlsx")
    assert (facts.name, facts.declared, facts.cells, facts.rows) == ("附件1", "A1:J100", 1000, 100)
    assert facts.extent_cells == 1000
