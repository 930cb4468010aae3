"""Supervision figures: overdue, due soon, rankings of counties and departments, scope, the dashboard."""

from datetime import date

import pytest
from django.urls import reverse

from outfalls.core.models import Department
from outfalls.registry.choices import RectificationMeasure
from outfalls.remediation import services, supervision
from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import RectificationPlan

from .plan_helpers import PINGCHENG, YUNZHOU, city_deadline_ahead, free_outfall, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def deadline_ahead(db):
    city_deadline_ahead()


TODAY = date(2024, 11, 20)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def without_demo_plans(db):
    """The figures below count only the plans each test makes (the demo's are removed, rolled back after)."""
    RectificationPlan.objects.all().delete()


def plan(user, county, deadline, taken):
    outfall = free_outfall(county=county, exclude=taken)
    taken.append(outfall)
    return services.create_plan(
        outfall,
        user=user,
        measure=RectificationMeasure.REGULARISE,
        actions="规范整治",
        responsible_org="某局",
        deadline=deadline,
    )


def approve(p, county_user, bureau):
    services.add_progress(p, user=county_user, date=date.today(), percent=100, note="完成", photos=[png()])
    services.submit_closeout(p, user=county_user)
    services.approve_closeout(p, user=bureau, register=True, accept_gaps=True, note="标识牌待安装")


@pytest.fixture
def scenario(demo_user):
    """平城区: 4 plans, 2 approved, 1 overdue, 1 due soon; 云州区: 2 plans, both overdue."""
    bureau, pingcheng, yunzhou = demo_user("bureau"), demo_user("pingcheng"), demo_user("yunzhou")
    taken = []
    p = [
        plan(pingcheng, PINGCHENG, d, taken)
        for d in (date(2024, 10, 1), date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 10))
    ]
    approve(p[0], pingcheng, bureau)
    approve(p[1], pingcheng, bureau)
    y = [plan(yunzhou, YUNZHOU, date(2024, 9, 30), taken) for _ in range(2)]
    return {"pingcheng": p, "yunzhou": y}


def test_overdue_and_due_soon(scenario, demo_user):
    bureau = demo_user("bureau")
    overdue = list(supervision.overdue_plans(bureau, TODAY))
    assert set(overdue) == {scenario["pingcheng"][2], *scenario["yunzhou"]}
    assert list(supervision.due_soon_plans(bureau, TODAY)) == [scenario["pingcheng"][3]]
    # approved plans are never overdue, even past their deadline
    assert scenario["pingcheng"][0] not in overdue
    assert list(supervision.overdue_plans(demo_user("pingcheng"), TODAY)) == [scenario["pingcheng"][2]]


def test_county_ranking(scenario, demo_user):
    rows = supervision.county_ranking(demo_user("bureau"), TODAY, with_overdue_plans=True)
    by_name = {r.name: r for r in rows}
    assert (by_name["平城区"].total, by_name["平城区"].completed, by_name["平城区"].overdue) == (4, 2, 1)
    assert by_name["平城区"].completion_rate == 50.0 and by_name["平城区"].due_soon == 1
    assert (by_name["云州区"].total, by_name["云州区"].completion_rate, by_name["云州区"].overdue) == (
        2,
        0.0,
        2,
    )
    assert [r.name for r in rows] == ["平城区", "云州区"]
    assert len(by_name["云州区"].overdue_plans) == 2
    total = supervision.totals(demo_user("bureau"), TODAY)
    assert (total.total, total.completed, total.overdue, total.due_soon) == (6, 2, 3, 1)
    lagging = supervision.lagging(rows, total.completion_rate)
    assert [r.name for r in lagging] == ["云州区", "平城区"]  # most overdue first
    # a county officer's ranking holds only their county
    assert [r.name for r in supervision.county_ranking(demo_user("yunzhou"), TODAY)] == ["云州区"]


def test_department_ranking_follows_responsible_types(scenario, demo_user):
    rows = supervision.department_ranking(demo_user("bureau"), TODAY)
    plans = RectificationPlan.objects.select_related("outfall")
    for row in rows:
        types = Department.objects.get(name=row.name).responsible_types
        mine = [p for p in plans if p.outfall.type_level2 in types]
        assert row.total == len(mine)
        assert row.completed == sum(1 for p in mine if p.status == PlanStatus.APPROVED)
        assert row.overdue == sum(1 for p in mine if p.status != PlanStatus.APPROVED and p.deadline < TODAY)
    assert all(r.total for r in rows)


def test_supervision_page_and_dashboard_are_scoped(scenario, client_for, django_assert_max_num_queries):
    client = client_for("yunzhou")
    with django_assert_max_num_queries(16):  # + the setup review panel and the menu
        page = client.get(reverse("remediation:supervision"))
    assert [r.name for r in page.context["counties"]] == ["云州区"]
    assert page.context["total"].total == 2
    assert not page.context["can_notice"]
    data = client.get(reverse("remediation:dashboard_data")).json()
    assert data["counties"] == ["云州区"]
    measures = {s["name"]: s["data"] for s in data["measures"]}
    assert measures["规范整治"] == [2]
    assert client.get(reverse("remediation:dashboard")).status_code == 200

    data = client_for("bureau").get(reverse("remediation:dashboard_data")).json()
    index = data["counties"].index("平城区")
    statuses = {s["name"]: s["data"][index] for s in data["statuses"]}
    assert statuses["已销号"] == 2 and statuses["整治中"] == 2
    assert data["completion"][index] == 50.0


def test_outfalls_without_plan(demo_user, client_for):
    from outfalls.registry.choices import LifecycleStatus
    from outfalls.registry.models import Outfall

    pingcheng = demo_user("pingcheng")
    rectifying = Outfall.objects.filter(county__code=PINGCHENG, status=LifecycleStatus.RECTIFYING)
    listed = set(supervision.outfalls_without_plan(pingcheng))
    assert set(rectifying) <= listed
    assert all(o.county.code == PINGCHENG for o in listed)
    outfall = rectifying.order_by("code").first()
    services.create_plan(
        outfall,
        user=pingcheng,
        measure=RectificationMeasure.REGULARISE,
        actions="规范",
        responsible_org="某局",
    )
    assert outfall not in set(supervision.outfalls_without_plan(pingcheng))
    page = client_for("pingcheng").get(reverse("remediation:supervision"))
    assert page.context["without_plan_count"] == len(listed) - 1
    assert page.context["plannable_ids"] == {o.pk for o in page.context["without_plan"]}
    assert 'data-testid="without-plan-list"' in page.content.decode()
    assert "制定方案" in page.content.decode()
    page = client_for("auditor").get(reverse("remediation:supervision"))
    assert page.context["without_plan"] and not page.context["plannable_ids"]
    assert "制定方案" not in page.content.decode()


def test_a_plan_s_overdue_badge_agrees_with_the_overdue_list(scenario, demo_user):
    # RectificationPlan.is_overdue (pages, CSV, outfall panel) and supervision.overdue_q (lists, rankings,
    # notice) are one rule: open and past the deadline. Approved plans past their deadline are not overdue.
    today = date.today()
    listed = set(supervision.overdue_plans(demo_user("bureau"), today).values_list("pk", flat=True))
    plans = RectificationPlan.objects.all()
    assert {p.pk for p in plans if p.is_overdue} == listed
    assert listed == {p.pk for p in scenario["pingcheng"][2:] + scenario["yunzhou"]}
    approved = plans.filter(pk__in=[p.pk for p in scenario["pingcheng"][:2]])
    assert {p.status for p in approved} == {PlanStatus.APPROVED}
    assert not any(p.is_overdue for p in approved)


@pytest.mark.parametrize(
    "name, title",
    [
        ("remediation:supervision", "整治督办"),
        ("remediation:dashboard", None),
        ("remediation:plan_list", None),
        ("remediation:programme_list", None),
        ("remediation:retained_list", None),
        ("remediation:rule_list", None),
        ("remediation:proposal_list", None),
    ],
)
def test_page_titles_are_plain_text(client_for, name, title):
    # The supervision page once carried its whole "without a plan" table inside {% block title %}.
    html = client_for("bureau").get(reverse(name)).content.decode()
    head = html[html.index("<title>") + len("<title>") : html.index("</title>")]
    assert "<" not in head and len(head) < 80, head
    if title:
        assert head.startswith(title)
