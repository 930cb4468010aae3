"""Builders of messy returned-ledger files (attachment 1 as counties fill it in) for tests and benchmarks.

Every builder takes a list of row dicts keyed as in ledger_template (plus the text of any extra column) and
returns a `LedgerFile` telling where things landed: the row number of each given row as Excel shows it (or
the CSV line where its record starts), the header rows and each key's column letter. Keys a layout has no
column for are ignored; missing keys leave the cell empty.

    built = messy_xlsx(tmp_path, [{"name": "…", "location": "113.30,40.07"}])
    built.row_numbers  # [6]

The messy layout follows what comes back from counties: a title row, a blank row, two header rows with real
merged cells (group headers merged across their columns, ungrouped headers merged down both rows), the
source document's typos (收纳河流名称, 排污责任主任单位名称, 入河单位地理坐标), full-width characters,
spaces and line breaks inside header names, and blank rows between the data rows.
"""

import csv
import datetime
import random
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.utils import get_column_letter

from outfalls.registry.ledger_template import CODE_COLUMNS, COLUMNS, title_for

# Header text per key as hand-filled files print it: typos, spaces, full-width characters, line breaks.
MESSY_HEADERS = {
    "seq": "序 号",
    "water_body": "收纳河流名称",  # the document's typo for 受纳
    "section_interval": "断面区间",
    "county": "县 区",
    "town": "乡镇(街道)",  # half-width brackets where the template has full-width ones
    "village": "村（社区）",
    "name": "入河\n排污口\n名称",
    "location": "入河排污口地理坐标",
    "entry_mode": "入河方式",
    "outlet": "入河排污口口门及位置",
    "conveyance": "引流方式",
    "responsible_entity": "排污责任主任单位名称",  # the document's typo for 主体
    "unit_location": "入河单位地理坐标",  # the document's typo for 排污单位
    "unit_kind": "排污单位类型\u3000",  # trailing full-width space
    "classification": "入河排污口分类",
    "rectification": "整治进展情况（已完成／正在整治）",  # full-width slash
    "registered": "是否完成\n登记建档",
    "approval_date": "设置审批或排污许可批准时间",
    "permit_number": "排污许可证编号",
    "code": "入河排污口编码",
    "national_code": "国家统一编码",
}
PRINTED_HEADERS = {c.key: c.header for c in COLUMNS + CODE_COLUMNS}
SPLIT_HEADERS = {"lon": "经度", "lat": "纬度", "unit_lon": "经度", "unit_lat": "纬度"}
GROUPS = {c.key: c.group for c in COLUMNS + CODE_COLUMNS}
SPLIT_INTO = {"location": ("lon", "lat"), "unit_location": ("unit_lon", "unit_lat")}


@dataclass
class LedgerFile:
    path: Path
    row_numbers: list = field(default_factory=list)  # row number of each given row dict, in order
    header_rows: list = field(default_factory=list)
    letters: dict = field(default_factory=dict)  # key (or extra column text) -> column letter
    encoding: str | None = None


@dataclass
class _Grid:
    cells: list  # sheet rows (0-based list index = row number - 1) of cell values (0-based columns)
    merges: list  # (first row, first column, last row, last column), 1-based
    built: LedgerFile


def _columns(split_coordinates, code_columns, extra_columns, only):
    """[(key, group or None, header text, split mode)] in file order."""
    keys = [c.key for c in COLUMNS] + ([c.key for c in CODE_COLUMNS] if code_columns else [])
    if only is not None:
        keys = [k for k in keys if k in only]
    layout = []
    for key in keys:
        group = GROUPS[key]
        if key in SPLIT_INTO and split_coordinates == "columns":
            for part in SPLIT_INTO[key]:
                layout.append((part, group, SPLIT_HEADERS[part], None))
        elif key in SPLIT_INTO and split_coordinates == "merged":
            layout.append((key, group, None, "merged"))  # filled in below: one header over two cells
        else:
            layout.append((key, group, None, None))
        for text, after in extra_columns:
            if after == key:
                layout.append((text, None, text, None))
    return layout


def _grid(
    rows,
    *,
    headers,
    title,
    two_header_rows,
    header_row,
    first_col,
    blank_after,
    split_coordinates,
    code_columns,
    extra_columns,
    numbered_blank_rows,
    only,
    path,
):
    headers = {**PRINTED_HEADERS, **(headers or {})}
    layout = []
    for key, group, text, mode in _columns(split_coordinates, code_columns, extra_columns, only):
        if mode == "merged":
            lon, lat = SPLIT_INTO[key]
            layout.append((lon, group, headers[key], "merged-first"))
            layout.append((lat, group, None, "merged-second"))
        else:
            layout.append((key, group, text or headers.get(key, key), None))
    width = first_col - 1 + len(layout)
    cells = []
    merges = []
    built = LedgerFile(path=Path(path))

    def new_row():
        cells.append([None] * width)
        return cells[-1]

    def col(i):  # layout index -> 0-based sheet column
        return first_col - 1 + i

    title_row = max(1, header_row - 2) if title and header_row >= 2 else None  # a blank row below it if room
    while len(cells) < header_row - 1:
        row = new_row()
        if title_row is not None and len(cells) == title_row:
            row[col(0)] = title
            merges.append((title_row, first_col, title_row, first_col + len(layout) - 1))
    top = new_row() if two_header_rows else None
    bottom = new_row()
    built.header_rows = [header_row, header_row + 1] if two_header_rows else [header_row]
    bottom_number = len(cells)
    top_number = bottom_number - 1
    # Group headers merged across their columns; ungrouped headers merged down both header rows.
    for i, (key, group, text, mode) in enumerate(layout):
        c = col(i) + 1  # 1-based
        built.letters[key] = get_column_letter(c)
        if mode == "merged-second":
            continue
        wide = 1 if mode == "merged-first" else 0
        if two_header_rows and group is None:
            top[c - 1] = text
            merges.append((top_number, c, bottom_number, c + wide))
        else:
            bottom[c - 1] = text
            if wide:
                merges.append((bottom_number, c, bottom_number, c + wide))
    if two_header_rows:
        i = 0
        while i < len(layout):
            group = layout[i][1]
            j = i
            while j + 1 < len(layout) and group is not None and layout[j + 1][1] == group:
                j += 1
            if group is not None:
                top[col(i)] = group
                if j > i:
                    merges.append((top_number, col(i) + 1, top_number, col(j) + 1))
            i = j + 1
    blank_after = set(blank_after)
    if -1 in blank_after:
        new_row()
    for n, values in enumerate(rows):
        row = new_row()
        for i, (key, _, _, _) in enumerate(layout):
            row[col(i)] = values.get(key)
        built.row_numbers.append(len(cells))
        if n in blank_after:
            new_row()
    for n in range(numbered_blank_rows):
        row = new_row()
        if "seq" in built.letters:
            row[col(0)] = len(rows) + n + 1
    return _Grid(cells, merges, built)


_OPTIONS = {
    "headers": None,
    "title": title_for("大同市", "平城区"),
    "two_header_rows": True,
    "header_row": 3,
    "first_col": 1,
    "blank_after": (-1, 1),
    "split_coordinates": None,
    "code_columns": False,
    "extra_columns": (),
    "numbered_blank_rows": 0,
    "only": None,
}


def write_xlsx(path, rows, **options):
    """Write the ledger table to an .xlsx with real merged cells. Options (defaults in _OPTIONS):

    headers: {key: header text} overriding the printed ones (MESSY_HEADERS for the county typos);
    title: the title row's text, or None for no title row; two_header_rows: group headers above
    sub-headers, or one header row; header_row: the (first) header row's number; first_col: its first
    column (1 = A); blank_after: indexes of given rows followed by a blank row (-1: a blank row right under
    the header); split_coordinates: None, "columns" (经度/纬度 sub-headers) or "merged" (one header merged
    over two cells); code_columns: add the platform's code columns; extra_columns: [(header text, after
    key)] unknown columns, filled from row[header text]; numbered_blank_rows: rows with only 序号 filled at
    the end; only: a set of keys to keep (the others are left out).
    """
    options = {**_OPTIONS, **options}
    grid = _grid(rows, path=path, **options)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "汇总表"
    for r, row in enumerate(grid.cells, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                sheet.cell(r, c, value)
    for r1, c1, r2, c2 in grid.merges:
        sheet.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    workbook.save(path)
    return grid.built


def write_csv(path, rows, *, encoding="utf-8-sig", delimiter=",", **options):
    """Write the same table as CSV (merged cells become empty cells). Options as for write_xlsx.

    Values are written as str() gives them: dates as 2021-06-30, date-times as 2021-06-30 09:15:00.
    Row numbers are the lines where each record starts (a header with line breaks spans several lines).
    """
    options = {**_OPTIONS, **options}
    grid = _grid(rows, path=path, **options)
    line = 1
    starts = []
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        for row in grid.cells:
            texts = ["" if v is None else str(v) for v in row]  # dates as 2021-06-30 (09:15:00)
            writer.writerow(texts)
            starts.append(line)
            line += 1 + sum(t.count("\n") for t in texts)
    built = grid.built
    built.row_numbers = [starts[n - 1] for n in built.row_numbers]
    built.header_rows = [starts[n - 1] for n in built.header_rows]
    built.encoding = encoding
    return built


# The variants the reader's tests and the import's tests use -------------------------------------------
def messy_xlsx(directory, rows, name="平城区.xlsx", **options):
    """Title, blank row, two merged header rows with the document's typos, blank rows between data rows."""
    return write_xlsx(Path(directory) / name, rows, **{"headers": MESSY_HEADERS, **options})


def split_coordinates_xlsx(directory, rows, name="分列坐标.xlsx", **options):
    """Coordinates in two cells: 经度/纬度 sub-headers under 排污口信息 and under 排污单位信息."""
    return messy_xlsx(directory, rows, name, split_coordinates="columns", **options)


def merged_coordinates_xlsx(directory, rows, name="合并坐标.xlsx", **options):
    """One header row; 入河排污口地理坐标 merged over two cells holding longitude and latitude."""
    return messy_xlsx(directory, rows, name, split_coordinates="merged", two_header_rows=False, **options)


def offset_xlsx(directory, rows, name="偏移.xlsx", **options):
    """The header starts in column C and row 5."""
    return messy_xlsx(directory, rows, name, header_row=5, first_col=3, **options)


def single_header_xlsx(directory, rows, name="单行表头.xlsx", **options):
    """Headers written in one row (no group headers), with the document's typos."""
    return messy_xlsx(directory, rows, name, two_header_rows=False, **options)


def unknown_column_xlsx(directory, rows, name="多一列.xlsx", **options):
    """An extra 备注 column after the outfall's name, filled from row["备注"]."""
    return messy_xlsx(directory, rows, name, extra_columns=(("备注", "name"),), **options)


def gbk_csv(directory, rows, name="平城区-gbk.csv", **options):
    return write_csv(Path(directory) / name, rows, encoding="gbk", **{"headers": MESSY_HEADERS, **options})


def utf8_bom_csv(directory, rows, name="平城区-utf8.csv", **options):
    return write_csv(
        Path(directory) / name, rows, encoding="utf-8-sig", **{"headers": MESSY_HEADERS, **options}
    )


def tab_csv(directory, rows, name="平城区-tab.csv", **options):
    """Tab-separated UTF-8 without BOM, as copied out of a spreadsheet."""
    return write_csv(
        Path(directory) / name,
        rows,
        encoding="utf-8",
        delimiter="\t",
        **{"headers": MESSY_HEADERS, **options},
    )


# Realistic rows ----------------------------------------------------------------------------------------
WATERS = ["桑干河", "御河", "十里河", "口泉河", "南洋河", "壶流河", "唐河", "浑河", "淤泥河", "饮马河"]
SECTIONS = [
    "固定桥-册田水库",
    "孤山-艾庄",
    "观音堂-张家场",
    "小白登-大白登",
    "水神堂泉-广灵",
    "王庄堡镇-南水芦",
]
COUNTIES = [
    "新荣区",
    "平城区",
    "云冈区",
    "云州区",
    "阳高县",
    "天镇县",
    "广灵县",
    "灵丘县",
    "浑源县",
    "左云县",
]
TOWNS = ["城关镇", "东关街道", "西关街道", "南郊镇", "北坪乡", "河湾乡", "峰峪乡", "古城镇"]
VILLAGES = ["东村", "西村", "南堡", "北堡", "河口村", "新庄村"]
ENTRY_MODES = ["明渠", "管道", "泵站", "涵闸", "箱涵", "潜没"]
OUTLETS = ["岸边明渠口，右岸", "河床管道口，左岸", "岸边涵闸，左岸", "潜没式，河心"]
CONVEYANCES = ["管道", "明渠", "暗渠", "泵站提升"]
UNIT_KINDS = ["工业企业", "城镇污水处理厂", "规模化畜禽养殖场", "工业园区", "农村污水处理站"]
TYPES = [
    ("工业排污口", "工矿企业排污口"),
    ("城镇污水处理厂排污口", "城镇污水处理厂排污口"),
    ("农业排口", "规模化畜禽养殖排污口"),
    ("城镇雨洪排口", "城镇雨洪排口"),
    ("其他排口", "农村污水处理设施排污口"),
]
COMPANIES = ["山橡集团", "七零研究所", "同煤化工", "恒安纸业", "北方食品", "云冈水务", "华北焦化", "新荣建材"]
CREDIT = "91130200699229617X"


def sample_row(n, rng):
    """One realistic row dict (all keys, including split coordinates) for sequence number n."""
    county, town, village = rng.choice(COUNTIES), rng.choice(TOWNS), rng.choice(VILLAGES)
    level1, level2 = rng.choice(TYPES)
    company = rng.choice(COMPANIES)
    lon, lat = round(rng.uniform(112.55, 114.55), 6), round(rng.uniform(39.45, 40.75), 6)
    unit_lon, unit_lat = round(lon + rng.uniform(-0.01, 0.01), 6), round(lat + rng.uniform(-0.01, 0.01), 6)
    return {
        "seq": n,
        "water_body": rng.choice(WATERS),
        "section_interval": rng.choice(SECTIONS),
        "county": county,
        "town": town,
        "village": village,
        "name": f"大同市{county}{town}{village}{company}{n}#{level2}",
        "location": f"{lon:.6f},{lat:.6f}",
        "lon": lon,
        "lat": lat,
        "entry_mode": rng.choice(ENTRY_MODES),
        "outlet": rng.choice(OUTLETS),
        "conveyance": rng.choice(CONVEYANCES),
        "responsible_entity": f"大同市{company}有限公司",
        "unit_location": f"{unit_lon:.6f},{unit_lat:.6f}",
        "unit_lon": unit_lon,
        "unit_lat": unit_lat,
        "unit_kind": rng.choice(UNIT_KINDS),
        "classification": f"{level1}/{level2}",
        "rectification": rng.choice(["已完成", "正在整治"]),
        "registered": rng.choice(["是", "否"]),
        "approval_date": datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randrange(2500)),
        "permit_number": f"{CREDIT}{n % 1000:03d}P",
    }


def sample_rows(count, seed=0):
    rng = random.Random(seed)
    return [sample_row(n, rng) for n in range(1, count + 1)]


def make_large_xlsx(path, rows, *, seed=0, merges=True, fast=False):
    """A big returned ledger: title in row 1, two header rows (2-3) with the document's typos, then the rows.

    rows: a count (realistic rows are generated, see sample_row) or an iterable of row dicts. Written with
    openpyxl in write_only mode (about 2,500 rows/s here), or with fast=True by writing the sheet XML
    directly (about ten times faster; same cells, shared strings and date styles as Excel writes).
    write_only mode cannot merge cells: with merges=True the title, group and ungrouped header merges are
    added to the sheet XML afterwards. Returns a LedgerFile.
    """
    path = Path(path)
    layout = _columns(None, False, (), None)
    keys = [key for key, _, _, _ in layout]
    top, bottom, merge_refs = [], [], [f"A1:{get_column_letter(len(keys))}1"]
    previous_group = object()
    for i, (key, group, _, _) in enumerate(layout):
        letter = get_column_letter(i + 1)
        text = MESSY_HEADERS.get(key, PRINTED_HEADERS[key])
        if group is None:
            top.append(text)
            bottom.append(None)
            merge_refs.append(f"{letter}2:{letter}3")
        else:
            if group != previous_group:
                top.append(group)
                span = sum(1 for _, g, _, _ in layout if g == group)
                if span > 1:
                    merge_refs.append(f"{letter}2:{get_column_letter(i + span)}2")
            else:
                top.append(None)
            bottom.append(text)
        previous_group = group
    built = LedgerFile(path=path, header_rows=[2, 3])
    built.letters = {key: get_column_letter(i + 1) for i, key in enumerate(keys)}
    if isinstance(rows, int):
        rng = random.Random(seed)
        source = (sample_row(n, rng) for n in range(1, rows + 1))
    else:
        source = iter(rows)

    def sheet_rows():
        yield [title_for("大同市", "平城区")]
        yield top
        yield bottom
        for number, values in enumerate(source, 4):
            built.row_numbers.append(number)
            yield [values.get(key) for key in keys]

    if fast:
        _write_sheet_xml(path, "汇总表", sheet_rows(), merge_refs if merges else ())
        return built
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("汇总表")
    for row in sheet_rows():
        sheet.append(row)
    workbook.save(path)
    if merges:
        _add_merges(path, merge_refs)
    return built


def _add_merges(path, refs):
    """Insert <mergeCells> into the first worksheet of an .xlsx written in write_only mode."""
    merge_xml = f'<mergeCells count="{len(refs)}">' + "".join(f'<mergeCell ref="{r}"/>' for r in refs)
    merge_xml += "</mergeCells>"
    temporary = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData>" + merge_xml.encode(), 1)
            target.writestr(item, data)
    shutil.move(temporary, path)


_EPOCH = datetime.datetime(1899, 12, 30)
_PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    # Style 1: a date (built-in number format 14), style 2: a date and time (22).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _write_sheet_xml(path, sheet_name, sheet_rows, merge_refs):
    """A one-sheet .xlsx written directly: numbers, shared strings, dates with date styles, booleans."""
    strings = {}
    letters = [get_column_letter(i + 1) for i in range(200)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in _PACKAGE.items():
            package.writestr(name, text)
        package.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            chunk = []
            for r, row in enumerate(sheet_rows, 1):
                cells = []
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    ref = f"{letters[c]}{r}"
                    if isinstance(value, str):
                        index = strings.setdefault(value, len(strings))
                        cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                    elif isinstance(value, bool):
                        cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                    elif isinstance(value, datetime.datetime):
                        serial = (value - _EPOCH).total_seconds() / 86400
                        cells.append(f'<c r="{ref}" s="2"><v>{serial!r}</v></c>')
                    elif isinstance(value, datetime.date):
                        cells.append(f'<c r="{ref}" s="1"><v>{(value - _EPOCH.date()).days}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
                chunk.append(f'<row r="{r}">{"".join(cells)}</row>')
                if len(chunk) >= 1000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write("".join(chunk).encode())
            sheet.write(b"</sheetData>")
            if merge_refs:
                refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in merge_refs)
                sheet.write(f'<mergeCells count="{len(merge_refs)}">{refs}</mergeCells>'.encode())
            sheet.write(b"</worksheet>")
        with package.open("xl/sharedStrings.xml", "w", force_zip64=True) as shared:
            shared.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                + f'count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
            )
            chunk = []
            for text in strings:
                chunk.append(f'<si><t xml:space="preserve">{escape(text)}</t></si>')
                if len(chunk) >= 1000:
                    shared.write("".join(chunk).encode())
                    chunk = []
            shared.write("".join(chunk).encode() + b"</sst>")
