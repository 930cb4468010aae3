"""Official documents (通报) as .docx, laid out after GB/T 9704-2012 (党政机关公文格式): the one layout every
app's notice uses (remediation/notice.py, monitoring/notice.py).

- Page: A4, type area 156 × 225 mm (top margin 37 mm, inside 28 mm), 22 lines of 28 characters of 三号 (16 pt)
  仿宋; Latin letters and digits in Times New Roman (as official documents write them).
- 版头: the letterhead (发文机关标志, NOTICE_LETTERHEAD) in red 小标宋 35 mm below the top of the type area, the
  document number (发文字号, NOTICE_DOCUMENT_NUMBER) two lines below it, and the red rule the width of the type
  area 4 mm under the number.
- 主体: the title (二号小标宋) two lines below the rule, the addressees one line below the title, the body (一、
  in 黑体, （一） in 楷体), tables with their columns' widths (codes and dates on one line) whose header row
  repeats on every page and whose rows never split across pages. Then the issuing body's full name
  (NOTICE_ISSUER) two characters from the right and the date under it, its first character two characters
  right of the name's.
- 版记: the printing office (NOTICE_PRINTED_BY) and the date between two rules, at the foot of the last page.
- Page numbers "— 1 —" in 四号 below the type area: odd pages on the right, even pages on the left, one
  character in.

Text is written as runs, which hold no field codes (docs/architecture.md, "Script and formula injection"); the
only field is the page number's. Usage::

    notice = Notice(city="大同市", today=today, number=None)
    notice.head("关于……的通报", "各县（区）人民政府……：")
    notice.body("……")
    notice.heading("一、……")
    notice.table(["序号", "县区"], rows, widths_mm=(20, 136))
    data = notice.finish()
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

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
TITLE_FONT = "方正小标宋简体"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
LETTERHEAD_SIZE = Pt(36)  # 小初
TABLE_SIZE = Pt(12)  # 小四: summary tables
LIST_SIZE = Pt(10.5)  # 五号: long lists (a code on one line in the name's column)
RECORD_SIZE = Pt(14)  # 四号: the 版记 and the page numbers
LINE = Pt(29)  # 22 lines in the 225 mm type area
CHAR = 16  # points: one character of the body
TYPE_AREA_MM = 156
RED = RGBColor(0xFF, 0x00, 0x00)
CN_DIGITS = "〇一二三四五六七八九"


# Settings ----------------------------------------------------------------------------------------------
def issuer(city=""):
    """The issuing body's full name: NOTICE_ISSUER, else the city's name + 生态环境局 (大同市生态环境局)."""
    return settings.NOTICE_ISSUER or f"{city}生态环境局"


def letterhead(city=""):
    """发文机关标志: NOTICE_LETTERHEAD, else the issuer + 文件."""
    return settings.NOTICE_LETTERHEAD or f"{issuer(city)}文件"


def document_number(today, number=None):
    """发文字号 from NOTICE_DOCUMENT_NUMBER: 同环发〔2024〕12号; without a number the serial stays blank
    (同环发〔2024〕　　号) for the document office to fill in when it registers the document."""
    serial = str(number) if number else "\u3000\u3000"
    return settings.NOTICE_DOCUMENT_NUMBER.format(year=today.year, number=serial)


def printed_by(city=""):
    """印发机关 in the 版记: NOTICE_PRINTED_BY, else the issuer + 办公室."""
    return settings.NOTICE_PRINTED_BY or f"{issuer(city)}办公室"


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


# Low-level docx ----------------------------------------------------------------------------------------
def font(run, name, size, bold=False, color=None, latin=LATIN_FONT):
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


def borders(paragraph, *, color="000000", **sides):
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


def paragraph(
    container,
    text="",
    *,
    font_name=BODY_FONT,
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
        font(p.add_run(text), font_name, size, bold, color)
    return p


def _row_properties(row, *, header=False):
    """Never split the row across pages; repeat it at the top of every page when it is the header."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def _cell(cell, lines, width, *, size, font_name=BODY_FONT, align=WD_ALIGN_PARAGRAPH.CENTER):
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
        font(p.add_run(str(text)), font_name, size)


def table(doc, header, rows, widths_mm, *, size=TABLE_SIZE, left=()):
    """A table the width of the type area with fixed column widths (mm); its header row repeats on every
    page and no row splits across pages. A cell value may be a list of lines. Columns in `left` are
    left-aligned, the others centred."""
    grid = doc.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    tblpr = grid._tbl.tblPr  # (autofit False: a fixed layout, the widths below)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "57")  # 1 mm, in twentieths of a point
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    tblpr.append(margins)
    widths = [Mm(w) for w in widths_mm]
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    _row_properties(grid.rows[0], header=True)
    for cell, text, width in zip(grid.rows[0].cells, header, widths, strict=True):
        _cell(cell, text, width, size=size, font_name=HEADING_FONT)
    for values in rows:
        row = grid.add_row()
        _row_properties(row)
        for index, (cell, value, width) in enumerate(zip(row.cells, values, widths, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if index in left else WD_ALIGN_PARAGRAPH.CENTER
            _cell(cell, value if isinstance(value, list) else str(value), width, size=size, align=align)
    return grid


def _field(paragraph, instruction, placeholder, *, font_name, size):
    """A Word field (PAGE) in a paragraph, showing `placeholder` until the reader updates it."""

    def run_with(element):
        run = paragraph.add_run()
        font(run, font_name, size, latin=font_name)
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
    font(paragraph.add_run(placeholder), font_name, size, latin=font_name)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def page_numbers(doc, section):
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
        font(p.add_run("— "), PAGE_NUMBER_FONT, RECORD_SIZE, latin=PAGE_NUMBER_FONT)
        _field(p, "PAGE", "1", font_name=PAGE_NUMBER_FONT, size=RECORD_SIZE)
        font(p.add_run(" —"), PAGE_NUMBER_FONT, RECORD_SIZE, latin=PAGE_NUMBER_FONT)


def record(doc, today, office):
    """版记: 印发机关 one character from the left and 印发日期 one from the right between two rules, in a frame
    at the foot of the type area of the last page."""
    p = paragraph(doc, indent=False, line=Pt(RECORD_SIZE.pt * 1.5))
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = RECORD_SIZE
    width = Mm(TYPE_AREA_MM) - 2 * RECORD_SIZE
    fmt.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    font(p.add_run(office), BODY_FONT, RECORD_SIZE)
    p.add_run("\t")
    font(p.add_run(f"{chinese_date(today)}印发"), BODY_FONT, RECORD_SIZE)
    borders(p, top=(8, 1), bottom=(8, 1))  # 1 pt rules (GB/T 9704: 0.35 mm)
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


def signature(doc, today, name):
    """发文机关署名 one line below the body, two characters from the right; 成文日期 below it, its first
    character two characters right of the name's first (or, when the date is the longer, the date two
    characters from the right and the name moved left to keep the two-character step)."""
    day = chinese_date(today)
    name_em, day_em = text_em(name), text_em(day)
    if name_em - day_em >= 2:
        name_right, day_right = 2, name_em - day_em
    else:
        name_right, day_right = 4 + day_em - name_em, 2
    right = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph(doc, name, align=right, indent=False, before=1, right_indent=name_right, keep_with_next=True)
    paragraph(doc, day, align=right, indent=False, right_indent=day_right)


def new_document():
    """An empty A4 document with the GB/T 9704 margins and 仿宋 (Times New Roman for Latin) as the normal style."""
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


# The notice --------------------------------------------------------------------------------------------
class Notice:
    """A notice in the layout above: head() first, then body(), heading(), subheading() and table() in order,
    finish() for the .docx bytes (signature, 版记, page numbers)."""

    def __init__(self, *, city="", today, number=None, issued_by=None):
        """issued_by: another body than the city bureau (a county government reporting to the bureau): its name
        heads, signs and prints the document, its number's serial is left for its office, and it is addressed
        to the bureau. Without it, the bureau's own notice, addressed to the city government."""
        self.doc, self.section = new_document()
        self.today = today
        self.number = number
        bureau = issuer(city)
        if issued_by:
            self.issuer, self.printed_by, self.letterhead = (
                issued_by,
                f"{issued_by}办公室",
                f"{issued_by}文件",
            )
            self.number_text = f"〔{today.year}〕\u3000\u3000号"
            self.addressee = bureau
        else:
            self.issuer, self.printed_by, self.letterhead = bureau, printed_by(city), letterhead(city)
            self.number_text = document_number(today, number)
            self.addressee = f"{city}人民政府"

    def head(self, title, addressees):
        """版头 (letterhead 35 mm below the top of the type area, the number two lines below, the red rule 4 mm
        under the number), then the title and the addressees. A long letterhead gets a smaller size to stay
        on one line."""
        center = WD_ALIGN_PARAGRAPH.CENTER
        head = self.letterhead
        size = Pt(min(LETTERHEAD_SIZE.pt, int(TYPE_AREA_MM * 72 / 25.4 / max(text_em(head), 1))))
        p = paragraph(
            self.doc,
            head,
            font_name=TITLE_FONT,
            size=size,
            color=RED,
            align=center,
            indent=False,
            line=Pt(size.pt * 1.2),
        )
        p.paragraph_format.space_before = Mm(35)
        p = paragraph(self.doc, self.number_text, align=center, indent=False, before=2)
        borders(p, color="FF0000", bottom=(16, 11))  # 2 pt, 4 mm (11 pt) below the number
        paragraph(
            self.doc, title, font_name=TITLE_FONT, size=TITLE_SIZE, align=center, indent=False, before=2
        )
        paragraph(self.doc, addressees, indent=False, before=1)

    def body(self, text):
        return paragraph(self.doc, text)

    def heading(self, text):
        """一、… in 黑体, kept with what follows."""
        return paragraph(self.doc, text, font_name=HEADING_FONT, keep_with_next=True)

    def subheading(self, text):
        """（一）… in 楷体, kept with what follows."""
        return paragraph(self.doc, text, font_name=SUBHEADING_FONT, keep_with_next=True)

    def table(self, header, rows, widths_mm, *, size=TABLE_SIZE, left=()):
        return table(self.doc, header, rows, widths_mm, size=size, left=left)

    def finish(self):
        signature(self.doc, self.today, self.issuer)
        record(self.doc, self.today, self.printed_by)
        page_numbers(self.doc, self.section)
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()
