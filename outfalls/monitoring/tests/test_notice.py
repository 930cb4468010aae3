"""The monthly exceedance notice (超标通报): a .docx that python-docx opens, in the official style, with the
right numbers per county and department, compared with the month before; the page, the job and the command."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from outfalls.core.documents import TITLE_FONT
from outfalls.monitoring import exceedances, notice
from outfalls.monitoring.choices import FindingKind
from outfalls.monitoring.models import Finding
from outfalls.registry.classification import Level2

from .helpers import new_outfall, record

YEAR, MONTH = 2023, 6  # before the demo data: only this test's samples


def table_rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture
def june(db):
    """Two outfalls in 平城区 over their limits in June (one twice), one compliant; one in 云州区 over in May."""
    over = new_outfall(Level2.MUNICIPAL_WWTP, county="140213")
    twice = new_outfall(Level2.INDUSTRIAL_MINING, county="140213", water_target="III")
    clean = new_outfall(Level2.MUNICIPAL_WWTP, county="140213")
    may = new_outfall(Level2.MUNICIPAL_WWTP, county="140215")
    record(over, "2023-06-05 10:00", {"COD": 80, "NH3N": 3})
    record(twice, "2023-06-07 10:00", {"COD": 130, "NH3N": 20})
    record(clean, "2023-06-09 10:00", {"COD": 30})
    record(may, "2023-05-20 10:00", {"COD": 70})
    return over, twice, clean, may


def test_the_notice_opens_with_the_right_numbers(june, demo_user):
    over, twice, clean, may = june
    data = notice.build_notice(demo_user("bureau"), YEAR, MONTH, today=date(2023, 7, 3), number=8)
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    # The shared GB/T 9704 head: letterhead, document number, title, addressees.
    assert texts[:4] == [
        "大同市生态环境局文件",
        "同环发〔2023〕8号",
        "关于2023年6月入河排污口超标排放情况的通报",
        notice.ADDRESSEES,
    ]
    assert doc.paragraphs[2].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == TITLE_FONT
    body = texts[4]
    assert "共监测入河排污口 3 个，其中超标排放的 2 个、超标 3 项次，较上月增加 1 个（上月 1 个）" in body
    assert "平城区（2个，3项次）" in body
    counties = {row[1]: row for row in table_rows(doc.tables[0])[1:]}
    assert counties["平城区"][2:] == ["3", "2", "3", "0", "0", "0", "+2"]
    assert counties["云州区"][2:] == ["0", "0", "0", "0", "0", "1", "-1"]
    assert counties["合计"][3] == "2"
    departments = {row[1]: row for row in table_rows(doc.tables[1])[1:]}
    assert departments["市住房和城乡建设局"][2:5] == ["2", "1", "1"]  # the municipal plants
    assert departments["市工业和信息化局"][2:5] == ["1", "1", "2"]
    listed = table_rows(doc.tables[2])
    assert "（一）平城区（2个）" in texts
    cod = next(row for row in listed if row[1] == f"{over.name}\n{over.code}")
    assert cod[2:6] == ["化学需氧量", "80 mg/L", "≤50", "0.60"] and cod[6] == "2023-06-05\n10:00"
    assert cod[7] == "GB 18918-2002 一级A标准"
    assert {row[1].split("\n")[-1] for row in listed[1:]} == {over.code, twice.code}
    # Signature, date and 版记 at the end; tables repeat their header and never split a row; page numbers.
    assert texts[-3:] == ["大同市生态环境局", "2023年7月3日", "大同市生态环境局办公室\t2023年7月3日印发"]
    for table in doc.tables:
        rows = table._tbl.tr_lst
        assert rows[0].trPr.find(qn("w:tblHeader")) is not None
        assert all(r.trPr.find(qn("w:cantSplit")) is not None for r in rows)
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(grid) - Mm(156).twips) < 20
    assert "PAGE" in doc.sections[0].footer._element.xml


def test_the_figures_follow_the_users_scope(june, demo_user):
    figures = notice.notice_figures(demo_user("yunzhou"), YEAR, MONTH)
    assert [r.name for r in figures.counties] == ["云州区"] and figures.total.last_exceeded == 1
    assert not notice.can_make(demo_user("yunzhou")) and notice.can_make(demo_user("auditor"))


def test_the_page_makes_it_as_a_job(client_for, june):
    client = client_for("bureau")
    page = client.get("/monitoring/notice/?month=2023-06").content.decode()
    assert "共监测入河排污口 3 个" in page
    response = client.post("/monitoring/notice/", {"month": "2023-06"})
    assert response.status_code == 302
    job_page = client.get(response.url).content.decode()
    assert "通报已生成：入河排污口超标排放情况通报-2023年06月.docx" in job_page
    download = client.get(response.url + "download/")
    doc = Document(io.BytesIO(b"".join(download.streaming_content)))
    assert doc.paragraphs[2].text.startswith("关于2023年6月")
    assert client.get("/monitoring/notice/?month=2023-13").status_code == 400
    assert client_for("pingcheng").get("/monitoring/notice/").status_code == 403


def test_the_command(june, tmp_path):
    out = tmp_path / "notice.docx"
    call_command(
        "exceedance_notice", "--month", "2023-06", "--output", str(out), "--number", "3", stdout=io.StringIO()
    )
    doc = Document(str(out))
    assert doc.paragraphs[1].text == f"同环发〔{timezone.localdate().year}〕3号"  # dated today
    counties = {row[1]: row for row in table_rows(doc.tables[0])[1:]}
    assert counties["平城区"][3] == "2"


def test_a_chronic_episode_that_spans_the_month_counts(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    for day in ("2023-04-01", "2023-04-05", "2023-04-10", "2023-04-20", "2023-06-02"):
        record(outfall, f"{day} 10:00", {"COD": 80}, follow_up=False)
    exceedances.evaluate([outfall.pk])
    [chronic] = Finding.objects.filter(outfall=outfall, kind=FindingKind.CHRONIC)
    assert (chronic.at.month, chronic.period_end.month) == (4, 6)
    may = notice.notice_figures(None, 2023, 5)
    assert may.total.chronic == 1 and may.total.exceeded == 0  # no sample in May, still chronic
