"""The three statutory reports: figures as of a past date match the ledger as it stood then (and its
attachment-1 table); the parts a county writes; sending, the register and who is late; scope; the command."""

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import F, Max
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline, Department, Jurisdiction
from outfalls.registry.choices import LifecycleStatus, RectificationStatus
from outfalls.registry.ledger_export import outfall_rows
from outfalls.registry.ledger_reader import read_table
from outfalls.registry.models import Outfall
from outfalls.reports import statutory
from outfalls.reports.choices import ReportKind, SubmissionStatus

pytestmark = pytest.mark.django_db
PINGCHENG = "140213"
PAST = date(2023, 9, 30)


def county(code=PINGCHENG):
    return Jurisdiction.objects.get(code=code)


@pytest.fixture
def ledger_in_2023():
    """The demo ledger as if it had stood since 2023-06-01; then, today, a third of 平城区's outfalls are
    registered and disclosed and one is closed out: the report as of 2023-09-30 must not see those changes."""
    # Every history row moved back by the same span (their order kept), its newest near 2023-06-01.
    newest = Outfall.history.aggregate(newest=Max("history_date"))["newest"]
    Outfall.history.update(
        history_date=F("history_date") - (newest - timezone.make_aware(datetime(2023, 6, 1, 9)))
    )
    changed = list(Outfall.objects.filter(county__code=PINGCHENG).order_by("code"))[::3]
    for outfall in changed:
        outfall.registered = not outfall.registered
        outfall.disclosed = not outfall.disclosed
        outfall.save()
    return changed


def text_of(docx_bytes):
    document = Document(io.BytesIO(docx_bytes))
    return "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells
    )


def test_the_figures_as_of_a_past_date_are_the_ledger_as_it_stood_then(ledger_in_2023):
    subject = statutory.Subject(county=county())
    then = statutory.figures(PAST, subject)
    now = statutory.figures(timezone.localdate(), subject)
    # The ledger's own as-of rows (the attachment-1 export's), counted independently.
    rows = [r for r in outfall_rows(as_of=PAST) if r.county_id == county().pk]
    assert then["total"] == len(rows) == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert then["registered"] == sum(1 for r in rows if r.registered)
    assert then["disclosed"] == sum(1 for r in rows if r.disclosed)
    assert then["traced"] == sum(
        1 for r in rows if r.status not in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED)
    )
    done = (RectificationStatus.COMPLETED, RectificationStatus.NOT_NEEDED)
    assert then["rectified"] == sum(1 for r in rows if r.rectification_status in done)
    assert sum(then["by_type"].values()) == then["total"]
    # Today's changes show today, not in 2023.
    live = Outfall.objects.filter(county__code=PINGCHENG)
    assert now["registered"] == live.filter(registered=True).count() != then["registered"]
    # The attachment-1 table as of that date has the same rows.
    content = statutory.build_xlsx(PAST, subject)
    table = read_table(io.BytesIO(content), filename="附件.xlsx")  # the import's own reader
    assert {raw.values.get("code") for raw in table.rows()} == {r.code for r in rows}
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    title = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True))[0]
    assert "平城区" in title and "截至2023-09-30" in title


def test_the_report_says_the_figures_the_written_parts_and_the_lagging_outfalls(ledger_in_2023, demo_user):
    subject = statutory.Subject(county=county())
    officer = demo_user("pingcheng")
    report = statutory.report_for(ReportKind.SURVEY, subject, officer)
    assert report.as_of == Deadline.due_for(Milestone.REPORT_SURVEY, None)
    report = statutory.save_report(
        report,
        user=officer,
        as_of=PAST,
        work_done="成立排查专班，完成全区河段徒步排查。",
        problems="部分排口责任主体难以确定。",
        next_steps="年底前完成全部溯源并明确责任主体。",
    )
    text = text_of(statutory.build_docx(ReportKind.SURVEY, PAST, subject, report))
    then = statutory.figures(PAST, subject)
    assert f"截至2023年9月30日，平城区入河排污口台账共{then['total']}个" in text
    assert "成立排查专班" in text and "年底前完成全部溯源" in text
    behind = statutory.lagging(ReportKind.SURVEY, PAST, subject).count()
    assert f"四、滞后事项（尚未完成溯源的排污口{behind}个）" in text
    assert "大同市平城区人民政府" in text and "大同市生态环境局：" in text


def test_sending_needs_the_written_parts_and_the_register_names_who_is_late(demo_user, client_for):
    today = timezone.localdate()
    Deadline.objects.update_or_create(
        milestone=Milestone.REPORT_PROGRESS,
        jurisdiction=None,
        defaults={"due_date": today + timedelta(days=20)},
    )
    Deadline.objects.update_or_create(
        milestone=Milestone.REPORT_PROGRESS,
        jurisdiction=county("140215"),
        defaults={"due_date": today - timedelta(days=1)},
    )
    officer = demo_user("pingcheng")
    subject = statutory.Subject(county=county())
    report = statutory.save_report(
        statutory.report_for(ReportKind.PROGRESS, subject, officer),
        user=officer,
        as_of=today,
        work_done="推进一口一策整治。",
        problems="",
        next_steps="",
    )
    with pytest.raises(ValidationError) as refused:
        statutory.submit_report(report, user=officer)
    assert set(refused.value.message_dict) == {"work_done", "problems", "next_steps"}
    with pytest.raises(PermissionDenied):
        statutory.save_report(
            report, user=demo_user("yunzhou"), as_of=today, work_done="", problems="", next_steps=""
        )
    response = client_for("pingcheng").post(
        "/statutory/report_progress/county/140213/",
        {
            "as_of": today.isoformat(),
            "work_done": "推进一口一策整治，完成方案编制。",
            "problems": "部分整治项目资金未落实到位。",
            "next_steps": "督促逾期项目加快推进，按期销号。",
            "version": report.version,
            "submit": "1",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == SubmissionStatus.SUBMITTED and report.submitted_by == officer
    entries = {e.subject.name: e for e in statutory.register(ReportKind.PROGRESS)}
    assert entries["平城区"].submitted and not entries["平城区"].late
    assert entries["云州区"].late and not entries["云州区"].submitted  # its own date has passed
    assert not entries["新荣区"].late  # the city's date is ahead
    page = client_for("bureau").get("/statutory/", {"kind": "report_progress"}).content.decode()
    assert "已报送 1 家" in page and "逾期 1 家" in page


def test_a_stale_save_keeps_what_was_typed(demo_user, client_for):
    officer = demo_user("pingcheng")
    subject = statutory.Subject(county=county())
    today = timezone.localdate()
    report = statutory.save_report(
        statutory.report_for(ReportKind.SUMMARY, subject, officer),
        user=officer,
        as_of=today,
        work_done="第一次保存。",
        problems="",
        next_steps="",
    )
    old = report.version
    statutory.save_report(
        report,
        user=officer,
        as_of=today,
        work_done="别人先保存了。",
        problems="",
        next_steps="",
        expected_version=old,
    )
    response = client_for("pingcheng").post(
        "/statutory/report_summary/county/140213/",
        {
            "as_of": today.isoformat(),
            "work_done": "我写的总结。",
            "problems": "",
            "next_steps": "",
            "version": old,
            "save": "1",
        },
    )
    assert response.status_code == 400 and "我写的总结。" in response.content.decode()


@pytest.mark.parametrize(
    "role, sees, writes",
    [
        ("bureau", "all", None),
        ("auditor", "all", None),
        ("pingcheng", {"平城区"}, "平城区"),
        ("yunzhou", {"云州区"}, "云州区"),
        ("chengguan", {"市城市管理局"}, "市城市管理局"),
        ("enterprise", set(), None),
        ("river_chief", set(), None),
    ],
)
def test_each_role_sees_and_writes_its_own(client_for, role, sees, writes):
    client = client_for(role)
    page = client.get("/statutory/", {"kind": "report_survey"})
    names = {e.subject.name for e, _, _ in page.context["entries"]}
    everyone = {s.name for s in statutory.subjects()}
    assert names == (everyone if sees == "all" else sees)
    pingcheng = client.get("/statutory/report_survey/county/140213/")
    assert pingcheng.status_code == (200 if sees == "all" or "平城区" in sees else 404)
    if pingcheng.status_code == 200:
        assert (pingcheng.context["form"] is not None) == (writes == "平城区")
    department = Department.objects.get(name="市城市管理局")
    own = client.get(f"/statutory/report_survey/department/{department.pk}/")
    assert own.status_code == (200 if sees == "all" or "市城市管理局" in sees else 404)
    city = client.get("/statutory/report_survey/city.docx")
    assert city.status_code == (200 if sees == "all" else 404)


def test_the_command_writes_a_county_report_and_the_city_report(tmp_path, ledger_in_2023):
    out = io.StringIO()
    call_command(
        "statutory_report",
        "survey",
        "--as-of",
        "2023-09-30",
        "--county",
        PINGCHENG,
        "--out",
        str(tmp_path),
        stdout=out,
    )
    docx = tmp_path / "平城区排查溯源工作开展情况报告-20230930.docx"
    xlsx = tmp_path / "平城区排查溯源工作开展情况报告-20230930-信息汇总表.xlsx"
    assert docx.exists() and xlsx.exists()
    call_command("statutory_report", "progress", "--as-of", "2023-12-31", "--out", str(tmp_path), stdout=out)
    city = text_of((tmp_path / "全市规范整治工作进展情况报告-20231231.docx").read_bytes())
    total = statutory.figures(date(2023, 12, 31), statutory.Subject())["total"]
    assert f"入河排污口台账共{total}个" in city and "二、各县区情况" in city and "三、报送情况" in city
    with pytest.raises(Exception, match="报告类型"):
        call_command("statutory_report", "annual", "--as-of", "2023-12-31", "--out", str(tmp_path))
