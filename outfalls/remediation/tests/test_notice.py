"""The notice (通报) .docx: it opens, holds the figures of the supervision functions, names the lagging
counties, uses the official fonts, follows GB/T 9704's layout (letterhead and document number from settings,
page numbers, tables whose header repeats and whose rows never split, column widths), says why an overdue
item at 100 % is still open, and only city roles may download it. How it prints is checked from LibreOffice's
PDF in outfalls/tests/test_print.py."""

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from outfalls.core import documents
from outfalls.core.choices import JobKind
from outfalls.core.models import Job
from outfalls.remediation import notice, services, supervision

from .plan_helpers import png
from .test_supervision import TODAY, scenario, without_demo_plans  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
TODAY_TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def open_notice(user, today=TODAY, **kwargs):
    return Document(io.BytesIO(notice.build_notice(user, today, **kwargs)))


def test_notice_holds_the_expected_figures(scenario, demo_user):  # noqa: F811
    bureau = demo_user("bureau")
    doc = open_notice(bureau)
    texts = [p.text for p in doc.paragraphs]
    # 版头: the letterhead and the document number (serial left blank for the document office), then the title.
    assert texts[:3] == [
        "大同市生态环境局文件",
        "同环发〔2024〕\u3000\u3000号",
        "关于全市入河排污口整治进展情况的通报",
    ]
    body = next(t for t in texts if t.startswith("截至"))
    total = supervision.totals(bureau, TODAY)
    assert body.startswith("截至2024年11月20日，大同市共制定入河排污口“一口一策”整治方案6个")
    assert f"已完成整治并销号{total.completed}个" in body and "整治完成率33.3%" in body
    assert "逾期未完成3个，" in body  # none of them at 100 %
    assert "云州区（完成率0.0%，逾期2个）" in body and "平城区（完成率50.0%，逾期1个）" in body
    # The issuing body's full name and the date, then the 版记 (printing office and date).
    assert texts[-3:] == ["大同市生态环境局", "2024年11月20日", "大同市生态环境局办公室\t2024年11月20日印发"]

    county_table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in county_table.rows]
    assert rows[0][:5] == ["序号", "县区", "方案数", "已销号", "完成率"]
    assert rows[1][1:7] == ["平城区", "4", "2", "50.0%", "0", "1"]
    assert rows[2][1:7] == ["云州区", "2", "0", "0.0%", "0", "2"]
    # one table of overdue outfalls per county that has them; the code on its own line under the name
    overdue_tables = doc.tables[1:]
    assert [len(t.rows) - 1 for t in overdue_tables] == [1, 2]
    codes = {r.cells[1].paragraphs[-1].text for t in overdue_tables for r in t.rows[1:]}
    assert codes == {p.outfall.code for p in supervision.overdue_plans(bureau, TODAY)}
    names = {r.cells[1].paragraphs[0].text for t in overdue_tables for r in t.rows[1:]}
    assert names == {p.outfall.name for p in supervision.overdue_plans(bureau, TODAY)}

    title_run = doc.paragraphs[2].runs[0]
    assert title_run._element.rPr.rFonts.get(qn("w:eastAsia")) == documents.TITLE_FONT
    body_run = next(p for p in doc.paragraphs if p.text.startswith("截至")).runs[0]
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert body_run._element.rPr.rFonts.get(qn("w:ascii")) == "Times New Roman"


def test_notice_follows_the_gbt_9704_layout(scenario, demo_user):  # noqa: F811
    doc = open_notice(demo_user("bureau"), number=12)
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]  # a 156 × 225 mm type area

    letterhead, number = doc.paragraphs[0], doc.paragraphs[1]
    assert str(letterhead.runs[0].font.color.rgb) == "FF0000"
    assert round(letterhead.paragraph_format.space_before.mm) == 35
    assert number.text == "同环发〔2024〕12号"
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"  # the red rule under the number

    for table in doc.tables:
        rows = table._tbl.tr_lst
        assert rows[0].trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
        assert all(r.trPr.find(qn("w:cantSplit")) is not None for r in rows)  # never split over a page
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(grid) - Mm(156).twips) < 20 and len(set(grid)) > 2  # the type area, per column
        assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"

    # Page numbers: a PAGE field in the odd and the even footer, right and left.
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in footer.paragraphs[0].text
    # The 版记 sits in a frame at the foot of the type area; the signature two characters in, the date's
    # first character two characters right of the name's first.
    record = doc.paragraphs[-1]
    assert record._p.pPr.find(qn("w:framePr")).get(qn("w:yAlign")) == "bottom"
    name, day = doc.paragraphs[-3], doc.paragraphs[-2]
    name_start = name.paragraph_format.right_indent.pt + documents.text_em(name.text) * 16  # from the right
    day_start = day.paragraph_format.right_indent.pt + documents.text_em(day.text) * 16
    assert name_start - day_start == 2 * 16 and day.paragraph_format.right_indent.pt >= 2 * 16


def test_issuer_letterhead_and_number_come_from_settings(scenario, demo_user, settings):  # noqa: F811
    settings.NOTICE_ISSUER = "某某市生态环境局"
    settings.NOTICE_LETTERHEAD = "某某市生态环境局文件"
    settings.NOTICE_DOCUMENT_NUMBER = "某环通〔{year}〕{number}号"
    settings.NOTICE_PRINTED_BY = "某某市生态环境局综合科"
    doc = open_notice(demo_user("bureau"), number=7)
    texts = [p.text for p in doc.paragraphs]
    assert texts[:2] == ["某某市生态环境局文件", "某环通〔2024〕7号"]
    assert texts[-3] == "某某市生态环境局" and texts[-1].startswith("某某市生态环境局综合科\t")
    assert any("某某市生态环境局将持续调度" in t for t in texts)


def test_an_overdue_item_at_100_percent_says_why(scenario, demo_user):  # noqa: F811
    bureau, yunzhou = demo_user("bureau"), demo_user("yunzhou")
    plan = scenario["yunzhou"][0]
    services.add_progress(plan, user=yunzhou, date=TODAY, percent=100, note="完成", photos=[png()])

    def cell_and_body():
        doc = open_notice(bureau)
        row = next(
            r
            for t in doc.tables[1:]
            for r in t.rows[1:]
            if r.cells[1].paragraphs[-1].text == plan.outfall.code
        )
        body = next(p.text for p in doc.paragraphs if p.text.startswith("截至"))
        return [p.text for p in row.cells[4].paragraphs], body

    cell, body = cell_and_body()
    assert cell == ["100%", "（尚未申请销号）"]
    assert "逾期未完成3个（其中1个已报完成整治、尚未销号）" in body

    services.submit_closeout(plan, user=yunzhou)
    plan.refresh_from_db()
    day = plan.submitted_at.astimezone(TODAY_TZ).date()
    assert cell_and_body()[0] == ["100%", f"（已于{day.year}年{day.month}月{day.day}日申请销号，待审核）"]

    services.return_closeout(plan, user=bureau, reason="缺少整治后照片")
    assert cell_and_body()[0] == ["100%", "（销号申请被退回：缺少整治后照片）"]
    # Below 100 % an item says only its progress.
    other = scenario["yunzhou"][1]
    assert supervision.open_reason(other) == "" and notice.progress_text(other) == ["0%"]


def test_notice_download_is_for_city_roles(scenario, client_for):  # noqa: F811
    url = reverse("remediation:notice")
    assert client_for("pingcheng").post(url).status_code == 403
    client = client_for("auditor")
    assert client.get(url).status_code == 405  # made on the task queue, started by a POST
    started = client.post(url)
    assert started.status_code == 302
    job = Job.objects.get(kind=JobKind.NOTICE)
    assert started["Location"] == reverse("core:job_detail", args=[job.pk])
    page = client.get(started["Location"]).content.decode()
    assert f"通报已生成：{notice.filename(date.today())}" in page and 'data-testid="job-download"' in page
    response = client.get(reverse("core:job_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == notice.DOCX_CONTENT_TYPE
    response = b"".join(response.streaming_content)
    doc = Document(io.BytesIO(response))
    assert doc.paragraphs[2].text == notice.TITLE
    assert f"{date.today().year}年" in doc.paragraphs[-1].text


def test_notice_command_writes_the_citywide_notice(scenario, tmp_path):  # noqa: F811
    from django.core.management import call_command

    target = tmp_path / "通报.docx"
    call_command(
        "remediation_notice",
        "--date",
        "2024-11-20",
        "--number",
        "5",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    doc = Document(str(target))
    body = next(p.text for p in doc.paragraphs if p.text.startswith("截至"))
    assert "截至2024年11月20日" in body and "整治方案6个" in body
    assert doc.paragraphs[1].text == "同环发〔2024〕5号"


@pytest.mark.parametrize(
    "number, text", [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五")]
)
def test_sub_headings_count_past_nine_in_chinese(number, text):
    # Datong has ten county-level jurisdictions: the tenth lagging one is （十）, not （10）.
    assert notice.chinese_number(number) == text
