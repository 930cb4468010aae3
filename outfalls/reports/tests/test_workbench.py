"""The 工作台: signing in lands on it; every role gets its own items; every count equals the list it links to,
within the user's scope."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline, Jurisdiction
from outfalls.portal import services as portal_services
from outfalls.portal.tests.helpers import jpeg, public_outfall
from outfalls.supervision import services as supervision_services
from outfalls.supervision.choices import CaseKind

pytestmark = pytest.mark.django_db
ROLES = ["city_admin", "bureau", "auditor", "pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief"]
ITEM = re.compile(r'href="([^"]+)" data-testid="(item|loop)-([a-z_0-9]+)" data-count="(\d+)"')


def listed_count(response):
    """The total a list page shows: its paginator's count."""
    context = response.context
    for name in ("paginator", "page_obj", "page"):
        value = context.get(name) if name in context else None
        if value is None:
            continue
        return value.count if name == "paginator" else value.paginator.count
    raise AssertionError(f"no paginator on {response.request['PATH_INFO']}")


@pytest.fixture
def some_work(demo_user):
    """Work in more than one county: a citizen report in 平城区 and enforcement cases in two counties."""
    outfall = public_outfall(county__code="140213")
    portal_services.submit_report(
        {
            "category": "odour",
            "description": "排口附近有明显臭味。",
            "anonymous": True,
            "lon": outfall.lon + 0.0001,
            "lat": outfall.lat,
        },
        [jpeg()],
        client_key="workbench-test",
    )
    bureau = demo_user("bureau")
    for code in ("140213", "140215"):
        supervision_services.open_case(
            user=bureau,
            kind=CaseKind.OTHER,
            county=Jurisdiction.objects.get(code=code),
            summary="工作台测试用的执法案件。",
            opened_on=timezone.localdate(),
        )


@pytest.mark.parametrize("role", ROLES)
def test_every_count_on_the_workbench_equals_the_list_it_links_to(client_for, role, some_work):
    client = client_for(role)
    page = client.get("/")
    assert page.status_code == 200
    found = ITEM.findall(page.content.decode())
    items = [f for f in found if f[1] == "item"]
    if role != "auditor":
        assert items, f"{role} has nothing on the workbench"
    for url, _kind, key, count in found:
        url = url.replace("&amp;", "&")
        listed = client.get(url)
        assert listed.status_code == 200, url
        assert listed_count(listed) == int(count), (role, key, url)


def test_each_role_gets_its_own_items(client_for, some_work):
    def keys(role):
        html = client_for(role).get("/").content.decode()
        return {key for _, kind, key, _ in ITEM.findall(html) if kind == "item"}

    bureau, county, entity = keys("bureau"), keys("pingcheng"), keys("enterprise")
    assert {"closeouts", "cases_notified", "cases_enforced", "applications"} <= bureau
    assert {"closeouts_returned", "cases_opened", "cases_investigated", "reports"} <= county
    assert not {"closeouts", "cases_notified"} & county
    assert {"applications_draft", "applications_returned", "cases", "entity_reports"} <= entity
    assert not {"proposals", "tracing", "reports", "closeouts"} & entity
    assert "reports" not in keys("river_chief") and "patrols" in keys("river_chief")
    statutory_lines = {"statutory_report_survey", "statutory_report_progress", "statutory_report_summary"}
    assert statutory_lines <= bureau and statutory_lines <= county and statutory_lines <= keys("chengguan")
    assert not statutory_lines & (entity | keys("river_chief"))


def test_a_county_officer_counts_only_their_county(client_for, some_work):
    def counts(role):
        html = client_for(role).get("/").content.decode()
        return {key: int(count) for _, kind, key, count in ITEM.findall(html) if kind == "item"}

    city, pingcheng, yunzhou = counts("bureau"), counts("pingcheng"), counts("yunzhou")
    assert pingcheng["cases_opened"] >= 1 and yunzhou["cases_opened"] >= 1
    assert pingcheng["reports"] >= 1 and yunzhou["reports"] == 0
    assert pingcheng["proposals"] + yunzhou["proposals"] <= city["proposals"]
    assert pingcheng["proposals"] != city["proposals"]
    # Each county has its own report of each kind to send; the city counts every county and department.
    assert pingcheng["statutory_report_survey"] == yunzhou["statutory_report_survey"] == 1
    assert city["statutory_report_survey"] > 10


def test_signing_in_lands_on_the_workbench_and_visitors_are_sent_to_sign_in(client, demo_user, settings):
    assert client.get("/").status_code == 302 and "/accounts/login/" in client.get("/")["Location"]
    response = client.post(
        "/accounts/login/", {"username": "pingcheng", "password": settings.DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "待办事项" in response.content.decode()


def test_the_deadlines_near_come_from_the_plan_dates(client_for):
    today = timezone.localdate()
    Deadline.objects.update_or_create(
        milestone=Milestone.RECTIFICATION,
        jurisdiction=Jurisdiction.objects.get(code="140213"),
        defaults={"due_date": today + timedelta(days=10)},
    )
    html = client_for("pingcheng").get("/").content.decode()
    assert "平城区：完成整治" in html and "还有 10 天" in html
    assert "平城区：完成整治" not in client_for("yunzhou").get("/").content.decode()
