"""通报: a .docx notice on rectification progress naming the lagging jurisdictions, in the usual Chinese
official layout: a 黑体/小标宋 title, 仿宋 body at 三号 (16 pt), a table of every jurisdiction and, for each
lagging one, a table of its overdue outfalls, the issuing body and the date at the end.

The figures come from supervision.py (the same functions as the supervision page), within the user's
scope. Only city roles download it (can_download).
"""

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_export import city_name

from . import supervision

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "关于全市入河排污口整治进展情况的通报"
ISSUER = "市生态环境局"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
BODY_SIZE = Pt(16)  # 三号
TABLE_SIZE = Pt(11)
CN_DIGITS = "〇一二三四五六七八九"


def can_download(user):
    return scope_of(user).citywide


def filename(today):
    return f"入河排污口整治进展通报-{today:%Y%m%d}.docx"


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


def _font(run, name, size, bold=False):
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


def _paragraph(doc, text, *, font=BODY_FONT, size=BODY_SIZE, bold=False, align=None, indent=True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.line_spacing = Pt(28)
    if indent:
        fmt.first_line_indent = Pt(32)  # two characters
    _font(p.add_run(text), font, size, bold)
    return p


def _table(doc, header, rows):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), HEADING_FONT, TABLE_SIZE)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, TABLE_SIZE)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def _pct(value):
    return "—" if value is None else f"{value}%"


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
    text = (
        f"截至{chinese_date(today)}，{city}共制定入河排污口“一口一策”整治方案{total.total}个，"
        f"已完成整治并销号{total.completed}个，整治完成率{_pct(total.completion_rate)}；"
        f"已申请销号待审核{total.submitted}个；逾期未完成{total.overdue}个，"
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


def build_notice(user, today):
    """The notice as .docx bytes."""
    figures = notice_figures(user, today)
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr()
    normal_fonts = normal.element.rPr.find(qn("w:rFonts"))
    if normal_fonts is None:
        normal_fonts = normal.element.rPr.makeelement(qn("w:rFonts"), {})
        normal.element.rPr.append(normal_fonts)
    normal_fonts.set(qn("w:eastAsia"), BODY_FONT)

    _paragraph(doc, TITLE, font=TITLE_FONT, size=Pt(22), align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, "各县（区）人民政府，经开区管委会，市直有关部门：", indent=False)
    _paragraph(doc, body_text(figures, today))

    _paragraph(doc, "一、各县区整治进展情况", font=HEADING_FONT)
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
    )
    _paragraph(doc, "二、逾期未完成整治的排污口", font=HEADING_FONT)
    overdue_counties = [r for r in figures["counties"] if r.overdue_plans]
    if not overdue_counties:
        _paragraph(doc, "无。")
    for number, row in enumerate(overdue_counties, 1):
        _paragraph(doc, f"（{chinese_number(number)}）{row.name}（{len(row.overdue_plans)}个）")
        _table(
            doc,
            ["序号", "排污口编码", "入河排污口名称", "整治措施", "整治期限", "完成进度", "责任单位"],
            [
                (
                    i,
                    p.outfall.code,
                    p.outfall.name,
                    p.get_measure_display(),
                    p.deadline.isoformat(),
                    f"{p.percent_done}%",
                    p.responsible_unit.name if p.responsible_unit_id else p.responsible_org,
                )
                for i, p in enumerate(row.overdue_plans, 1)
            ],
        )
    _paragraph(doc, "三、有关要求", font=HEADING_FONT)
    _paragraph(
        doc,
        "请整治进度滞后的县区对照逾期清单，逐口查明原因，明确整改时限和责任人，加快推进整治；"
        "已完成整治的，及时上传佐证材料申请销号。市生态环境局将持续调度，定期通报进展。",
    )
    doc.add_paragraph()
    _paragraph(doc, ISSUER, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, chinese_date(today), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
