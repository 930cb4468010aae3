"""Official documents (通报) as .docx in the usual Chinese layout, shared by every app's notice: A4 with the
GB/T 9704 margins, a 方正小标宋 title at 二号, 仿宋 body at 三号 (16 pt) with a two-character indent, 黑体 headings
and table headers, grid tables, the issuing body and the date at the end. Text is written as runs, which hold
no field codes (docs/architecture.md, "Script and formula injection").

    doc = documents.new_document()
    documents.title(doc, "关于……的通报")
    documents.paragraph(doc, "各县（区）人民政府……：", indent=False)
    documents.table(doc, ["序号", "县区"], rows)
    documents.closing(doc, "市生态环境局", today)
    data = documents.to_bytes(doc)
"""

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
TABLE_SIZE = Pt(11)
CN_DIGITS = "〇一二三四五六七八九"


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


def font(run, name, size, bold=False):
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)
    return run


def paragraph(doc, text, *, font_name=BODY_FONT, size=BODY_SIZE, bold=False, align=None, indent=True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.line_spacing = Pt(28)
    if indent:
        fmt.first_line_indent = Pt(32)  # two characters
    font(p.add_run(text), font_name, size, bold)
    return p


def heading(doc, text):
    return paragraph(doc, text, font_name=HEADING_FONT)


def title(doc, text):
    return paragraph(
        doc, text, font_name=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False
    )


def table(doc, header, rows):
    grid = doc.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(grid.rows[0].cells, header, strict=True):
        cell.text = ""
        font(cell.paragraphs[0].add_run(text), HEADING_FONT, TABLE_SIZE)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = ""
            font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, TABLE_SIZE)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return grid


def new_document():
    """An empty A4 document with the official margins and 仿宋 as the normal style's (East Asian) font."""
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr()
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = normal.element.rPr.makeelement(qn("w:rFonts"), {})
        normal.element.rPr.append(fonts)
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    return doc


def closing(doc, issuer, day):
    """The issuing body and the date, right-aligned, after an empty line."""
    doc.add_paragraph()
    paragraph(doc, issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    paragraph(doc, chinese_date(day), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)


def to_bytes(doc):
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
