"""Plan pages: create (prefilled from the decided proposal), edit, the plan page's steps, list, export,
programmes and the retained list; scope and query counts."""

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from outfalls.registry.choices import LifecycleStatus, RectificationMeasure
from outfalls.registry.models import Outfall
from outfalls.remediation import services
from outfalls.remediation.choices import PlanStatus, ProgrammeKind, ProposalStatus
from outfalls.remediation.models import Programme, RectificationPlan

from .plan_helpers import (
    PLANNABLE,
    YUNZHOU,
    city_deadline_ahead,
    free_outfall,
    pending_proposal,
    png,
    set_city_deadline,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def without_demo_plans(db):
    """The figures below count only the plans each test makes (the demo's are removed, rolled back after)."""
    RectificationPlan.objects.all().delete()


def make_plans(user, n, county="140213", **fields):
    plans = []
    taken = []
    programme, _ = Programme.objects.get_or_create(name="测试专项", defaults={"kind": ProgrammeKind.PARK})
    for _ in range(n):
        outfall = free_outfall(county=county, status=PLANNABLE, exclude=taken)
        taken.append(outfall)
        plans.append(
            services.create_plan(
                outfall,
                user=user,
                measure=fields.get("measure", RectificationMeasure.REGULARISE),
                actions="规范整治",
                responsible_org="某局",
                programme=programme,
                deadline=fields.get("deadline", date(2024, 12, 31)),  # overdue unless told
            )
        )
    return plans


def test_create_page_is_prefilled_from_the_decided_proposal(client_for, demo_user):
    outfall = free_outfall()
    proposal = pending_proposal(outfall, RectificationMeasure.MERGE)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.save()
    client = client_for("pingcheng")
    url = reverse("remediation:plan_create") + f"?outfall={outfall.pk}"
    ahead = city_deadline_ahead()
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["measure"] == RectificationMeasure.MERGE
    assert form.initial["deadline"] == ahead  # the county's deadline while it is ahead
    assert "已确认的整治建议" in page.content.decode()

    # A merge without a target: the page says which field, and keeps what was typed.
    response = client.post(
        url,
        {
            "measure": "merge",
            "actions": "接入市政管网",
            "responsible_org": "平城区住建局",
            "deadline": "2025-03-31",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "须选择并入的排污口" in body and "接入市政管网" in body and "2025-03-31" in body
    assert not RectificationPlan.objects.filter(outfall=outfall).exists()

    response = client.post(
        url,
        {
            "measure": "regularise",
            "actions": "设置标识牌",
            "responsible_org": "平城区住建局",
            "deadline": "2025-03-31",
        },
    )
    plan = RectificationPlan.objects.get(outfall=outfall)
    assert response.status_code == 302 and response["Location"] == reverse(
        "remediation:plan_detail", args=[plan.pk]
    )
    assert plan.proposal == proposal and plan.deadline == date(2025, 3, 31)
    # A second create goes to the existing plan.
    assert client.get(url)["Location"] == reverse("remediation:plan_detail", args=[plan.pk])


def test_a_plans_default_deadline_is_never_already_past(client_for):
    outfall = free_outfall()
    url = reverse("remediation:plan_create") + f"?outfall={outfall.pk}"
    client = client_for("pingcheng")
    # The demo city's deadline (2024-12-31) has passed: no default; the field says why and what to do.
    set_city_deadline(date(2024, 12, 31))
    assert services.default_deadline(outfall) is None
    page = client.get(url)
    assert page.context["form"].initial.get("deadline") is None
    assert "本县区的整治期限（2024-12-31）已过，请另定期限" in page.content.decode()
    fields = {"measure": "regularise", "actions": "设置标识牌", "responsible_org": "平城区住建局"}
    refused = client.post(url, fields)
    assert refused.status_code == 400
    assert refused.context["form"].errors["deadline"] == [
        "请填写整治期限：本县区的整治期限（2024-12-31）已过，请另定期限。"
    ]
    assert not RectificationPlan.objects.filter(outfall=outfall).exists()
    # Today's deadline is not past yet; a later one is the default too.
    today = timezone.localdate()
    assert set_city_deadline(today) == services.default_deadline(outfall)
    client.post(url, {**fields, "deadline": ""})
    assert RectificationPlan.objects.get(outfall=outfall).deadline == today


def test_out_of_scope_is_404(client_for, demo_user):
    (plan,) = make_plans(demo_user("yunzhou"), 1, county=YUNZHOU)
    client = client_for("pingcheng")
    assert client.get(reverse("remediation:plan_detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("remediation:plan_edit", args=[plan.pk])).status_code == 404
    other = free_outfall(county=YUNZHOU)
    assert client.get(reverse("remediation:plan_create") + f"?outfall={other.pk}").status_code == 404
    assert client.post(reverse("remediation:plan_submit", args=[plan.pk])).status_code == 404
    listed = client.get(reverse("remediation:plan_list")).context["object_list"]
    assert plan not in list(listed)


def test_plan_page_steps_and_a_county_approving_gets_403(client_for, demo_user):
    (plan,) = make_plans(demo_user("pingcheng"), 1)
    county = client_for("pingcheng")
    detail = reverse("remediation:plan_detail", args=[plan.pk])
    page = county.get(detail)
    assert "progress_form" in page.context and "approve_form" not in page.context

    bad = county.post(
        reverse("remediation:plan_progress", args=[plan.pk]),
        {"date": "2024-05-01", "percent": "120", "note": "太多"},
    )
    assert bad.status_code == 400 and "太多" in bad.content.decode()
    assert "完成进度须在 0 到 100 之间。" in bad.content.decode()
    ok = county.post(
        reverse("remediation:plan_progress", args=[plan.pk]),
        {"date": "2024-05-01", "percent": "100", "note": "完成", "photos": [png()]},
    )
    assert ok.status_code == 302
    assert (
        county.post(reverse("remediation:plan_submit", args=[plan.pk]), {"note": "请审核"}).status_code == 302
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED

    assert county.post(reverse("remediation:plan_approve", args=[plan.pk]), {}).status_code == 403
    page = county.get(detail)
    assert "approve_form" not in page.context and "submit_form" not in page.context

    bureau = client_for("bureau")
    page = bureau.get(detail)
    assert "approve_form" in page.context and "return_form" in page.context
    empty = bureau.post(reverse("remediation:plan_return", args=[plan.pk]), {"return-reason": ""})
    assert empty.status_code == 400
    assert "退回销号申请须填写退回理由。" in empty.content.decode()
    page = bureau.get(detail)
    if page.context["closeout_gaps"]:  # the page shows what the ledger does not record yet
        assert "台账尚未记录方案承诺的以下事项" in page.content.decode()
        refused = bureau.post(reverse("remediation:plan_approve", args=[plan.pk]), {"note": "同意销号"})
        assert refused.status_code == 400 and "尚未完成" in refused.content.decode()
        assert "同意销号" in refused.content.decode()  # what the approver typed is kept
    approval = {"note": "同意销号，标识牌待补", "register": "on", "accept_gaps": "on"}
    assert bureau.post(reverse("remediation:plan_approve", args=[plan.pk]), approval).status_code == 302
    plan.refresh_from_db()
    plan.outfall.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.outfall.status == LifecycleStatus.KEPT
    assert plan.outfall.registered
    page = bureau.get(detail)
    assert "reopen_form" in page.context
    body = page.content.decode()
    assert "已申请销号" in body and "已销号" in body  # the status history
    empty = bureau.post(reverse("remediation:plan_reopen", args=[plan.pk]), {"reopen-reason": " "})
    assert empty.status_code == 400 and "重新打开销号须填写理由。" in empty.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


def test_list_filters_export_and_query_count(client_for, demo_user, django_assert_max_num_queries):
    bureau = demo_user("bureau")
    make_plans(bureau, 6)
    make_plans(bureau, 3, county=YUNZHOU, measure=RectificationMeasure.REMOVE)
    client = client_for("bureau")
    url = reverse("remediation:plan_list")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.context["paginator"].count == RectificationPlan.objects.count()
    few = client.get(url, {"county": YUNZHOU}).context["paginator"].count
    assert few == RectificationPlan.objects.filter(outfall__county__code=YUNZHOU).count() >= 3
    assert client.get(url, {"measure": "remove", "county": YUNZHOU}).context["paginator"].count >= 3
    # every plan has the 2024-12-31 default deadline: overdue, none due soon
    assert client.get(url, {"due": "overdue"}).context["paginator"].count == RectificationPlan.objects.count()
    assert client.get(url, {"due": "due_soon"}).context["paginator"].count == 0
    assert client.get(url, {"ordering": "-deadline"}).status_code == 200

    make_plans(bureau, 5, county="140214")  # more rows and counties, the same number of queries
    make_plans(bureau, 5, county="140212")
    with django_assert_max_num_queries(12):
        big = client.get(url)
    assert big.status_code == 200

    yunzhou = client_for("yunzhou")
    export = yunzhou.get(reverse("remediation:plan_export"))
    text = export.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("排污口编码,入河排污口名称,县区")
    assert "云州区" in text and "平城区" not in text


def test_programmes_group_plans(client_for, demo_user):
    make_plans(demo_user("bureau"), 2)
    make_plans(demo_user("bureau"), 1, county=YUNZHOU)
    programme = Programme.objects.get(name="测试专项")
    page = client_for("pingcheng").get(reverse("remediation:programme_detail", args=[programme.pk]))
    assert list(page.context["groups"]) == ["平城区"]  # the county sees only its own plans
    listed = client_for("bureau").get(reverse("remediation:programme_list")).context["programmes"]
    assert {p.name: p.total for p in listed}["测试专项"] == RectificationPlan.objects.filter(
        programme=programme
    ).count()
    # Overdue and completed counts per programme follow the plans' own rules (the demo has overdue ones).
    for p in listed:
        plans = list(RectificationPlan.objects.filter(programme=p))
        assert p.overdue == sum(1 for plan in plans if plan.is_overdue)
        assert p.completed == sum(1 for plan in plans if plan.status == PlanStatus.APPROVED)
    assert any(p.overdue for p in listed)


def test_retained_list_and_export_in_attachment_1_layout(client_for, demo_user):
    client = client_for("pingcheng")
    page = client.get(reverse("remediation:retained_list"))
    kept = Outfall.objects.filter(county__code="140213", status=LifecycleStatus.KEPT)
    assert page.context["paginator"].count == kept.count() > 0
    assert all(o.county.code == "140213" for o in page.context["object_list"])

    response = client.get(reverse("remediation:retained_export"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert sheet["A1"].value == "大同市平城区保留入河排污口信息汇总表"
    assert sheet["A2"].value == "序号"
    # The rows, a blank row and the sign-off line counties sign under.
    assert sheet.max_row == 3 + kept.count() + 2
    assert [sheet.cell(row=r, column=1).value for r in range(4, 4 + kept.count())] == list(
        range(1, kept.count() + 1)
    )
    names = {sheet.cell(row=r, column=7).value for r in range(4, 4 + kept.count())}
    assert names == set(kept.values_list("name", flat=True))
    assert sheet.cell(row=sheet.max_row, column=1).value.startswith("填报单位（盖章）：")
    assert sheet.print_title_rows == "$1:$3"


def test_outfall_file_shows_the_plan_panel(client_for, demo_user):
    outfall = free_outfall()
    client = client_for("pingcheng")
    page = client.get(reverse("registry:outfall_detail", args=[outfall.pk])).content.decode()
    assert f"{reverse('remediation:plan_create')}?outfall={outfall.pk}" in page
    (plan,) = make_plans(demo_user("pingcheng"), 1)
    page = client.get(reverse("registry:outfall_detail", args=[plan.outfall_id])).content.decode()
    assert reverse("remediation:plan_detail", args=[plan.pk]) in page and "查看整治方案" in page
    # read-only roles see the plan but are not offered to make one
    other = free_outfall()
    assert (
        'data-testid="plan-create-link"'
        in client.get(reverse("registry:outfall_detail", args=[other.pk])).content.decode()
    )
    auditor = client_for("auditor").get(reverse("registry:outfall_detail", args=[other.pk])).content.decode()
    assert 'data-testid="plan-create-link"' not in auditor


def test_other_lists_have_a_fixed_query_count(client_for, demo_user, django_assert_max_num_queries):
    bureau = demo_user("bureau")
    make_plans(bureau, 3)
    client = client_for("bureau")
    programme = Programme.objects.get(name="测试专项")
    urls = [
        reverse("remediation:retained_list"),
        reverse("remediation:programme_list"),
        reverse("remediation:programme_detail", args=[programme.pk]),
        reverse("remediation:supervision"),
        reverse("remediation:dashboard"),
    ]
    counts = {}
    for url in urls:
        # 16: the supervision page carries the setup review's panel (2) and the menu's campaigns question.
        with django_assert_max_num_queries(16) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    make_plans(bureau, 4, county="140214")
    make_plans(bureau, 4, county=YUNZHOU)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_plan_page_queries_do_not_grow_with_updates(client_for, demo_user, django_assert_max_num_queries):
    county = demo_user("pingcheng")
    (plan,) = make_plans(county, 1)
    services.add_progress(plan, user=county, date=date(2024, 5, 1), percent=10, note="开始", photos=[png()])
    client = client_for("pingcheng")
    url = reverse("remediation:plan_detail", args=[plan.pk])
    with django_assert_max_num_queries(30) as captured:
        client.get(url)
    for percent in (20, 30, 40):
        services.add_progress(
            plan, user=county, date=date(2024, 6, 1), percent=percent, note="推进", photos=[png()]
        )
    with django_assert_max_num_queries(len(captured)):
        page = client.get(url)
    assert page.content.decode().count('class="photo-thumb') == 4


def test_programmes_are_kept_in_the_admin(client_for):
    # The plan form offers programmes; the city admin keeps them under 基础数据维护.
    client = client_for("city_admin")
    page = client.get(reverse("admin:remediation_programme_changelist"))
    assert page.status_code == 200
    assert "城乡黑臭水体治理" in page.content.decode()
    page = client.post(
        reverse("admin:remediation_programme_add"),
        {"name": "御河流域排口整治", "kind": ProgrammeKind.BLACK_ODOROUS, "description": ""},
    )
    assert page.status_code == 302
    assert Programme.objects.filter(name="御河流域排口整治").exists()
    assert client_for("pingcheng").get(reverse("admin:remediation_programme_changelist")).status_code == 302
