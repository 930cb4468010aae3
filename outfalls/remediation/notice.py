"""通报: a .docx notice on rectification progress naming the lagging jurisdictions, laid out after GB/T 9704-2012
(党政机关公文格式).

- Page: A4, type area 156 × 225 mm (top margin 37 mm, inside 28 mm), 22 lines of 28 characters of 三号 (16 pt)
  仿宋; Latin letters and digits in Times New Roman (as official documents write them).
- 版头: the letterhead (发文机关标志, NOTICE_LETTERHEAD) in red 小标宋 35 mm below the top of the type area, the
  document number (发文字号, NOTICE_DOCUMENT_NUMBER) two lines below it, and the red rule the width of the type
  area 4 mm under the number.
- 主体: the title (二号小标宋) two lines below the rule, the addressees one line below the title, the body (一、
  in 黑体, （一） in 楷体), a table of every jurisdiction and, for each lagging one, a table of its overdue
  outfalls. Each table has its columns' widths (codes and dates on one line), repeats its header row on every
  page and never splits a row across pages; an item at 100 % that is still overdue says why
  (supervision.open_reason). Then the issuing body's full name (NOTICE_ISSUER) two characters from the right
  and the date under it, its first character two characters right of the name's.
- 版记: the printing office (NOTICE_PRINTED_BY) and the date between two rules, at the foot of the last page.
- Page numbers "— 1 —" in 四号 below the type area: odd pages on the right, even pages on the left, one
  character in.

The figures come from supervision.py (the same functions as the supervision page), within the user's
scope. Only city roles download it (can_download).
"""

import io
import unicodedata

from django.conf import settings
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor

from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_export import city_name

from . import supervision

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "关于全市入河排污口整治进展情况的通报"
ADDRESSEES = "各县（区）人民政府，经开区管委会，市直有关部门："
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
TITLE_FONT = "方正小标宋简体"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
LETTERHEAD_SIZE = Pt(36)  # 小初
TABLE_SIZE = Pt(12)  # 小四: the jurisdictions' table
LIST_SIZE = Pt(10.5)  # 五号: the lists of overdue outfalls (a code on one line in the name's column)
RECORD_SIZE = Pt(14)  # 四号: the 版记 and the page numbers
LINE = Pt(29)  # 22 lines in the 225 mm type area
CHAR = 16  # points: one character of the body
TYPE_AREA_MM = 156
RED = RGBColor(0xFF, 0x00, 0x00)
CN_DIGITS = "〇一二三四五六七八九"
# Column widths (mm, together the type area's 156) of the two tables.
COUNTY_WIDTHS = (12, 30, 18, 18, 20, 18, 16, 24)
OVERDUE_WIDTHS = (10, 48, 18, 22, 33, 25)


def can_download(user):
    return scope_of(user).citywide


def filename(today):
    return f"入河排污口整治进展通报-{today:%Y%m%d}.docx"


# Settings ----------------------------------------------------------------------------------------------
def issuer():
    """The issuing body's full name: NOTICE_ISSUER, else the city's name + 生态环境局 (大同市生态环境局)."""
    return settings.NOTICE_ISSUER or f"{city_name()}生态环境局"


def letterhead():
    """发文机关标志: NOTICE_LETTERHEAD, else the issuer + 文件."""
    return settings.NOTICE_LETTERHEAD or f"{issuer()}文件"


def document_number(today, number=None):
    """发文字号 from NOTICE_DOCUMENT_NUMBER: 同环发〔2024〕12号; without a number the serial stays blank
    (同环发〔2024〕　　号) for the document office to fill in when it registers the document."""
    serial = str(number) if number else "\u3000\u3000"
    return settings.NOTICE_DOCUMENT_NUMBER.format(year=today.year, number=serial)


def printed_by():
    """印发机关 in the 版记: NOTICE_PRINTED_BY, else the issuer + 办公室."""
    return settings.NOTICE_PRINTED_BY or f"{issuer()}办公室"


# Words -------------------------------------------------------------------------------------------------
def chinese_number(n):
    """1..99 in Chinese numerals as the notice's sub-headings write them: 一, 十, 十一, 二十, 二十一."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def chinese_date(day):
    """2026年11月28日 (official documents write the date in Arabic numerals since GB/T 9704-2012)."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_em(text):
    """Width in characters (em): Chinese characters 1, Latin letters and digits ½ (Times New Roman)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


def _pct(value):
    return "—" if value is None else f"{value}%"


def progress_text(plan):
    """The 完成进度 cell: "60%"; at 100 % and still open, why (supervision.open_reason)."""
    reason = supervision.open_reason(plan)
    return [f"{plan.percent_done}%", f"（{reason}）"] if reason else [f"{plan.percent_done}%"]


# Low-level docx ----------------------------------------------------------------------------------------
def _font(run, name, size, bold=False, color=None, latin=LATIN_FONT):
    run.font.name = latin
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), name)
    return run


# What follows each pPr child in the schema's order (python-docx inserts before the first one present).
_AFTER_FRAME = ("w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr")
_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct")
_AFTER_BORDER += ("w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd")
_AFTER_BORDER += ("w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents")
_AFTER_BORDER += ("w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:outlineLvl", "w:rPr")


def _borders(paragraph, *, color="000000", **sides):
    """Rules above/below a paragraph: sides such as bottom=(width in eighths of a point, space in points)."""
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    for side in ("top", "bottom"):
        if side in sides:
            size, space = sides[side]
            rule = OxmlElement(f"w:{side}")
            for name, value in (("val", "single"), ("sz", size), ("space", space), ("color", color)):
                rule.set(qn(f"w:{name}"), str(value))
            border.append(rule)
    ppr.insert_element_before(border, *_AFTER_BORDER)


def _paragraph(
    container,
    text="",
    *,
    font=BODY_FONT,
    size=BODY_SIZE,
    bold=False,
    color=None,
    align=None,
    indent=True,
    before=0,
    line=LINE,
    keep_with_next=False,
    right_indent=0,
):
    """A paragraph of one run. indent: two characters at the start of the first line (the body's);
    before: blank lines (of LINE) above it; right_indent: characters (of CHAR) kept free on the right."""
    p = container.add_paragraph()
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    fmt.line_spacing = line
    fmt.space_before = Pt(before * LINE.pt)
    fmt.space_after = Pt(0)
    fmt.widow_control = True
    if indent:
        fmt.first_line_indent = Pt(2 * CHAR)
    if right_indent:
        fmt.right_indent = Pt(right_indent * CHAR)
    if keep_with_next:
        fmt.keep_with_next = True
    if text:
        _font(p.add_run(text), font, size, bold, color)
    return p


def _row_properties(row, *, header=False):
    """Never split the row across pages; repeat it at the top of every page when it is the header."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def _cell(cell, lines, width, *, size, font=BODY_FONT, align=WD_ALIGN_PARAGRAPH.CENTER):
    """Fill a table cell: one paragraph per line of text, single-spaced, centred vertically."""
    cell.width = width
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = [lines] if isinstance(lines, str) else lines
    for index, text in enumerate(lines):
        p = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        p.alignment = align
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.first_line_indent = Pt(0)
        _font(p.add_run(str(text)), font, size)


def _table(doc, header, rows, widths_mm, *, size=TABLE_SIZE, left=()):
    """A table the width of the type area with fixed column widths (mm); its header row repeats on every
    page and no row splits across pages. A cell value may be a list of lines. Columns in `left` are
    left-aligned, the others centred."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblpr = table._tbl.tblPr  # (autofit False: a fixed layout, the widths below)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "57")  # 1 mm, in twentieths of a point
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    tblpr.append(margins)
    widths = [Mm(w) for w in widths_mm]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    _row_properties(table.rows[0], header=True)
    for cell, text, width in zip(table.rows[0].cells, header, widths, strict=True):
        _cell(cell, text, width, size=size, font=HEADING_FONT)
    for values in rows:
        row = table.add_row()
        _row_properties(row)
        for index, (cell, value, width) in enumerate(zip(row.cells, values, widths, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if index in left else WD_ALIGN_PARAGRAPH.CENTER
            _cell(cell, value if isinstance(value, list) else str(value), width, size=size, align=align)
    return table


def _field(paragraph, instruction, placeholder, *, font, size):
    """A Word field (PAGE) in a paragraph, showing `placeholder` until the reader updates it."""

    def run_with(element):
        run = paragraph.add_run()
        _font(run, font, size, latin=font)
        run._r.append(element)
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run_with(text)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    _font(paragraph.add_run(placeholder), font, size, latin=font)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _page_numbers(doc, section):
    """— 1 — under the type area: odd pages right, even pages left, one character (四号) in."""
    doc.settings.odd_and_even_pages_header_footer = True
    # The number's top 7 mm below the type area (whose foot is the bottom margin, 35 mm up).
    section.footer_distance = Emu(Mm(35 - 7) - RECORD_SIZE)
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        p.alignment = align
        fmt = p.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = RECORD_SIZE
        else:
            fmt.left_indent = RECORD_SIZE
        _font(p.add_run("— "), PAGE_NUMBER_FONT, RECORD_SIZE, latin=PAGE_NUMBER_FONT)
        _field(p, "PAGE", "1", font=PAGE_NUMBER_FONT, size=RECORD_SIZE)
        _font(p.add_run(" —"), PAGE_NUMBER_FONT, RECORD_SIZE, latin=PAGE_NUMBER_FONT)


def _record(doc, today):
    """版记: 印发机关 one character from the left and 印发日期 one from the right between two rules, in a frame
    at the foot of the type area of the last page."""
    p = _paragraph(doc, indent=False, line=Pt(RECORD_SIZE.pt * 1.5))
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = RECORD_SIZE
    width = Mm(TYPE_AREA_MM) - 2 * RECORD_SIZE
    fmt.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    _font(p.add_run(printed_by()), BODY_FONT, RECORD_SIZE)
    p.add_run("\t")
    _font(p.add_run(f"{chinese_date(today)}印发"), BODY_FONT, RECORD_SIZE)
    _borders(p, top=(8, 1), bottom=(8, 1))  # 1 pt rules (GB/T 9704: 0.35 mm)
    frame = OxmlElement("w:framePr")
    for name, value in (
        ("w", str(Mm(TYPE_AREA_MM).twips)),
        ("wrap", "notBeside"),
        ("vAnchor", "margin"),
        ("hAnchor", "margin"),
        ("xAlign", "center"),
        ("yAlign", "bottom"),
    ):
        frame.set(qn(f"w:{name}"), value)
    p._p.get_or_add_pPr().insert_element_before(frame, *(_AFTER_FRAME + _AFTER_BORDER))
    return p


def _signature(doc, today):
    """发文机关署名 one line below the body, two characters from the right; 成文日期 below it, its first
    character two characters right of the name's first (or, when the date is the longer, the date two
    characters from the right and the name moved left to keep the two-character step)."""
    name, day = issuer(), chinese_date(today)
    name_em, day_em = text_em(name), text_em(day)
    if name_em - day_em >= 2:
        name_right, day_right = 2, name_em - day_em
    else:
        name_right, day_right = 4 + day_em - name_em, 2
    right = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(doc, name, align=right, indent=False, before=1, right_indent=name_right, keep_with_next=True)
    _paragraph(doc, day, align=right, indent=False, right_indent=day_right)


# The notice --------------------------------------------------------------------------------------------
def notice_figures(user, today):
    total = supervision.totals(user, today)
    counties = supervision.county_ranking(user, today, with_overdue_plans=True)
    departments = supervision.department_ranking(user, today)
    return {
        "total": total,
        "counties": counties,
        "departments": departments,
        "lagging": supervision.lagging(counties, total.completion_rate),
        "lagging_departments": supervision.lagging(departments, total.completion_rate),
    }


def body_text(figures, today):
    total = figures["total"]
    lagging = figures["lagging"]
    city = city_name() or "全市"
    done_but_open = sum(
        1 for row in figures["counties"] for plan in row.overdue_plans if supervision.open_reason(plan)
    )
    overdue = f"逾期未完成{total.overdue}个"
    if done_but_open:
        overdue += f"（其中{done_but_open}个已报完成整治、尚未销号）"
    text = (
        f"截至{chinese_date(today)}，{city}共制定入河排污口“一口一策”整治方案{total.total}个，"
        f"已完成整治并销号{total.completed}个，整治完成率{_pct(total.completion_rate)}；"
        f"已申请销号待审核{total.submitted}个；{overdue}，"
        f"{supervision.DUE_SOON_DAYS}日内到期{total.due_soon}个。"
    )
    if lagging:
        names = "、".join(f"{r.name}（完成率{_pct(r.completion_rate)}，逾期{r.overdue}个）" for r in lagging)
        text += f"整治进度滞后的县区为：{names}。"
    else:
        text += "各县区均按期推进，暂无整治进度滞后的县区。"
    overdue_departments = [r for r in figures["lagging_departments"] if r.overdue]
    if overdue_departments:
        names = "、".join(f"{r.name}（逾期{r.overdue}个）" for r in overdue_departments)
        text += f"负有监管责任的部门中，{names}存在逾期整治任务。"
    return text


def _new_document():
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = BODY_SIZE
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    normal.paragraph_format.space_after = Pt(0)
    return doc, section


def build_notice(user, today, number=None):
    """The notice as .docx bytes. `number`: the serial of its document number (发文字号), if known."""
    figures = notice_figures(user, today)
    doc, section = _new_document()
    center = WD_ALIGN_PARAGRAPH.CENTER

    # 版头: letterhead 35 mm below the top of the type area, the number two lines below, the red rule 4 mm
    # under the number. A long letterhead gets a smaller size to stay on one line.
    head = letterhead()
    size = Pt(min(LETTERHEAD_SIZE.pt, int(TYPE_AREA_MM * 72 / 25.4 / max(text_em(head), 1))))
    p = _paragraph(
        doc, head, font=TITLE_FONT, size=size, color=RED, align=center, indent=False, line=Pt(size.pt * 1.2)
    )
    p.paragraph_format.space_before = Mm(35)
    p = _paragraph(doc, document_number(today, number), align=center, indent=False, before=2)
    _borders(p, color="FF0000", bottom=(16, 11))  # 2 pt, 4 mm (11 pt) below the number

    # 主体
    _paragraph(doc, TITLE, font=TITLE_FONT, size=TITLE_SIZE, align=center, indent=False, before=2)
    _paragraph(doc, ADDRESSEES, indent=False, before=1)
    _paragraph(doc, body_text(figures, today))

    _paragraph(doc, "一、各县区整治进展情况", font=HEADING_FONT, keep_with_next=True)
    _table(
        doc,
        [
            "序号",
            "县区",
            "方案数",
            "已销号",
            "完成率",
            "待审核",
            "逾期",
            f"{supervision.DUE_SOON_DAYS}日内到期",
        ],
        [
            (i, r.name, r.total, r.completed, _pct(r.completion_rate), r.submitted, r.overdue, r.due_soon)
            for i, r in enumerate(figures["counties"], 1)
        ],
        COUNTY_WIDTHS,
    )
    _paragraph(doc, "二、逾期未完成整治的排污口", font=HEADING_FONT, keep_with_next=True)
    overdue_counties = [r for r in figures["counties"] if r.overdue_plans]
    if not overdue_counties:
        _paragraph(doc, "无。")
    for number_in_list, row in enumerate(overdue_counties, 1):
        _paragraph(
            doc,
            f"（{chinese_number(number_in_list)}）{row.name}（{len(row.overdue_plans)}个）",
            font=SUBHEADING_FONT,
            keep_with_next=True,
        )
        _table(
            doc,
            ["序号", "入河排污口名称及编码", "整治措施", "整治期限", "完成进度", "责任单位"],
            [
                (
                    i,
                    [p.outfall.name, p.outfall.code],
                    p.get_measure_display(),
                    p.deadline.isoformat(),
                    progress_text(p),
                    p.responsible_unit.name if p.responsible_unit_id else p.responsible_org,
                )
                for i, p in enumerate(row.overdue_plans, 1)
            ],
            OVERDUE_WIDTHS,
            size=LIST_SIZE,
            left={1, 5},
        )
    _paragraph(doc, "三、有关要求", font=HEADING_FONT, keep_with_next=True)
    _paragraph(
        doc,
        "请整治进度滞后的县区对照逾期清单，逐口查明原因，明确整改时限和责任人，加快推进整治；"
        f"已完成整治的，及时上传佐证材料申请销号。{issuer()}将持续调度，定期通报进展。",
    )
    _signature(doc, today)

    # 版记 and page numbers
    _record(doc, today)
    _page_numbers(doc, section)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
