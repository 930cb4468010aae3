"""The notice (通报) .docx: it opens, holds the figures of the supervision functions, names the lagging
counties, uses the official fonts, and only city roles may download it."""

import io
from datetime import date

import pytest
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn

from outfalls.core.choices import JobKind
from outfalls.core.models import Job
from outfalls.remediation import notice, supervision

from .test_supervision import TODAY, scenario, without_demo_plans  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_notice_holds_the_expected_figures(scenario, demo_user):  # noqa: F811
    bureau = demo_user("bureau")
    doc = Document(io.BytesIO(notice.build_notice(bureau, TODAY)))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "关于全市入河排污口整治进展情况的通报"
    body = next(t for t in texts if t.startswith("截至"))
    total = supervision.totals(bureau, TODAY)
    assert body.startswith("截至2024年11月20日，大同市共制定入河排污口“一口一策”整治方案6个")
    assert f"已完成整治并销号{total.completed}个" in body and "整治完成率33.3%" in body
    assert "逾期未完成3个" in body
    assert "云州区（完成率0.0%，逾期2个）" in body and "平城区（完成率50.0%，逾期1个）" in body
    assert texts[-2:] == ["市生态环境局", "2024年11月20日"]

    county_table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in county_table.rows]
    assert rows[0][:5] == ["序号", "县区", "方案数", "已销号", "完成率"]
    assert rows[1][1:7] == ["平城区", "4", "2", "50.0%", "0", "1"]
    assert rows[2][1:7] == ["云州区", "2", "0", "0.0%", "0", "2"]
    # one table of overdue outfalls per county that has them
    overdue_tables = doc.tables[1:]
    assert [len(t.rows) - 1 for t in overdue_tables] == [1, 2]
    codes = {r.cells[1].text for t in overdue_tables for r in t.rows[1:]}
    assert codes == {p.outfall.code for p in supervision.overdue_plans(bureau, TODAY)}

    title_run = doc.paragraphs[0].runs[0]
    assert title_run._element.rPr.rFonts.get(qn("w:eastAsia")) == notice.TITLE_FONT
    body_run = doc.paragraphs[2].runs[0]
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


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
    assert doc.paragraphs[0].text == notice.TITLE
    assert f"{date.today().year}年" in doc.paragraphs[-1].text


def test_notice_command_writes_the_citywide_notice(scenario, tmp_path):  # noqa: F811
    from django.core.management import call_command

    target = tmp_path / "通报.docx"
    call_command("remediation_notice", "--date", "2024-11-20", "--output", str(target), stdout=io.StringIO())
    doc = Document(str(target))
    body = next(p.text for p in doc.paragraphs if p.text.startswith("截至"))
    assert "截至2024年11月20日" in body and "整治方案6个" in body


@pytest.mark.parametrize(
    "number, text", [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五")]
)
def test_sub_headings_count_past_nine_in_chinese(number, text):
    # Datong has ten county-level jurisdictions: the tenth lagging one is （十）, not （10）.
    assert notice.chinese_number(number) == text
