"""The ledger import's reading layer: finding attachment 1's table in hand-filled files (no database)."""

import datetime
import io
import itertools
import tracemalloc

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from outfalls.registry import ledger_values, xlsx_stream
from outfalls.registry.ledger_reader import LedgerFileError, RawRow, bare_read, column_letter, read_table
from outfalls.registry.ledger_template import COLUMNS

from . import ledger_files as lf

TEMPLATE_KEYS = [c.key for c in COLUMNS]


def letters(table):
    return {key: column_letter(index) for key, index in table.columns.items()}


@pytest.fixture
def rows():
    rows = lf.sample_rows(4)
    rows[0]["name"] = (
        "大同市平城区　御河（东岸）１号排污口"  # full-width space, brackets and digit: kept as typed
    )
    rows[0]["outlet"] = "  岸边明渠口  "  # spaces kept around text
    rows[1]["section_interval"] = "   "  # whitespace only: empty
    rows[2]["approval_date"] = datetime.datetime(2021, 6, 30, 9, 15)
    rows[3]["village"] = 12  # a number typed in a text column
    return rows


# The messy Excel file ----------------------------------------------------------------------------------
def test_messy_xlsx_columns_header_rows_and_labels(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert table.reader == "xlsx-stream"
    assert table.sheet_name == "汇总表"
    assert table.header_rows == built.header_rows == [3, 4]
    assert letters(table) == built.letters
    assert list(table.columns) == TEMPLATE_KEYS
    assert table.unknown_headers == []
    # Labels show the file's own text (typos and all) without line breaks.
    assert table.column_label("water_body") == "B列（收纳河流名称）"
    assert table.column_label("name") == "G列（入河排污口名称）"
    assert table.column_label("location") == "H列（入河排污口地理坐标）"
    assert table.column_label("responsible_entity") == "L列（排污责任主任单位名称）"
    assert table.column_label("unit_location") == "M列（入河单位地理坐标）"
    assert table.column_label("registered") == "Q列（是否完成登记建档）"
    assert table.column_label("code") == "“入河排污口编码”列"  # not in this file


def test_messy_xlsx_really_has_the_mess(tmp_path, rows):
    """The generator writes what counties send: title, merges across and down, typos, blank rows."""
    built = lf.messy_xlsx(tmp_path, rows)
    sheet = openpyxl.load_workbook(built.path).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:S1", "A3:A4", "B3:F3", "G3:J3", "L3:N3", "O3:O4", "S3:S4"} <= merged
    assert sheet["A1"].value == "大同市平城区入河排污口信息汇总表"
    assert sheet["B4"].value == "收纳河流名称"
    assert sheet["G4"].value == "入河\n排污口\n名称"
    assert sheet["K3"].value == "引流设施" and sheet["K4"].value == "引流方式"
    assert all(cell.value is None for cell in sheet[2]) and all(cell.value is None for cell in sheet[5])
    assert built.row_numbers == [6, 7, 9, 10]  # blank rows under the header and after the second row


def test_messy_xlsx_rows_numbers_and_raw_values(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows, numbered_blank_rows=3)
    read = list(read_table(built.path).rows())
    assert [r.number for r in read] == built.row_numbers == [6, 7, 9, 10]
    assert all(isinstance(r, RawRow) for r in read)
    first, second, third, fourth = (r.values for r in read)
    assert list(first) == TEMPLATE_KEYS
    assert first["seq"] == 1 and isinstance(first["seq"], int)
    assert first["name"] == "大同市平城区　御河（东岸）１号排污口"
    assert first["outlet"] == "  岸边明渠口  "
    assert first["location"] == rows[0]["location"]
    assert first["approval_date"] == rows[0]["approval_date"]
    assert isinstance(first["approval_date"], datetime.date)
    assert second["section_interval"] is None
    assert third["approval_date"] == datetime.datetime(2021, 6, 30, 9, 15)
    assert fourth["village"] == 12 and isinstance(fourth["village"], int)
    assert fourth["permit_number"] == rows[3]["permit_number"]


def test_split_coordinate_columns(tmp_path, rows):
    built = lf.split_coordinates_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert {"lon", "lat", "unit_lon", "unit_lat"} <= set(table.columns)
    assert "location" not in table.columns and "unit_location" not in table.columns
    assert letters(table) == built.letters
    assert table.column_label("lon") == "H列（经度）"
    assert table.column_label("unit_lat") == "O列（排污单位信息·纬度）"
    first = next(table.rows()).values
    assert (first["lon"], first["lat"]) == (rows[0]["lon"], rows[0]["lat"])
    assert (first["unit_lon"], first["unit_lat"]) == (rows[0]["unit_lon"], rows[0]["unit_lat"])


def test_coordinates_under_one_header_merged_over_two_cells(tmp_path, rows):
    built = lf.merged_coordinates_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert table.header_rows == [3]
    assert letters(table) == built.letters
    assert table.columns["lon"] + 1 == table.columns["lat"]
    assert table.column_label("lat") == "I列（入河排污口地理坐标）"
    first = next(table.rows()).values
    assert (first["lon"], first["lat"], first["unit_lon"]) == (
        rows[0]["lon"],
        rows[0]["lat"],
        rows[0]["unit_lon"],
    )


def test_header_starting_in_column_c_row_5(tmp_path, rows):
    built = lf.offset_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert table.header_rows == [5, 6]
    assert table.columns["seq"] == 2 and table.column_label("seq") == "C列（序号）"
    assert letters(table) == built.letters
    read = list(table.rows())
    assert [r.number for r in read] == built.row_numbers == [8, 9, 11, 12]
    assert read[1].values["name"] == rows[1]["name"]


def test_single_header_row(tmp_path, rows):
    built = lf.single_header_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert table.header_rows == [3]
    assert list(table.columns) == TEMPLATE_KEYS
    assert [r.number for r in table.rows()] == built.row_numbers


def test_group_row_with_few_names_above_the_header(tmp_path, rows):
    """Only group headers in the upper row (fewer than three names): still one two-row header."""
    built = lf.write_xlsx(tmp_path / "groups.xlsx", rows, only={"water_body", "county", "name", "location"})
    table = read_table(built.path)
    assert table.header_rows == [3, 4]
    assert letters(table) == built.letters


def test_unknown_column_is_reported_and_ignored(tmp_path, rows):
    rows[0]["备注"] = "已现场核实"
    built = lf.unknown_column_xlsx(tmp_path, rows)
    table = read_table(built.path)
    assert table.unknown_headers == [("H", "备注")]
    assert table.columns["location"] == 8
    assert "备注" not in next(table.rows()).values


def test_platform_code_columns(tmp_path, rows):
    rows[0]["code"] = "YH140213000001"
    built = lf.messy_xlsx(tmp_path, rows, code_columns=True)
    table = read_table(built.path)
    assert table.column_label("code") == "T列（入河排污口编码）"
    assert table.column_label("national_code") == "U列（国家统一编码）"
    assert next(table.rows()).values["code"] == "YH140213000001"


def test_names_split_across_the_two_header_rows(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "入河排污口", None, "设置审批或排污", "整治进展情况", "县区"])
    sheet.append([None, "名称", "地理 坐标", "许可批准时间", "（已完成/正在整治）", None])
    sheet.append([1, "某排口", "113.1,40.1", datetime.date(2020, 5, 1), "已完成", "平城区"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("F1:F2")
    workbook.save(tmp_path / "split.xlsx")
    table = read_table(tmp_path / "split.xlsx")
    assert letters(table) == {
        "seq": "A",
        "name": "B",
        "location": "C",
        "approval_date": "D",
        "rectification": "E",
        "county": "F",
    }
    assert table.column_label("name") == "B列（入河排污口·名称）"
    assert table.column_label("approval_date") == "D列（设置审批或排污许可批准时间）"
    assert [r.number for r in table.rows()] == [3]


def test_repeated_headers_column_numbers_and_prenumbered_rows_are_skipped(tmp_path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = ["序号", "受纳河流名称", "县区", "入河排污口名称", "入河排污口地理坐标"]
    sheet.append(["大同市平城区入河排污口信息汇总表"])
    sheet.append(header)
    sheet.append([1, 2, 3, 4, 5])  # column numbers under the header, as forms have
    sheet.append([1, "御河", "平城区", "甲排口", "113.1,40.1"])
    sheet.append(["大同市云州区入河排污口信息汇总表"])  # a second county's table pasted below
    sheet.append([" 序 号", "收纳河流名称", "县 区", "入河排污口名称", "入河排污口地理坐标"])
    sheet.append([1, "桑干河", "云州区", "乙排口", "113.6,40.0"])
    sheet.append([2])  # numbered in advance, left empty
    sheet.append([None, None, None, None, "\u3000"])
    workbook.save(tmp_path / "pasted.xlsx")
    read = list(read_table(tmp_path / "pasted.xlsx").rows())
    assert [(r.number, r.values["name"]) for r in read] == [(4, "甲排口"), (7, "乙排口")]


# CSV ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "build, encoding, delimiter",
    [
        (lf.gbk_csv, "gb18030", ","),
        (lf.utf8_bom_csv, "utf-8-sig", ","),
        (lf.tab_csv, "utf-8", "\t"),
    ],
)
def test_csv_variants(tmp_path, rows, build, encoding, delimiter):
    built = build(tmp_path, rows)
    table = read_table(built.path)
    assert (table.reader, table.encoding, table.delimiter) == ("csv", encoding, delimiter)
    # The header cell 是否完成\n登记建档 spans two lines, so the sub-header row starts on line 5.
    assert table.header_rows == built.header_rows == [3, 5]
    assert letters(table) == built.letters
    read = list(table.rows())
    assert [r.number for r in read] == built.row_numbers == [9, 10, 12, 13]
    first = read[0].values
    assert first["seq"] == "1"
    assert first["name"] == "大同市平城区　御河（东岸）１号排污口"
    assert first["location"] == rows[0]["location"]
    assert first["approval_date"] == rows[0]["approval_date"].isoformat()
    assert read[1].values["section_interval"] is None


def test_csv_split_coordinates_under_group_headers(tmp_path, rows):
    """No merges in CSV: a group header reaches the empty cells to its right."""
    built = lf.write_csv(
        tmp_path / "a.csv", rows, split_coordinates="columns", title=None, header_row=1, blank_after=()
    )
    table = read_table(built.path)
    assert table.header_rows == [1, 2]
    assert letters(table) == built.letters
    first = next(table.rows())
    assert first.number == 3
    assert (first.values["unit_lon"], first.values["unit_lat"]) == (
        str(rows[0]["unit_lon"]),
        str(rows[0]["unit_lat"]),
    )


def test_two_pairs_of_coordinates_without_group_headers(tmp_path, rows):
    """经度/纬度 twice in one header row: whose they are cannot be told, so the file is refused."""
    built = lf.write_csv(tmp_path / "a.csv", rows, split_coordinates="columns", two_header_rows=False)
    with pytest.raises(LedgerFileError, match="H列（经度）和N列（经度）都对应“入河排污口经度”"):
        read_table(built.path)


def test_csv_semicolon_and_utf8_without_bom(tmp_path, rows):
    built = lf.write_csv(tmp_path / "b.csv", rows, encoding="utf-8", delimiter=";", headers=lf.MESSY_HEADERS)
    table = read_table(built.path)
    assert (table.encoding, table.delimiter) == ("utf-8", ";")
    assert [r.number for r in table.rows()] == built.row_numbers


# Inputs other than a path ------------------------------------------------------------------------------
def test_uploaded_file_objects(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows)
    data = built.path.read_bytes()
    upload = SimpleUploadedFile("平城区.xlsx", data)
    assert [r.number for r in read_table(upload).rows()] == built.row_numbers
    table = read_table(io.BytesIO(data), filename="x.xlsx")
    assert [r.number for r in table.rows()] == built.row_numbers
    assert [r.number for r in table.rows()] == built.row_numbers  # rows() can be read again

    csv_built = lf.gbk_csv(tmp_path, rows)
    upload = SimpleUploadedFile("平城区.csv", csv_built.path.read_bytes())
    table = read_table(upload)
    assert table.encoding == "gb18030"
    assert [r.number for r in table.rows()] == csv_built.row_numbers
    text = csv_built.path.read_text(encoding="gbk")
    assert [r.number for r in read_table(io.StringIO(text), filename="a.csv").rows()] == csv_built.row_numbers


def test_sheets_chosen_first_visible_with_a_header(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows)
    workbook = openpyxl.load_workbook(built.path)
    hidden = workbook.copy_worksheet(workbook["汇总表"])
    hidden.title = "旧版"
    hidden.sheet_state = "hidden"
    workbook.move_sheet("旧版", offset=-1)  # a hidden older copy before the table
    notes = workbook.create_sheet("填表说明", 0)
    notes["A1"] = "请按模板填写，坐标填写十进制度。"
    workbook.create_sheet("空白", 1)
    workbook.active = 0
    workbook.save(built.path)
    assert openpyxl.load_workbook(built.path).sheetnames == ["填表说明", "空白", "旧版", "汇总表"]
    table = read_table(built.path)
    assert table.sheet_name == "汇总表"
    assert [r.number for r in table.rows()] == built.row_numbers


def test_a_sheet_with_an_unusable_header_gives_way_to_the_next(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows)
    workbook = openpyxl.load_workbook(built.path)
    summary = workbook.create_sheet("统计", 0)
    summary.append(["序号", "县区", "乡镇（街道）", "数量"])  # a header, but no name or location column
    summary.append([1, "平城区", "东关街道", 3])
    workbook.active = 0
    workbook.save(built.path)
    assert read_table(built.path).sheet_name == "汇总表"

    workbook["汇总表"].title = "备用"
    workbook["备用"].delete_rows(1, 20)
    workbook.save(built.path)
    with pytest.raises(LedgerFileError, match="^工作表“统计”：表头中没有“入河排污口名称”列"):
        read_table(built.path)


def test_openpyxl_fallback_reads_the_same(tmp_path, rows, monkeypatch):
    built = lf.messy_xlsx(tmp_path, rows)
    merged = lf.merged_coordinates_xlsx(tmp_path, rows)
    expected = [(r.number, r.values) for r in read_table(built.path).rows()]

    def broken(cls, source):
        raise xlsx_stream.XlsxStreamError("the stream cannot read this")

    monkeypatch.setattr(xlsx_stream.Workbook, "open", classmethod(broken))
    table = read_table(built.path)
    assert table.reader == "openpyxl"
    assert letters(table) == built.letters
    got = [(r.number, r.values) for r in table.rows()]
    assert [n for n, _ in got] == [n for n, _ in expected]
    for (_, mine), (_, theirs) in zip(got, expected, strict=True):
        assert {k: v for k, v in mine.items() if k != "approval_date"} == {
            k: v for k, v in theirs.items() if k != "approval_date"
        }
    # openpyxl gives datetimes where calamine gives dates.
    assert got[0][1]["approval_date"].date() == expected[0][1]["approval_date"]
    # No merge information in read-only mode: an unnamed column right after the coordinates is the latitude.
    table = read_table(merged.path)
    assert letters(table) == merged.letters


# Errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["平城区.xls", "平城区.et", "平城区", "平城区.xlsx.pdf"])
def test_unsupported_file_types(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"whatever")
    with pytest.raises(LedgerFileError) as error:
        read_table(path)
    assert str(error.value).startswith(f"不支持的文件类型：{name}，")
    assert "请另存为 .xlsx 或 .csv" in str(error.value)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 .xls 格式或设置了打开密码"),
        (b"<html><body>ledger</body></html>", "不是 .xlsx 格式"),
        (b"", "文件是空的"),
        (b"PK\x03\x04 broken zip", "文件已损坏"),
    ],
)
def test_unreadable_xlsx(tmp_path, content, fragment):
    path = tmp_path / "平城区.xlsx"
    path.write_bytes(content)
    with pytest.raises(LedgerFileError, match=fragment):
        read_table(path)


def test_csv_in_an_unknown_encoding(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("序号,入河排污口名称\n".encode() + b"\x80\xff\x80\n")
    with pytest.raises(LedgerFileError, match="无法识别 a.csv 的文字编码"):
        read_table(path)


def test_no_header_found(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"
    for i in range(40):
        workbook.active.append([f"第{i}行", "说明文字", None, 3.5])
    workbook.active.append(["序号", "入河排污口名称", "入河排污口地理坐标"])  # below row 30: too late
    workbook.save(tmp_path / "x.xlsx")
    with pytest.raises(LedgerFileError) as error:
        read_table(tmp_path / "x.xlsx")
    assert "x.xlsx：在工作表“Sheet1”的前30行中没有找到表头" in str(error.value)
    lf.write_csv(tmp_path / "y.csv", [], title="汇总表", headers={k: f"列{k}" for k in TEMPLATE_KEYS})
    with pytest.raises(LedgerFileError, match="y.csv：在前30行中没有找到表头"):
        read_table(tmp_path / "y.csv")


def test_missing_name_and_location(tmp_path, rows):
    built = lf.messy_xlsx(
        tmp_path, rows, only={"seq", "water_body", "county", "town"}, extra_columns=[("备注", "town")]
    )
    with pytest.raises(LedgerFileError) as error:
        read_table(built.path)
    message = str(error.value)
    assert "没有“入河排污口名称”列，也没有“入河排污口地理坐标”列" in message
    assert "A列（序号）、B列（收纳河流名称）、C列（县区）、D列（乡镇(街道)）" in message
    assert "未识别的表头：E列（备注）" in message


def test_name_alone_or_location_alone_is_enough(tmp_path, rows):
    for only in ({"seq", "county", "town", "name"}, {"seq", "county", "town", "location"}):
        built = lf.messy_xlsx(tmp_path, rows, only=only)
        assert set(read_table(built.path).columns) == only


def test_duplicate_columns(tmp_path, rows):
    built = lf.messy_xlsx(tmp_path, rows, extra_columns=[("受纳水体", "county")])
    with pytest.raises(LedgerFileError) as error:
        read_table(built.path)
    assert str(error.value) == (
        "表头第4行：B列（收纳河流名称）和E列（受纳水体）都对应“受纳河流名称”，请删除或改名其中一列。"
    )


def test_longitude_without_latitude(tmp_path, rows):
    built = lf.write_xlsx(tmp_path / "a.xlsx", rows, two_header_rows=False, extra_columns=[("经度", "name")])
    with pytest.raises(LedgerFileError, match=r"找到了H列（经度），但没有对应的“入河排污口纬度”列"):
        read_table(built.path)


# Speed and memory --------------------------------------------------------------------------------------
def test_bare_read_touches_every_cell(tmp_path):
    rows = lf.sample_rows(4)
    built = lf.messy_xlsx(tmp_path, rows)
    non_empty = sum(
        1 for row in openpyxl.load_workbook(built.path).active.values for v in row if v is not None
    )
    assert bare_read(built.path) == non_empty
    csv_built = lf.gbk_csv(tmp_path, rows)
    assert bare_read(csv_built.path) == non_empty


def test_twenty_thousand_rows_stream(tmp_path):
    rows = itertools.islice(itertools.cycle(lf.sample_rows(500)), 20_000)  # quicker than 20,000 new ones
    built = lf.make_large_xlsx(tmp_path / "big.xlsx", rows, fast=True)
    table = read_table(built.path)
    assert table.header_rows == [2, 3]
    assert letters(table) == built.letters
    tracemalloc.start()
    try:
        count, last = 0, None
        for row in table.rows():
            count += 1
            last = row
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000 and last.number == 20_003
    # Keeping the rows would take about 40 MB of Python objects; streaming them holds a few at a time.
    assert peak < 4 * 1024 * 1024, f"rows() held {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("fast", [False, True])
def test_large_file_builder(tmp_path, fast):
    built = lf.make_large_xlsx(tmp_path / "big.xlsx", 30, fast=fast)
    sheet = openpyxl.load_workbook(built.path).active  # a valid workbook for openpyxl as well
    assert {"A1:S1", "A2:A3", "B2:F2", "S2:S3"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert isinstance(sheet["R4"].value, datetime.datetime)  # a real date cell
    table = read_table(built.path)
    assert table.header_rows == [2, 3] and letters(table) == built.letters
    read = list(table.rows())
    assert [r.number for r in read] == built.row_numbers == list(range(4, 34))
    assert read[0].values["seq"] == 1 and isinstance(read[0].values["approval_date"], datetime.date)


# The words of HJ 1312 and of the city's plan (同政办发〔2023〕8号, attachment 2 and （三）（六）（九）（十）) for
# kinds of outfall and of unit: every one is read, none refused.
PLAN_OUTFALL_WORDS = {
    "工业排污口": "GY", "城镇污水处理厂排污口": "SH", "农业排口": "NY", "城镇雨洪排口": "YH", "其他排口": "QT",
    "工矿企业排污口": "GY", "工矿企业雨洪排口": "GY", "工业及其他各类园区污水处理厂排污口": "GY",
    "工业及其他各类园区污水处理厂雨洪排口": "GY", "规模化畜禽养殖排污口": "NY", "规模化水产养殖排污口": "NY",
    "大中型灌区口": "QT", "大中型灌区排口": "QT", "港口码头排污口": "QT", "规模以下畜禽养殖排污口": "QT",
    "规模以下水产养殖排污口": "QT", "城镇生活污水散排口": "QT", "农村污水处理设施排污口": "QT",
    "农村生活污水散排口": "QT", "其他排污口": "QT", "工业企业排污口": "GY", "矿山排污口": "GY",
    "尾矿库排污口": "GY", "工业企业雨洪排口": "GY", "矿山雨洪排口": "GY", "尾矿库雨洪排口": "GY",
    "中小型水产养殖散排口": "QT", "集中式农村生活污水处理设施排污口": "QT",
}  # fmt: skip
PLAN_UNIT_WORDS = {
    "工矿企业": "industrial", "工业企业": "industrial", "化工类工业企业": "industrial", "矿山企业": "mine",
    "园区污水集中处理设施": "park_wwtp", "城镇污水处理厂": "municipal_wwtp", "规模化畜禽养殖": "livestock",
    "规模化水产养殖": "aquaculture", "公共企事业单位": "institution", "住宅小区": "residential",
    "农村生活污水集中处理设施": "rural_facility", "港口码头": "other", "经开区管委会": "government",
    "县区人民政府": "government",
}  # fmt: skip


@pytest.mark.parametrize("word, code", PLAN_OUTFALL_WORDS.items())
def test_every_word_of_the_standard_and_the_plan_for_an_outfall_type_is_read(word, code):
    (type_code, _, _), error = ledger_values.parse_classification(word)
    assert error is None and type_code == code


@pytest.mark.parametrize("word, kind", PLAN_UNIT_WORDS.items())
def test_every_word_of_the_plan_for_a_unit_is_read(word, kind):
    assert ledger_values.parse_unit_kind(word) == (kind, None)
