"""The streaming .xlsx reader gives every cell as python-calamine does (None for calamine's ""), holds one
chunk of the sheet at a time, refuses hostile XML and hands over to openpyxl where it cannot read."""

import datetime
import io
import itertools
import tracemalloc
import zipfile
from xml.sax.saxutils import escape, quoteattr

import openpyxl
import pytest
import python_calamine
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from outfalls.registry import ledger_reader, xlsx_stream
from outfalls.registry.ledger_reader import LedgerFileError, bare_read, read_plain_rows, read_table
from outfalls.registry.xlsx_stream import Workbook, XlsxRefused, XlsxStreamError

from . import ledger_files as lf

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# Workbooks written by hand, for what openpyxl does not write --------------------------------------------
def sheet_xml(body, *, prefix="", after=""):
    """A worksheet whose sheetData holds body; `prefix` ("x:") puts every element in a named namespace."""
    p = prefix
    declaration = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}worksheet {declaration}>'
        f"<{p}sheetData>{body}</{p}sheetData>{after}</{p}worksheet>"
    )


def styles_xml(number_formats=(), custom=None):
    """cellXfs with these numFmtIds (style 0 is General); custom: {numFmtId: format code}."""
    codes = "".join(f'<numFmt numFmtId="{i}" formatCode={quoteattr(c)}/>' for i, c in (custom or {}).items())
    xfs = "".join(f'<xf numFmtId="{i}" fontId="0" applyNumberFormat="1"/>' for i in (0, *number_formats))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts>{codes}</numFmts>'
        f'<cellStyleXfs count="1"><xf numFmtId="22"/></cellStyleXfs><cellXfs>{xfs}</cellXfs></styleSheet>'
    )


def shared_xml(items):
    """items: raw <si> contents, or plain texts (escaped, in one <t>)."""
    body = "".join(f"<si>{i if i.startswith('<') else f'<t>{escape(i)}</t>'}</si>" for i in items)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{body}</sst>'


def write_package(path, sheets, *, strings=None, styles=None, date1904=False, absolute=False):
    """A hand-made .xlsx. sheets: [(name, xml, state, kind)] with kind "worksheet" or "chartsheet"."""
    relations, entries = [], []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", lf._PACKAGE["[Content_Types].xml"])
        package.writestr("_rels/.rels", lf._PACKAGE["_rels/.rels"])
        for number, (name, xml, state, kind) in enumerate(sheets, 1):
            folder = "worksheets" if kind == "worksheet" else "chartsheets"
            target = f"{'/xl/' if absolute else ''}{folder}/sheet{number}.xml"
            relations.append(
                f'<Relationship Id="rId{number}" Type="{RELATIONSHIP}/{kind}" Target="{target}"/>'
            )
            shown = f' state="{state}"' if state else ""
            entries.append(f'<sheet name={quoteattr(name)} sheetId="{number}"{shown} r:id="rId{number}"/>')
            package.writestr(f"xl/{folder}/sheet{number}.xml", xml)
        if strings is not None:
            relations.append(
                f'<Relationship Id="rS" Type="{RELATIONSHIP}/sharedStrings" Target="sharedStrings.xml"/>'
            )
            package.writestr("xl/sharedStrings.xml", shared_xml(strings))
        if styles is not None:
            relations.append(f'<Relationship Id="rY" Type="{RELATIONSHIP}/styles" Target="styles.xml"/>')
            package.writestr("xl/styles.xml", styles)
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{"".join(relations)}</Relationships>',
        )
        properties = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
        package.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIP}">'
            f"{properties}<sheets>{''.join(entries)}</sheets></workbook>",
        )
    return path


def one_sheet(path, body, **options):
    return write_package(path, [("Sheet1", sheet_xml(body), None, "worksheet")], **options)


def rewrite(path, member, change):
    """Replace one member of a package by change(its bytes)."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data) if info.filename == member else data)
    return path


def cells_row(number, values):
    """<row> of numeric or typed cells: values are (type or None, raw <v> text) or None."""
    cells = "".join(
        f'<c r="{ledger_reader.column_letter(i)}{number}"{f" t={quoteattr(t)}" if t else ""}><v>{v}</v></c>'
        for i, (t, v) in enumerate(values)
        if v is not None
    )
    return f'<row r="{number}">{cells}</row>'


# Comparing with python-calamine ------------------------------------------------------------------------
def typed(cells):
    return {key: (type(value).__name__, value) for key, value in cells.items()}


def calamine_cells(path, sheet=None):
    """{(row number, column): value} of the non-empty cells as python-calamine gives them, and the
    rows' width (the last used column + 1)."""
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    found = workbook.get_sheet_by_name(sheet or next(ledger_reader._calamine_sheets(workbook)))
    if found.start is None:
        return {}, 0
    first = found.start[1]
    cells = {}
    for number, row in enumerate(found.iter_rows(), 1):
        for column, value in enumerate(row, first):
            if value != "":
                cells[number, column] = value
    return cells, first + found.width


def stream_cells(path, sheet=None):
    book = Workbook.open(str(path))
    names = dict(book.visible_worksheets())
    member = names[sheet] if sheet else next(iter(names.values()))
    source = book.sheet(member)
    cells = {}
    for number, row in source.iter_rows():
        for column, value in enumerate(row):
            if value is not None and value != "":
                cells[number, column] = value
    return cells, source.sheet_width()


def assert_same_as_calamine(path, sheet=None):
    mine, my_width = stream_cells(path, sheet)
    theirs, their_width = calamine_cells(path, sheet)
    assert typed(mine) == typed(theirs)
    assert my_width == their_width
    return mine


# The corpus --------------------------------------------------------------------------------------------
def test_openpyxl_workbook_cell_by_cell(tmp_path):
    """What openpyxl writes (inline strings, typed numbers, date styles, formulas without cached values)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "汇总表"
    sheet.append(["大同市平城区入河排污口信息汇总表"])
    sheet.append([])
    sheet.append(
        ["序号", " 前后空格 ", "换\r\n行", "a&b<c>\"'", "_x000D_", "中文", "", "=1+1", "#N/A", "#DIV/0!"]
    )
    sheet.append([1, 2.5, -3, 10**15, 1e-7, True, False, 0, None, 113.300001])
    sheet.append(
        [
            datetime.date(2021, 6, 30),
            datetime.datetime(2021, 6, 30, 9, 15),
            datetime.time(9, 15, 30),
            datetime.timedelta(hours=30, minutes=5),
            datetime.datetime(1900, 1, 1, 12),
            datetime.date(1900, 3, 1),
        ]
    )
    for row, code in enumerate(['yyyy"年"m"月"d"日"', "[h]:mm:ss", "0.00", "@", "mm:ss", 'm"M"d"D";@'], 6):
        cell = sheet.cell(row, 2, 45000.25)
        cell.number_format = code
    sheet.merge_cells("A1:J1")
    sheet.merge_cells("A7:A9")
    sheet["L40"] = "far"
    workbook.save(tmp_path / "o.xlsx")
    mine = assert_same_as_calamine(tmp_path / "o.xlsx")
    assert mine[3, 1] == " 前后空格 " and mine[3, 2] == "换\r\n行" and mine[3, 3] == "a&b<c>\"'"
    assert mine[5, 0] == datetime.date(2021, 6, 30) and mine[5, 3] == datetime.timedelta(hours=30, minutes=5)
    assert mine[6, 1] == datetime.datetime(2023, 3, 15, 6) and mine[7, 1] == datetime.timedelta(days=45000.25)
    assert mine[8, 1] == 45000.25 and (3, 8) not in mine  # an error cell: None, as calamine's ""
    book = Workbook.open(str(tmp_path / "o.xlsx"))
    source = book.sheet(book.visible_worksheets()[0][1])
    assert source.merges == [((0, 0), (0, 9)), ((6, 0), (8, 0))]
    assert (
        source.merges
        == python_calamine.CalamineWorkbook.from_path(str(tmp_path / "o.xlsx"))
        .get_sheet_by_index(0)
        .merged_cell_ranges
    )


def test_openpyxl_1904_workbook(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    workbook.active.append(
        [datetime.date(2021, 6, 30), datetime.datetime(1904, 1, 2, 6), datetime.time(6, 30)]
    )
    workbook.save(tmp_path / "mac.xlsx")
    mine = assert_same_as_calamine(tmp_path / "mac.xlsx")
    assert mine[1, 0] == datetime.date(2021, 6, 30) and mine[1, 1] == datetime.datetime(1904, 1, 2, 6)


def test_shared_strings_rich_text_phonetic_runs_entities_and_escapes(tmp_path):
    strings = [
        "plain",
        "<t>  trimmed  </t>",
        '<t xml:space="preserve">  kept  </t>',
        "<t>x_x000D_y_x4E2D_z_x000a_ _x005F_x000D_</t>",
        "<t>a&#13;b\r\nc\rd &amp;&lt;&gt;&quot;&apos;&#x4E2D;&#20013;</t>",
        '<r><t>ri</t></r><r><rPr><b/></rPr><t xml:space="preserve"> ch</t></r><rPh sb="0" eb="1"><t>PH</t></rPh>',
        '<t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/>',
        "<t/>",
        "<t><![CDATA[ <cdata> ]]></t>",
        "<t>&#32;lead and trail&#9;</t>",
    ]
    body = (
        '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(10)) + "</row>"
    )
    body += '<row r="2"><c r="A2" t="s"><v></v></c><c r="B2" t="s"><v>x</v></c></row>'
    path = one_sheet(tmp_path / "sst.xlsx", body, strings=strings)
    mine = assert_same_as_calamine(path)
    assert [mine.get((1, c)) for c in range(10)] == [
        "plain",
        "trimmed",
        "  kept  ",
        "x\ry_x4E2D_z\n _x000D_",
        "a\rb\nc\nd &<>\"'中中",
        "ri ch",
        "漢字",
        None,
        "<cdata>",
        "lead and trail",
    ]
    assert mine[2, 1] == "plain"  # calamine reads an index that is not a number as 0


def test_plain_shared_strings_take_the_fast_path(tmp_path):
    strings = [f"文本{i}" for i in range(3000)] + ["  with spaces  ", "a & b"]
    strings[7] = '<t xml:space="preserve"> 保留 </t>'
    body = '<row r="1">' + "".join(f'<c r="A1" t="s"><v>{i}</v></c>' for i in range(1)) + "</row>"
    path = one_sheet(tmp_path / "fast.xlsx", body, strings=strings)
    book = Workbook.open(str(path))
    assert book.strings[:3] == ["文本0", "文本1", "文本2"]
    assert book.strings[7] == " 保留 " and book.strings[-2:] == ["with spaces", "a & b"]
    calls = []
    original = xlsx_stream._read_string
    xlsx_stream._read_string = lambda *a: calls.append(a) or original(*a)
    try:
        again = xlsx_stream._shared_strings(xlsx_stream._chunks(book.zip(), "xl/sharedStrings.xml"))
    finally:
        xlsx_stream._read_string = original
    assert again == book.strings and calls == []  # every piece read by the one pattern


INLINE_AND_TYPED = (
    '<row r="1" spans="1:9" ht="20" customHeight="1">'
    '<c r="A1" t="inlineStr"><is><t> 行内 </t></is></c>'
    '<c r="B1" t="inlineStr"><is><r><t>富</t></r><r><t xml:space="preserve"> 文本</t></r>'
    '<rPh sb="0" eb="1"><t>ふ</t></rPh></is></c>'
    '<c r="C1" t="inlineStr"><is><t>x_x000D_y&amp;z</t></is></c>'
    '<c r="D1" t="inlineStr"><v>ignored</v></c>'
    '<c r="E1" t="inlineStr"><is><t></t></is></c>'
    '<c r="F1" t="b"><v>1</v></c><c r="G1" t="b"><v>0</v></c><c r="H1" t="b"><v>true</v></c>'
    "</row>"
    '<row r="2"><c r="A2" t="e"><v>#DIV/0!</v></c><c r="B2" t="e"><v>#N/A</v></c><c r="C2" t="e"><v>#NAME?</v></c>'
    '<c r="D2" t="e"><v>#NULL!</v></c><c r="E2" t="e"><v>#NUM!</v></c><c r="F2" t="e"><v>#REF!</v></c>'
    '<c r="G2" t="e"><v>#VALUE!</v></c><c r="J2" t="e"><v>#N/A</v></c></row>'
    '<row r="3"><c r="A3"><f>1+1</f><v>2</v></c><c r="B3" t="str"><f>A1&amp;"x"</f><v>a &amp; b_x000D_ </v></c>'
    '<c r="C3" t="b"><f>TRUE()</f><v>1</v></c><c r="D3"><f t="shared" ref="D3:D4" si="0">A3*2</f><v>4</v></c>'
    '<c r="E3"><f>NOW()</f></c><c r="F3" t="str"><f>""</f><v></v></c><c r="G3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    '<c r="H3" t="str"><v>  p  </v></c><c r="I3"><v>1</v><f>X</f></c></row>'
    '<row r="4"><c r="D4"><f t="shared" si="0"/><v>8</v></c><c r="E4" t="d"><v>2023-03-15</v></c>'
    '<c r="F4" t="d"><v>2023-03-15T10:20:30.123456789</v></c><c r="G4" t="d"><v>10:20</v></c>'
    '<c r="H4" t="d"><v>2023-03-15T10:20:30Z</v></c><c r="I4" t="d"><v>2023-3-5</v></c>'
    '<c r="J4" t="d"><v>junk</v></c><c r="K4" t="d"><v></v></c></row>'
    '<row r="5"><c r="A5"><v>1e3</v></c><c r="B5"><v>-0.5</v></c><c r="C5"><v>abc</v></c><c r="D5"><v> 1</v></c>'
    '<c r="E5"><v>1_0</v></c><c r="F5"><v>inf</v></c><c r="G5"><v>+5</v></c><c r="H5"><v>.5</v></c>'
    '<c r="I5"><v>0x10</v></c><c r="J5"><v>&#49;</v></c><c r="K5"><v>5&amp;6</v></c><c r="L5" t="n"><v>7</v></c>'
    '<c r="M5"><v><![CDATA[5]]></v></c><c r="N5" s="0"/><c r="O5" t="s"/></row>'
)


def test_inline_strings_booleans_errors_formulas_iso_dates_and_numbers(tmp_path):
    path = one_sheet(tmp_path / "typed.xlsx", INLINE_AND_TYPED)
    mine = assert_same_as_calamine(path)
    assert [mine.get((1, c)) for c in range(8)] == [
        "行内",
        "富 文本",
        "x\ry&z",
        None,
        None,
        True,
        False,
        True,
    ]
    assert not any(mine.get((2, c)) for c in range(10))  # error cells: empty, but they count in the width
    assert [mine.get((3, c)) for c in range(9)] == [
        2.0,
        "a & b\r ",
        True,
        4.0,
        None,
        None,
        None,
        "  p  ",
        None,
    ]
    assert mine[4, 4] == datetime.date(2023, 3, 15) and mine[4, 6] == datetime.time(10, 20)
    assert mine[4, 5] == datetime.datetime(2023, 3, 15, 10, 20, 30, 123456)
    assert mine[4, 7] == "2023-03-15T10:20:30Z" and mine[4, 8] == datetime.date(2023, 3, 5)
    assert [mine.get((5, c)) for c in range(11)] == [
        1000.0,
        -0.5,
        "abc",
        " 1",
        "1_0",
        float("inf"),
        5.0,
        0.5,
        "0x10",
        None,
        5.0,
    ]


DATE_SERIALS = [
    "0", "0.5", "0.999999", "1", "1.5", "59", "59.5", "60", "60.5", "61", "45000", "45000.25", "-1", "-0.5",
    "-1.5", "2958465", "2958466", "2958465.9999999", "0.0000001", "45000.000001", "44999.99999999",
    "0.00000578", "1E+2", "-1e-9",
]  # fmt: skip
CUSTOM_FORMATS = [
    "DD/MM/YY", "H:MM:SS;@", "#,##0\\ [$\\u20bd-46D]", 'm"M"d"D";@', "[h]:mm:ss", '"$"#,##0_);[Red]("$"#,##0)',
    '[$-404]e"\\xfc"m"\\xfc"d"\\xfc"', "0_ ;[Red]\\-0\\ ", "\\Y000000", '#,##0.0####" YMD"', "[h]", "[ss]",
    "[s].000", "[mm]", "[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", "[>=100][Magenta][s].00", "[h]:mm;[=0]\\-",
    "[>=100][Magenta].00", "ha/p\\\\m", '#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)', "#,##0*y", "*-yyyy-mm-dd",
    'yyyy"年"m"月"d"日"', "yyyy/m/d;@", "[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy", "[DBNum1][$-804]yyyy\"年\"m\"月\"d\"日\"",
    "0.00", "General", "@", "AM/PM", "A/P", "a", "e", "B1yy", "[hm]", "[mh]", "[a]", '"d"0', "mm:ss.0",
]  # fmt: skip


@pytest.mark.parametrize("date1904", [False, True])
def test_date_and_time_styles_as_calamine_converts_them(tmp_path, date1904):
    builtin = [14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47, 2, 49]
    custom = {164 + i: code for i, code in enumerate(CUSTOM_FORMATS)}
    styles = styles_xml([*builtin, *custom], custom)
    rows = []
    for number, serial in enumerate(DATE_SERIALS, 1):
        cells = "".join(
            f'<c r="{ledger_reader.column_letter(s)}{number}" s="{s}"><v>{serial}</v></c>' for s in range(60)
        )
        rows.append(f'<row r="{number}">{cells}<c r="BJ{number}" s="99"><v>{serial}</v></c></row>')
    rows.append('<row r="30"><c r="A30" s="01"><v>45000</v></c><c r="B30" s="x"><v>45000</v></c></row>')
    path = one_sheet(tmp_path / "dates.xlsx", "".join(rows), styles=styles, date1904=date1904)
    mine = assert_same_as_calamine(path)
    assert mine[11, 1] == (datetime.date(2023, 3, 15) if not date1904 else datetime.date(2027, 3, 16))
    assert mine[12, 11] == datetime.timedelta(days=45000, hours=6)  # built-in 46: [h]:mm:ss


def test_values_python_cannot_hold_stay_numbers():
    """calamine hands Python a duration it cannot hold (OverflowError); the stream keeps the number."""
    for kind in (xlsx_stream.DATETIME, xlsx_stream.TIMEDELTA):
        assert xlsx_stream.excel_datetime(1e10, kind, False) == 1e10
        assert xlsx_stream.excel_datetime(float("inf"), kind, False) == float("inf")
    assert xlsx_stream.excel_datetime(2958466.0, xlsx_stream.DATETIME, False) == 2958466.0
    assert xlsx_stream.excel_datetime(float("nan"), xlsx_stream.DATETIME, False) == datetime.datetime(
        1899, 12, 30
    )


def test_prefixes_missing_references_attribute_order_and_markup(tmp_path):
    body = (
        '<x:row><x:c><x:v>1</x:v></x:c><x:c t="inlineStr"><x:is><x:t>b</x:t></x:is></x:c>'
        '<x:c r="E1"><x:v>5</x:v></x:c><x:c><x:v>6</x:v></x:c></x:row>'
        "<x:row/>"
        '<x:row><x:c t="s" r="B3"><x:v>0</x:v></x:c></x:row>'
        '<x:row r="7" ><x:c   s="0"  r="A7"  t="n" ><x:v>7</x:v></x:c>\n  <!-- a comment -->\n</x:row>'
        "<x:row><x:c r='C8'/><x:c><x:v>8</x:v></x:c><?pi data?></x:row>"
    )
    xml = sheet_xml(body, prefix="x:")
    path = write_package(tmp_path / "x.xlsx", [("S", xml, None, "worksheet")], strings=["零"])
    mine = assert_same_as_calamine(path)
    assert mine == {
        (1, 0): 1.0,
        (1, 1): "b",
        (1, 4): 5.0,
        (1, 5): 6.0,
        (3, 1): "零",
        (7, 0): 7.0,
        (8, 3): 8.0,
    }


def test_sheets_in_order_hidden_chartsheets_and_absolute_targets(tmp_path):
    chart = f'<?xml version="1.0"?><chartsheet xmlns="{MAIN}"><sheetPr/></chartsheet>'
    sheets = [
        ("隐藏", sheet_xml(cells_row(1, [(None, "1")])), "hidden", "worksheet"),
        ("图表", chart, None, "chartsheet"),
        ("很隐藏", sheet_xml(cells_row(1, [(None, "2")])), "veryHidden", "worksheet"),
        ("数据 & 表", sheet_xml(cells_row(1, [(None, "3")])), "visible", "worksheet"),
        ("第二", sheet_xml(cells_row(2, [(None, "4")])), None, "worksheet"),
    ]
    path = write_package(tmp_path / "sheets.xlsx", sheets, absolute=True)
    book = Workbook.open(str(path))
    assert [name for name, _ in book.visible_worksheets()] == ["数据 & 表", "第二"]
    assert book.sheet_count == 5
    calamine = python_calamine.CalamineWorkbook.from_path(str(path))
    assert list(ledger_reader._calamine_sheets(calamine)) == ["数据 & 表", "第二"]
    assert stream_cells(path) == ({(1, 0): 3.0}, 1)
    assert_same_as_calamine(path, "第二")


def test_fast_and_general_paths_give_the_same_rows(tmp_path):
    built = lf.make_large_xlsx(tmp_path / "big.xlsx", lf.sample_rows(300), fast=True)
    book = Workbook.open(str(built.path))
    member = book.visible_worksheets()[0][1]
    with book.zip() as archive:
        pieces = list(xlsx_stream._pieces(xlsx_stream._chunks(archive, member), b"sheetData", b"row"))
    fast, general = xlsx_stream._SheetParser(book), xlsx_stream._SheetParser(book)
    for _, piece in pieces:
        quick = fast._fast(piece)
        assert quick is not None  # the common form: no piece needs the general path
        slow = general._general(piece)
        assert [n for n, _ in quick] == [n for n, _ in slow]
        for (_, mine), (_, exact) in zip(quick, slow, strict=True):
            assert mine == exact + [None] * (len(mine) - len(exact))  # the fast rows are as wide as the last
    # Pretty-printed, the same sheet goes through the general path only, and reads the same.
    before = stream_cells(built.path)
    rewritten = rewrite(built.path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"><", b">\n  <"))
    with Workbook.open(str(rewritten)).zip() as archive:
        chunks = xlsx_stream._chunks(archive, member)
        assert all(
            fast._fast(piece) is None for _, piece in xlsx_stream._pieces(chunks, b"sheetData", b"row")
        )
    assert stream_cells(rewritten) == before
    assert_same_as_calamine(rewritten)


@pytest.mark.parametrize("chunk", [7, 100, 4096])
def test_chunk_boundaries_inside_rows_cells_and_strings(tmp_path, monkeypatch, chunk):
    built = lf.make_large_xlsx(tmp_path / "big.xlsx", lf.sample_rows(120), fast=True)
    whole = stream_cells(built.path)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", chunk)
    assert stream_cells(built.path) == whole
    book = Workbook.open(str(built.path))
    assert (
        book.sheet(book.visible_worksheets()[0][1]).merges
        == python_calamine.CalamineWorkbook.from_path(str(built.path))
        .get_sheet_by_index(0)
        .merged_cell_ranges
    )
    path = one_sheet(tmp_path / "typed.xlsx", INLINE_AND_TYPED)
    assert_same_as_calamine(path)


def test_large_file_reads_as_calamine_does(tmp_path):
    rows = itertools.islice(itertools.cycle(lf.sample_rows(200)), 3000)
    built = lf.make_large_xlsx(tmp_path / "big.xlsx", rows, fast=True)
    assert_same_as_calamine(built.path)
    table = read_table(built.path)
    assert table.reader == "xlsx-stream" and table.header_rows == [2, 3]
    non_empty = sum(1 for row in table._source.iter_rows() for v in row[1] if v is not None and v != "")
    assert non_empty == bare_read(built.path)


def peak_while_reading(path):
    """Peak traced memory while every row of the sheet is read and let go, and how many rows there were."""
    book = Workbook.open(str(path))
    sheet = book.sheet(book.visible_worksheets()[0][1])
    tracemalloc.start()
    try:
        count = sum(1 for _ in sheet.iter_rows())
        return tracemalloc.get_traced_memory()[1], count
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_rows(tmp_path):
    """Numbers only (no shared strings): ten times the rows, the same peak (a chunk and its rows)."""

    def numbers(path, rows):
        body = "".join(cells_row(n, [(None, str(n * 7 + c)) for c in range(8)]) for n in range(1, rows + 1))
        return one_sheet(path, body)

    small, small_rows = peak_while_reading(numbers(tmp_path / "small.xlsx", 6_000))
    large, large_rows = peak_while_reading(numbers(tmp_path / "large.xlsx", 60_000))
    assert (small_rows, large_rows) == (6_000, 60_000)
    # The large sheet's rows held at once would take 60,000 x (a list and 8 floats) = 30 MB.
    assert large < 1.3 * small + 256 * 1024, (small, large)


def test_merges_only_those_starting_in_the_first_rows(tmp_path):
    refs = ["A1:S1", "A2:A3", "B2:F2", "C29:D31", "A31:B31", "A100:C100", "E5"]
    merges = "<mergeCells>" + "".join(f'<mergeCell ref="{r}"/>' for r in refs) + "</mergeCells>"
    xml = sheet_xml(cells_row(1, [(None, "1")]) + cells_row(100, [(None, "2")]), after=merges)
    path = write_package(tmp_path / "m.xlsx", [("S", xml, None, "worksheet")])
    book = Workbook.open(str(path))
    sheet = book.sheet(book.visible_worksheets()[0][1], merge_rows=30)
    everything = (
        python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).merged_cell_ranges
    )
    assert sheet.merges == [m for m in everything if m[0][0] < 30]
    assert sheet.merges == [
        ((0, 0), (0, 18)),
        ((1, 0), (2, 0)),
        ((1, 1), (1, 5)),
        ((28, 2), (30, 3)),
        ((4, 4), (4, 4)),
    ]


def many_merges(path, count):
    refs = "".join(f'<mergeCell ref="A{n}:B{n}"/>' for n in range(40, count + 40))
    xml = sheet_xml(
        cells_row(1, [(None, "1")]), after=f'<mergeCells><mergeCell ref="A1:C1"/>{refs}</mergeCells>'
    )
    path = write_package(path, [("S", xml, None, "worksheet")])
    book = Workbook.open(str(path))
    return book.sheet(book.visible_worksheets()[0][1])


def test_a_million_merges_cost_no_memory(tmp_path):
    assert many_merges(tmp_path / "million.xlsx", 1_000_000).merges == [((0, 0), (0, 2))]
    sheet = many_merges(tmp_path / "many.xlsx", 100_000)  # tracing a million allocations takes long
    tracemalloc.start()
    try:
        assert sheet.merges == [((0, 0), (0, 2))]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024  # a chunk and its matches; keeping the merges would take 16 MB


def test_header_merged_past_the_first_rows_data_is_read_as_calamine_would(tmp_path):
    """A coordinate header merged over two cells, the data below row 30: calamine's rows are as wide as the
    sheet, so the merge reaches the latitude column; the stream reads the sheet's width to do the same."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "受纳河流名称", "入河排污口名称", "入河排污口地理坐标"])
    sheet.merge_cells("D1:E1")
    for n in range(40, 45):
        sheet.cell(n, 1, n - 39)
        sheet.cell(n, 2, "御河")
        sheet.cell(n, 3, f"{n}号口")
        sheet.cell(n, 4, 113.3)
        sheet.cell(n, 5, 40.1)
    workbook.save(tmp_path / "wide.xlsx")
    table = read_table(tmp_path / "wide.xlsx")
    assert table.reader == "xlsx-stream"
    calamine = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "wide.xlsx")).get_sheet_by_index(0)
    head = [(n, [None if v == "" else v for v in row]) for n, row in enumerate(calamine.iter_rows(), 1)][:30]
    expected = ledger_reader._find_header(head, calamine.merged_cell_ranges)
    assert table.columns == expected.columns == {"seq": 0, "water_body": 1, "name": 2, "lon": 3, "lat": 4}
    assert [r.values["lat"] for r in table.rows()] == [40.1] * 5


# Refusals, failures and the fallback -------------------------------------------------------------------
DOCTYPE = '<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'


def test_a_doctype_is_refused(tmp_path):
    xml = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>')
    path = write_package(
        tmp_path / "dtd.xlsx", [("S", xml.replace("?>", "?>" + DOCTYPE, 1), None, "worksheet")]
    )
    with pytest.raises(LedgerFileError, match="^无法读取 dtd.xlsx：文件中含有 XML 文档类型声明"):
        read_table(path)
    with pytest.raises(LedgerFileError, match="文档类型声明"):
        list(read_plain_rows(path))
    # In the shared strings, and in the middle of a sheet.
    path = one_sheet(tmp_path / "dtd2.xlsx", cells_row(1, [("s", "0")]), strings=["a"])
    rewrite(path, "xl/sharedStrings.xml", lambda xml: xml.replace(b"?>", b"?>" + DOCTYPE.encode(), 1))
    with pytest.raises(LedgerFileError, match="文档类型声明"):
        read_table(path)
    book = Workbook.open(str(path))
    with pytest.raises(XlsxRefused):
        book.sheet(book.visible_worksheets()[0][1]).head(30)
    middle = one_sheet(
        tmp_path / "dtd3.xlsx", cells_row(1, [(None, "1")]) + DOCTYPE + cells_row(2, [(None, "2")])
    )
    book = Workbook.open(str(middle))
    with pytest.raises(XlsxRefused):
        list(book.sheet(book.visible_worksheets()[0][1]).iter_rows())
    with pytest.raises(XlsxRefused):
        book.sheet(book.visible_worksheets()[0][1]).merges  # noqa: B018 - the survey finds it first


def test_an_oversized_row_is_refused_not_buffered(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "MAX_UNIT_BYTES", 5000)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 1000)
    long_row = '<row r="2">' + "".join(
        f'<c r="A2" t="inlineStr"><is><t>{"长" * 40}</t></is></c>' for _ in range(60)
    )
    body = cells_row(1, [(None, "1")]) + long_row + "</row>" + cells_row(3, [(None, "3")])
    path = one_sheet(tmp_path / "long.xlsx", body)
    with pytest.raises(LedgerFileError, match="^无法读取 long.xlsx：工作表中有一行的 XML 超过"):
        read_table(path)
    book = Workbook.open(str(path))
    sheet = book.sheet(book.visible_worksheets()[0][1])
    with pytest.raises(XlsxRefused):
        list(sheet.iter_rows())
    with pytest.raises(XlsxRefused):
        sheet.merges  # noqa: B018 - the survey refuses it before any row is read
    with pytest.raises(LedgerFileError, match="一行的 XML 超过"):
        list(read_plain_rows(path))
    # A text without any "<" is bounded the same way.
    text = one_sheet(
        tmp_path / "text.xlsx", f'<row r="1"><c r="A1" t="inlineStr"><is><t>{"x" * 9000}</t></is></c></row>'
    )
    book = Workbook.open(str(text))
    with pytest.raises(XlsxRefused):
        book.sheet(book.visible_worksheets()[0][1]).merges  # noqa: B018


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A2" t="s"><v>7</v></c>',  # a shared string that does not exist
        '<c r="A2" t="n"><v>abc</v></c>',
        '<c r="A2" t="b"><v>2</v></c>',
        '<c r="A2" t="zz"><v>1</v></c>',
        '<c r="$A$2"><v>1</v></c>',
        '<c r="A2"><v>1</v><extLst/></c>',
        '<c r="A2"><v>1</c>',
        '<c r="AAAA2"><v>1</v></c>',
    ],
)
def test_cells_the_stream_cannot_read_are_an_error_for_the_caller(tmp_path, cell):
    path = one_sheet(
        tmp_path / "bad.xlsx", cells_row(1, [(None, "1")]) + f'<row r="2">{cell}</row>', strings=["a"]
    )
    book = Workbook.open(str(path))
    with pytest.raises(XlsxStreamError):
        list(book.sheet(book.visible_worksheets()[0][1]).iter_rows())


def test_error_values_calamine_does_not_know_are_empty(tmp_path):
    """#SPILL! and #CALC! make calamine refuse the sheet; the stream reads them as empty error cells."""
    path = one_sheet(
        tmp_path / "spill.xlsx", '<row r="1"><c r="A1" t="e"><v>#SPILL!</v></c><c r="B1"><v>1</v></c></row>'
    )
    with pytest.raises(python_calamine.CalamineError):
        calamine_cells(path)
    assert stream_cells(path) == ({(1, 1): 1.0}, 2)


def _with_broken_row(path, number):
    """An extension element in a cell of row `number`: openpyxl passes over it, calamine and the stream do
    not."""

    def change(xml):
        start = xml.index(f'<row r="{number}"'.encode())
        cell = xml.index(b"</v></c>", start)
        return xml[:cell] + b"</v><extLst/></c>" + xml[cell + len(b"</v></c>") :]

    return rewrite(path, "xl/worksheets/sheet1.xml", change)


def test_fallback_to_openpyxl_on_a_broken_header(tmp_path):
    rows = lf.sample_rows(5)
    built = lf.messy_xlsx(tmp_path, rows)
    expected = [(r.number, r.values) for r in read_table(built.path).rows()]
    _with_broken_row(built.path, 3)
    table = read_table(built.path)
    assert table.reader == "openpyxl"
    got = [(r.number, r.values) for r in table.rows()]
    assert [n for n, _ in got] == [n for n, _ in expected]
    assert got[0][1]["name"] == expected[0][1]["name"]


def test_rows_after_a_broken_row_come_from_openpyxl(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 2048)  # a few rows a piece
    rows = lf.sample_rows(60)
    built = lf.messy_xlsx(tmp_path, rows, blank_after=())
    expected = [(r.number, r.values) for r in read_table(built.path).rows()]
    _with_broken_row(built.path, 50)
    table = read_table(built.path)
    assert table.reader == "xlsx-stream"  # the header was read; the stream hands over near row 50
    got = [(r.number, r.values) for r in table.rows()]
    assert [n for n, _ in got] == [n for n, _ in expected] == list(range(5, 65))
    from_stream = [
        number for (number, mine), (_, theirs) in zip(got, expected, strict=True) if mine == theirs
    ]
    assert from_stream == list(range(5, from_stream[-1] + 1)) and 40 <= from_stream[-1] < 50
    for (number, mine), (_, theirs) in zip(got, expected, strict=True):
        if number > from_stream[-1]:  # openpyxl's: datetimes where calamine gives dates
            assert {k: v for k, v in mine.items() if k != "approval_date"} == {
                k: v for k, v in theirs.items() if k != "approval_date"
            }
            assert mine["approval_date"] == datetime.datetime.combine(
                theirs["approval_date"], datetime.time()
            )
    plain = list(read_plain_rows(built.path))
    assert [n for n, _ in plain] == list(range(1, 65))
    assert plain[-1][1][6] == rows[-1]["name"]


def test_broken_zip_member_falls_back_and_then_refuses(tmp_path):
    built = lf.messy_xlsx(tmp_path, lf.sample_rows(3))
    data = bytearray(built.path.read_bytes())
    with zipfile.ZipFile(built.path) as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 8] = b"\xff" * 8
    built.path.write_bytes(bytes(data))
    with pytest.raises(XlsxStreamError):
        Workbook.open(str(built.path)).sheet("xl/worksheets/sheet1.xml").head(30)
    with pytest.raises(LedgerFileError, match="已损坏"):  # the guard reads every sheet first
        read_table(built.path)


def test_uploaded_file_objects_and_repeated_reads(tmp_path):
    built = lf.messy_xlsx(tmp_path, lf.sample_rows(4))
    stream = io.BytesIO(built.path.read_bytes())
    table = read_table(stream, filename="平城区.xlsx")
    assert table.reader == "xlsx-stream"
    first = [(r.number, r.values) for r in table.rows()]
    assert (
        first
        == [(r.number, r.values) for r in table.rows()]
        == [(r.number, r.values) for r in read_table(built.path).rows()]
    )
    assert [n for n, _ in first] == built.row_numbers
