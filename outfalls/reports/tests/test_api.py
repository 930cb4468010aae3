"""The statutory reports through the REST API (/api/v1/statutory-reports/), as a county's client would use it:
writing a report (the first save creates it, later saves carry the version read, a stale one is refused),
sending it (the written parts required), the register with who is late, and the scope of every demo role (the
city reads, only the county or department itself writes; another's report is a 404)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline, Department, Jurisdiction
from outfalls.core.services import status_changes_for
from outfalls.reports import statutory
from outfalls.reports.choices import ReportKind, SubmissionStatus
from outfalls.reports.models import StatutoryReport

pytestmark = pytest.mark.django_db
PINGCHENG, YUNZHOU = "140213", "140215"
URL = "/api/v1/statutory-reports/"
JSON = "application/json"
TEXTS = {
    "work_done": "成立排查专班，完成全部河段的现场排查。",
    "problems": "部分排口责任主体尚难确定，需进一步溯源。",
    "next_steps": "年底前完成全部溯源，明确责任主体。",
}


def subject(code=None, department=None):
    if department is not None:
        return statutory.Subject(department=Department.objects.get(name=department))
    return statutory.Subject(county=Jurisdiction.objects.get(code=code))


def saved(username, kind, which, demo_user, **texts):
    user = demo_user(username)
    return statutory.save_report(
        statutory.report_for(kind, which, user),
        user=user,
        as_of=timezone.localdate(),
        work_done=texts.get("work_done", "草稿。"),
        problems="",
        next_steps="",
    )


@pytest.fixture
def three(demo_user):
    """A survey report each for 平城区, 云州区 and 市城市管理局 (drafts)."""
    return {
        "平城区": saved("pingcheng", ReportKind.SURVEY, subject(PINGCHENG), demo_user),
        "云州区": saved("yunzhou", ReportKind.SURVEY, subject(YUNZHOU), demo_user),
        "市城市管理局": saved("chengguan", ReportKind.SURVEY, subject(department="市城市管理局"), demo_user),
    }


@pytest.fixture
def send(client_for):
    def request(username, method, url, body=None):
        return getattr(client_for(username), method)(url, body or {}, content_type=JSON)

    return request


ROLES = {
    "bureau": ({"平城区", "云州区", "市城市管理局"}, None),
    "auditor": ({"平城区", "云州区", "市城市管理局"}, None),
    "pingcheng": ({"平城区"}, "平城区"),
    "yunzhou": ({"云州区"}, "云州区"),
    "chengguan": ({"市城市管理局"}, "市城市管理局"),
    "enterprise": (set(), None),
    "river_chief": (set(), None),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_sees_and_writes_its_own(client_for, send, three, username):
    sees, writes = ROLES[username]
    client = client_for(username)
    listing = client.get(URL).json()
    assert {r["subject_name"] for r in listing["results"]} == sees and listing["count"] == len(sees)
    for name, report in three.items():
        detail = client.get(f"{URL}{report.pk}/")
        assert detail.status_code == (200 if name in sees else 404)
        if detail.status_code == 200:
            assert detail.json()["editable"] == (name == writes)
        response = send(username, "patch", f"{URL}{report.pk}/", {"version": report.version, **TEXTS})
        expected = 200 if name == writes else 403 if name in sees else 404
        assert response.status_code == expected, (name, response.json())
        if expected == 403:
            assert response.json()["detail"] == "只有本县区（部门）可以填写和报送本报告。"
        if expected == 404:
            assert send(username, "post", f"{URL}{report.pk}/submit/", {"version": 1}).status_code == 404
    register = client.get(URL + "register/", {"kind": ReportKind.SURVEY}).json()
    everyone = {s.name for s in statutory.subjects()}
    expected = everyone if username in ("bureau", "auditor") else sees
    assert {e["subject_name"] for e in register["entries"]} == expected and register["total"] == len(expected)


def test_writing_saving_and_sending_a_report(client_for, send, demo_user):
    today = timezone.localdate()
    body = {"kind": ReportKind.PROGRESS, "county": PINGCHENG, "as_of": today.isoformat(), **TEXTS}
    body["work_done"] = "推进一口一策。"
    created = send("pingcheng", "post", URL, body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["kind"], data["county"], data["status"], data["version"]) == (
        "report_progress",
        PINGCHENG,
        "draft",
        1,
    )
    assert data["page_url"] == f"/statutory/report_progress/county/{PINGCHENG}/"
    url = f"{URL}{data['id']}/"

    again = send("pingcheng", "post", URL, body)  # the report exists: the version read is needed
    assert again.status_code == 400 and "version" in again.json()["errors"]
    future = send("pingcheng", "patch", url, {"version": 1, "as_of": (today + timedelta(days=1)).isoformat()})
    assert future.status_code == 400 and "as_of" in future.json()["errors"]
    saved = send("pingcheng", "patch", url, {"version": 1, "problems": "资金未落实到位。"})
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["version"], saved.json()["problems"]) == (2, "资金未落实到位。")
    assert saved.json()["work_done"] == "推进一口一策。"  # the parts left out are kept
    stale = send("pingcheng", "patch", url, {"version": 1, "work_done": "我写的。"})
    assert stale.status_code == 400 and "保存未完成" in stale.json()["detail"]
    assert StatutoryReport.objects.get(pk=data["id"]).work_done == "推进一口一策。"
    missing = send("pingcheng", "post", url + "submit/", {})
    assert missing.status_code == 400 and "version" in missing.json()["errors"]

    too_short = send("pingcheng", "post", url + "submit/", {"version": 2})
    assert too_short.status_code == 400
    assert set(too_short.json()["errors"]) == {"work_done", "problems"}  # next_steps is long enough
    assert "工作开展情况" in too_short.json()["detail"]
    assert StatutoryReport.objects.get(pk=data["id"]).status == SubmissionStatus.DRAFT
    version = StatutoryReport.objects.get(pk=data["id"]).version
    sent = send("pingcheng", "post", url + "submit/", {"version": version, **TEXTS})  # save and send, as 报送
    assert sent.status_code == 200, sent.json()
    result = sent.json()
    assert (result["status"], result["submitted_on"]) == ("submitted", today.isoformat())
    assert result["submitted_by"] and result["work_done"] == TEXTS["work_done"]
    report = StatutoryReport.objects.get(pk=data["id"])
    assert report.submitted_by == demo_user("pingcheng")
    assert [c.to_value for c in status_changes_for(report)] == ["submitted"]
    assert send("bureau", "post", url + "submit/", {"version": report.version}).status_code == 403

    by_department = send(
        "chengguan",
        "post",
        URL,
        {"kind": ReportKind.PROGRESS, "department": Department.objects.get(name="市城市管理局").pk, **TEXTS},
    )
    assert by_department.status_code == 201 and by_department.json()["county"] is None


def test_bad_bodies_name_the_field(send):
    for body, field in (
        ({"kind": ReportKind.SURVEY, "county": YUNZHOU}, "county"),  # another county: not in scope
        ({"kind": ReportKind.SURVEY}, "county"),  # neither county nor department
        ({"kind": "report_x", "county": PINGCHENG}, "kind"),
        ({"kind": ReportKind.SURVEY, "county": PINGCHENG, "work_done": "字" * 5001}, "work_done"),
    ):
        response = send("pingcheng", "post", URL, body)
        assert response.status_code == 400 and field in response.json()["errors"], body
    assert send("bureau", "post", URL, {"kind": ReportKind.SURVEY, "county": PINGCHENG}).status_code == 403


def test_the_register_names_who_sent_and_who_is_late(client_for, demo_user):
    today = timezone.localdate()
    for county, due in ((None, today + timedelta(days=20)), (YUNZHOU, today - timedelta(days=1))):
        Deadline.objects.update_or_create(
            milestone=Milestone.REPORT_PROGRESS,
            jurisdiction=Jurisdiction.objects.get(code=county) if county else None,
            defaults={"due_date": due},
        )
    report = saved("pingcheng", ReportKind.PROGRESS, subject(PINGCHENG), demo_user, **TEXTS)
    statutory.save_report(
        report, user=demo_user("pingcheng"), as_of=today, **TEXTS, expected_version=report.version
    )
    statutory.submit_report(report, user=demo_user("pingcheng"))
    bureau = client_for("bureau")
    register = bureau.get(URL + "register/", {"kind": ReportKind.PROGRESS}).json()
    entries = {e["subject_name"]: e for e in register["entries"]}
    assert (register["sent"], register["late"]) == (1, 1)
    assert entries["平城区"]["submitted"] and entries["平城区"]["report"] == report.pk
    assert entries["平城区"]["submitted_by"] and entries["平城区"]["status"] == "submitted"
    assert (
        entries["云州区"]["late"]
        and entries["云州区"]["report"] is None
        and entries["云州区"]["status"] is None
    )
    assert entries["云州区"]["due"] == (today - timedelta(days=1)).isoformat()
    unsent = bureau.get(URL + "register/", {"kind": ReportKind.PROGRESS, "status": "unsent"}).json()
    assert (
        "平城区" not in {e["subject_name"] for e in unsent["entries"]}
        and unsent["total"] == register["total"]
    )
    listed = bureau.get(URL, {"kind": ReportKind.PROGRESS, "status": "submitted"}).json()["results"]
    assert [(r["id"], r["late"], r["due"]) for r in listed] == [
        (report.pk, False, (today + timedelta(days=20)).isoformat())
    ]
    for params, name in (
        ({"kind": "nope"}, "kind"),
        ({"status": "sent"}, "status"),
        ({"knd": "x"}, "knd"),
    ):
        response = bureau.get(URL + "register/", params)
        assert response.status_code == 400 and name in response.json()["errors"], params
    for params, name in (
        ({"county": YUNZHOU}, "county"),
        ({"kind": "nope"}, "kind"),
        ({"page_size": "x"}, "page_size"),
    ):
        response = client_for("pingcheng").get(URL, params)
        assert response.status_code == 400 and name in response.json()["errors"], params


def test_the_list_reads_a_fixed_number_of_queries(
    client_for, demo_user, three, django_assert_max_num_queries
):
    for kind in (ReportKind.PROGRESS, ReportKind.SUMMARY):
        saved("pingcheng", kind, subject(PINGCHENG), demo_user)
        saved("yunzhou", kind, subject(YUNZHOU), demo_user)
    client = client_for("bureau")
    with django_assert_max_num_queries(10):
        assert client.get(URL).json()["count"] == 7
