"""通报: a .docx notice on rectification progress naming the lagging jurisdictions, in the GB/T 9704 layout every
notice shares (core/documents.py: letterhead and document number from settings, red rule, page numbers, tables
whose header repeats and whose rows never split, signature and 版记).

The body: the addressees, the city's figures, a table of every jurisdiction and, for each lagging one, a table
of its overdue outfalls (columns wide enough for codes and dates on one line); an item at 100 % that is still
overdue says why (supervision.open_reason).

The 问责 records of the last year (accountability.cited) follow the lists.

The figures come from supervision.py (the same functions as the supervision page), within the user's
scope. Only city roles download it (can_download).
"""

from outfalls.core.documents import (  # noqa: F401  (DOCX_CONTENT_TYPE: the views name it here)
    DOCX_CONTENT_TYPE,
    LIST_SIZE,
    Notice,
    chinese_date,
    chinese_number,
)
from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_export import city_name

from . import accountability, supervision

TITLE = "关于全市入河排污口整治进展情况的通报"
ADDRESSEES = "各县（区）人民政府，经开区管委会，市直有关部门："
# Column widths (mm, together the type area's 156) of the two tables.
COUNTY_WIDTHS = (12, 30, 18, 18, 20, 18, 16, 24)
OVERDUE_WIDTHS = (10, 48, 18, 22, 33, 25)
ACCOUNTABILITY_WIDTHS = (10, 22, 24, 18, 26, 56)


def can_download(user):
    return scope_of(user).citywide


def filename(today):
    return f"入河排污口整治进展通报-{today:%Y%m%d}.docx"


def _pct(value):
    return "—" if value is None else f"{value}%"


def progress_text(plan):
    """The 完成进度 cell: "60%"; at 100 % and still open, why (supervision.open_reason)."""
    reason = supervision.open_reason(plan)
    return [f"{plan.percent_done}%", f"（{reason}）"] if reason else [f"{plan.percent_done}%"]


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


def build_notice(user, today, number=None):
    """The notice as .docx bytes. `number`: the serial of its document number (发文字号), if known."""
    figures = notice_figures(user, today)
    notice = Notice(city=city_name(), today=today, number=number)
    notice.head(TITLE, ADDRESSEES)
    notice.body(body_text(figures, today))
    notice.heading("一、各县区整治进展情况")
    notice.table(
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
    notice.heading("二、逾期未完成整治的排污口")
    overdue_counties = [r for r in figures["counties"] if r.overdue_plans]
    if not overdue_counties:
        notice.body("无。")
    for number_in_list, row in enumerate(overdue_counties, 1):
        notice.subheading(f"（{chinese_number(number_in_list)}）{row.name}（{len(row.overdue_plans)}个）")
        notice.table(
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
    records = list(accountability.cited(user, today))
    if records:
        notice.heading("三、问责情况")
        notice.table(
            ["序号", "日期", "对象", "方式", "文号", "事由"],
            [
                (
                    i,
                    a.decided_on.isoformat(),
                    a.target_name,
                    a.get_kind_display(),
                    a.document_number or "—",
                    a.reason,
                )
                for i, a in enumerate(records, 1)
            ],
            ACCOUNTABILITY_WIDTHS,
            size=LIST_SIZE,
            left={5},
        )
    notice.heading(f"{'四' if records else '三'}、有关要求")
    notice.body(
        "请整治进度滞后的县区对照逾期清单，逐口查明原因，明确整改时限和责任人，加快推进整治；"
        f"已完成整治的，及时上传佐证材料申请销号。{notice.issuer}将持续调度，定期通报进展。"
    )
    return notice.finish()
