"""The REST API of 一口一策 and 问责: scoped reads with the plan list's filters and pinned queries; creating,
changing, progress and the close-out steps through the same services as the pages (state, history rows,
version conflicts, refusals); 问责 recorded by the city only and seen by each its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.core.models import Department, Jurisdiction
from outfalls.core.services import status_changes_for
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure, RectificationStatus
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall
from outfalls.remediation import accountability, services
from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import Accountability, RectificationPlan

from .plan_helpers import PINGCHENG, YUNZHOU, city_deadline_ahead, free_outfall, merge_target, png

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/rectification-plans/"
ACCOUNTABILITY = "/api/v1/accountability/"
JSON = "application/json"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(client_for):
    """api(username): the test client signed in as that demo user (one client: use it before the next call)."""
    return client_for


def plan_of(county, status):
    return (
        RectificationPlan.objects.filter(outfall__county__code=county, status=status).order_by("id").first()
    )


def plan_steps(plan):
    return [(c.from_value, c.to_value) for c in status_changes_for(plan).order_by("changed_at", "id")]


def with_evidence(plan, user):
    """What the page adds and the API does not take: a photo on a progress report (整治后照片)."""
    plan.refresh_from_db()
    services.add_progress(
        plan, user=user, date=timezone.localdate(), percent=plan.percent_done, note="现场照片", photos=[png()]
    )


# Reads ------------------------------------------------------------------------------------------------------
def test_plans_are_scoped_filtered_and_read_in_fixed_queries(api, demo_user, django_assert_max_num_queries):
    client = api("pingcheng")
    with django_assert_max_num_queries(8):
        data = client.get(PLANS, {"page_size": 200}).json()
    own = RectificationPlan.objects.visible_to(demo_user("pingcheng"))
    assert data["count"] == own.count() > 0
    assert {row["county"] for row in data["results"]} == {PINGCHENG}
    submitted = client.get(PLANS, {"status": "submitted"}).json()
    assert submitted["count"] == own.filter(status=PlanStatus.SUBMITTED).count() > 0
    assert {row["status"] for row in submitted["results"]} == {"submitted"}
    ordered = client.get(PLANS, {"ordering": "-deadline"}).json()["results"]
    assert [r["deadline"] for r in ordered] == sorted((r["deadline"] for r in ordered), reverse=True)
    response = client.get(PLANS, {"statuss": "submitted"})
    assert response.status_code == 400 and "statuss" in response.json()["errors"]
    response = client.get(PLANS, {"status": "nope"})
    assert response.status_code == 400 and "status" in response.json()["errors"]
    # Another county's plans: not in the list, not by filter, not by id (404), not by any action.
    other = plan_of(YUNZHOU, PlanStatus.IN_PROGRESS)
    assert client.get(PLANS, {"county": YUNZHOU}).status_code == 400
    for url in (f"{PLANS}{other.pk}/", f"{PLANS}{other.pk}/progress/"):
        assert client.get(url).status_code == 404
    # The city's list is longer and pinned too, whatever its length.
    client = api("bureau")
    with django_assert_max_num_queries(8):
        data = client.get(PLANS, {"page_size": 200}).json()
    assert data["count"] == RectificationPlan.objects.count() > own.count()
    assert api("enterprise").get(PLANS).json()["count"] == 0


def test_plan_detail_says_what_the_approval_would_miss(api, demo_user):
    county = demo_user("pingcheng")
    outfall = free_outfall(status=LifecycleStatus.TRACED)
    plan = services.create_plan(
        outfall,
        user=county,
        measure=RectificationMeasure.REGULARISE,
        actions="设置标识牌、规范采样点",
        responsible_org="平城区住房和城乡建设局",
        deadline=timezone.localdate() + timedelta(days=90),
    )
    detail = api("pingcheng").get(f"{PLANS}{plan.pk}/").json()
    assert detail["outfall_code"] == outfall.code and detail["status_label"] == "整治中"
    assert detail["evidence_count"] == 0 and detail["version"] == plan.version
    gaps = detail["closeout_gaps"]
    assert any("标识牌" in g for g in gaps) and any("登记建档" in g for g in gaps)
    with_evidence(plan, county)
    assert api("yunzhou").get(f"{PLANS}{plan.pk}/").status_code == 404
    assert api("auditor").get(f"{PLANS}{plan.pk}/").json()["evidence_count"] == 1


# Create and change ------------------------------------------------------------------------------------------
def test_create_and_change_a_plan_as_the_page_does(api, demo_user):
    city_deadline_ahead()
    storm = list(Outfall.objects.filter(type_code=TypeCode.YH))  # a storm outfall is never merged
    outfall = free_outfall(status=LifecycleStatus.TRACED, exclude=storm)
    body = {
        "outfall": outfall.pk,
        "measure": "regularise",
        "actions": "设置标识牌",
        "responsible_org": "平城区住建局",
    }
    client = api("pingcheng")
    response = client.post(PLANS, body, content_type=JSON)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "in_progress" and data["deadline"]  # the county's deadline, still ahead
    plan = RectificationPlan.objects.get(pk=data["id"])
    assert plan.created_by == demo_user("pingcheng")
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.RECTIFYING
    assert outfall.rectification_status == RectificationStatus.IN_PROGRESS
    assert plan_steps(plan) == [("", "in_progress")]

    # One plan per outfall; the fields the service checks are named, in Chinese.
    response = client.post(PLANS, body, content_type=JSON)
    assert response.status_code == 400 and "已有整治方案" in response.json()["errors"]["outfall"][0]
    other = free_outfall(status=LifecycleStatus.TRACED, exclude=[outfall])
    response = client.post(
        PLANS, {"outfall": other.pk, "measure": "regularise", "actions": "x"}, content_type=JSON
    )
    assert response.status_code == 400 and "整治责任单位" in response.json()["errors"]["responsible_unit"][0]
    response = client.post(PLANS, {"outfall": other.pk, "responsible_org": "某局"}, content_type=JSON)
    assert response.status_code == 400 and response.json()["errors"]["actions"] == ["请填写具体整治措施。"]
    assert response.json()["detail"].startswith("actions：")
    response = client.post(PLANS, {**body, "outfall": other.pk, "status": "approved"}, content_type=JSON)
    assert response.status_code == 400 and "不支持的字段" in response.json()["errors"]["status"][0]
    foreign = free_outfall(county=YUNZHOU, status=LifecycleStatus.TRACED)
    response = client.post(PLANS, {**body, "outfall": foreign.pk}, content_type=JSON)
    assert response.status_code == 400 and "不在您的权限范围内" in response.json()["errors"]["outfall"][0]
    assert api("auditor").post(PLANS, {**body, "outfall": other.pk}, content_type=JSON).status_code == 403
    assert not RectificationPlan.objects.filter(outfall__in=[other, foreign]).exists()

    # PATCH: the fields sent, checked against the version read; a save over someone else's is refused.
    client = api("pingcheng")
    target = merge_target(outfall)
    change = {"measure": "merge", "merge_target": target.pk, "version": data["version"]}
    response = client.patch(f"{PLANS}{plan.pk}/", change, content_type=JSON)
    assert response.status_code == 200, response.json()
    assert response.json()["merge_target_code"] == target.code
    assert response.json()["version"] > data["version"]
    outfall.refresh_from_db()
    assert outfall.rectification_measure == RectificationMeasure.MERGE
    response = client.patch(
        f"{PLANS}{plan.pk}/", {"actions": "改回", "version": data["version"]}, content_type=JSON
    )
    assert response.status_code == 400 and "保存未完成" in response.json()["detail"]
    plan.refresh_from_db()
    assert plan.actions == "设置标识牌"
    response = client.patch(f"{PLANS}{plan.pk}/", {"merge_target": None}, content_type=JSON)
    assert response.status_code == 400 and "并入的排污口" in response.json()["errors"]["merge_target"][0]
    response = client.patch(f"{PLANS}{plan.pk}/", {"deadline": "2025-13-01"}, content_type=JSON)
    assert response.status_code == 400 and "deadline" in response.json()["errors"]
    assert api("auditor").patch(f"{PLANS}{plan.pk}/", {"actions": "x"}, content_type=JSON).status_code == 403
    assert api("yunzhou").patch(f"{PLANS}{plan.pk}/", {"actions": "x"}, content_type=JSON).status_code == 404
    closed = plan_of(PINGCHENG, PlanStatus.APPROVED)
    response = api("pingcheng").patch(f"{PLANS}{closed.pk}/", {"actions": "x"}, content_type=JSON)
    assert response.status_code == 400 and "不能修改" in response.json()["errors"]["status"][0]


# Progress ---------------------------------------------------------------------------------------------------
def test_progress_is_listed_and_reported_without_files(api, demo_user):
    plan = plan_of(PINGCHENG, PlanStatus.IN_PROGRESS)
    url = f"{PLANS}{plan.pk}/progress/"
    client = api("pingcheng")
    before = client.get(url).json()
    assert [u["id"] for u in before] == list(
        plan.updates.order_by("-date", "-id").values_list("pk", flat=True)
    )
    today = timezone.localdate().isoformat()
    response = client.post(url, {"date": today, "percent": 70, "note": "管道修复完成七成"}, content_type=JSON)
    assert response.status_code == 201, response.json()
    assert response.json()["created_by"] == "pingcheng" and response.json()["percent"] == 70
    plan.refresh_from_db()
    assert plan.percent_done == 70
    assert client.get(url).json()[0]["id"] == response.json()["id"]

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(url, {"date": tomorrow, "percent": 80, "note": "x"}, content_type=JSON)
    assert response.status_code == 400 and response.json()["errors"]["date"] == ["进展日期不能晚于今天。"]
    response = client.post(url, {"date": today, "percent": 120, "note": "x"}, content_type=JSON)
    assert response.status_code == 400 and response.json()["errors"]["percent"] == [
        "完成进度须在 0 到 100 之间。"
    ]
    response = client.post(url, {"date": today, "percent": 80, "note": " "}, content_type=JSON)
    assert response.status_code == 400 and "请填写进展说明" in response.json()["detail"]
    response = client.post(
        url, {"date": today, "percent": 80, "note": "x", "photos": "a.png"}, content_type=JSON
    )
    assert response.status_code == 400 and "页面上传" in response.json()["errors"]["photos"][0]
    assert client.get(url, {"status": "x"}).status_code == 400  # no filters here
    assert (
        api("auditor").post(url, {"date": today, "percent": 80, "note": "x"}, content_type=JSON).status_code
        == 403
    )
    assert (
        api("yunzhou").post(url, {"date": today, "percent": 80, "note": "x"}, content_type=JSON).status_code
        == 404
    )
    plan.refresh_from_db()
    assert plan.percent_done == 70 and plan.updates.count() == len(before) + 1
    submitted = plan_of(PINGCHENG, PlanStatus.SUBMITTED)
    response = api("pingcheng").post(
        f"{PLANS}{submitted.pk}/progress/", {"date": today, "percent": 80, "note": "x"}, content_type=JSON
    )
    assert response.status_code == 400 and "不能填报进展" in response.json()["errors"]["status"][0]


# Close-out --------------------------------------------------------------------------------------------------
def test_closeout_submit_return_approve_and_reopen(api, demo_user):
    county = demo_user("pingcheng")
    outfall = free_outfall(status=LifecycleStatus.TRACED)
    plan = services.create_plan(
        outfall,
        user=county,
        measure=RectificationMeasure.REGULARISE,
        actions="设置标识牌、规范采样点",
        responsible_org="平城区住房和城乡建设局",
        deadline=timezone.localdate() + timedelta(days=90),
    )
    url = f"{PLANS}{plan.pk}/closeout/"
    today = timezone.localdate().isoformat()
    client = api("pingcheng")
    response = client.post(url + "submit/", {"note": "已完成"}, content_type=JSON)
    assert response.status_code == 400 and "100%" in response.json()["errors"]["percent_done"][0]
    client.post(
        f"{PLANS}{plan.pk}/progress/", {"date": today, "percent": 100, "note": "完工"}, content_type=JSON
    )
    response = client.post(url + "submit/", {"note": "已完成"}, content_type=JSON)
    assert response.status_code == 400 and "佐证材料" in response.json()["errors"]["files"][0]
    with_evidence(plan, county)  # photos are uploaded on the page
    assert api("yunzhou").post(url + "submit/", {}, content_type=JSON).status_code == 404
    assert api("auditor").post(url + "submit/", {}, content_type=JSON).status_code == 403
    response = api("pingcheng").post(url + "submit/", {"note": "已完成整治"}, content_type=JSON)
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["submission_note"] == "已完成整治"

    # Only the city bureau reviews; a reason is required to return.
    for step in ("return/", "approve/", "reopen/"):
        assert (
            api("pingcheng")
            .post(url + step, {"reason": "x"} if step != "approve/" else {}, content_type=JSON)
            .status_code
            == 403
        )
    client = api("bureau")
    response = client.post(url + "return/", {"reason": " "}, content_type=JSON)
    assert response.status_code == 400 and response.json()["errors"]["reason"] == [
        "退回销号申请须填写退回理由。"
    ]
    response = client.post(url + "return/", {"reason": "缺少标识牌照片"}, content_type=JSON)
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert response.json()["return_reason"] == "缺少标识牌照片"
    assert api("pingcheng").post(url + "submit/", {}, content_type=JSON).json()["status"] == "submitted"

    # The approval names what the ledger does not record yet (no sign, not registered).
    client = api("bureau")
    gaps = client.get(f"{PLANS}{plan.pk}/").json()["closeout_gaps"]
    assert len(gaps) == 2
    response = client.post(url + "approve/", {}, content_type=JSON)
    assert response.status_code == 400 and "未设置标识牌" in response.json()["errors"]["gaps"][0]
    response = client.post(url + "approve/", {"register": True, "accept_gaps": True}, content_type=JSON)
    assert response.status_code == 400 and "note" in response.json()["errors"]
    response = client.post(url + "approve/", {"register": "maybe"}, content_type=JSON)
    assert response.status_code == 400 and "register" in response.json()["errors"]
    response = client.post(
        url + "approve/",
        {"register": True, "accept_gaps": True, "note": "标识牌已订制，先行销号"},
        content_type=JSON,
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "approved" and data["approved_by"] == "bureau" and data["closeout_gaps"] == []
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.KEPT and outfall.registered
    assert outfall.rectification_status == RectificationStatus.COMPLETED
    assert client.post(url + "approve/", {}, content_type=JSON).status_code == 400  # already approved

    response = client.post(url + "reopen/", {}, content_type=JSON)
    assert response.status_code == 400 and response.json()["errors"]["reason"] == ["重新打开销号须填写理由。"]
    response = client.post(url + "reopen/", {"reason": "复核发现仍有排水"}, content_type=JSON)
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.RECTIFYING
    assert plan_steps(plan) == [
        ("", "in_progress"),
        ("in_progress", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
        ("approved", "in_progress"),
    ]
    other = plan_of(YUNZHOU, PlanStatus.APPROVED)
    assert (
        api("pingcheng")
        .post(f"{PLANS}{other.pk}/closeout/reopen/", {"reason": "x"}, content_type=JSON)
        .status_code
        == 404
    )


def test_merge_closeout_points_the_outfall_at_its_target(api):
    plan = plan_of(PINGCHENG, PlanStatus.SUBMITTED)
    assert plan.measure == RectificationMeasure.MERGE
    response = api("bureau").post(
        f"{PLANS}{plan.pk}/closeout/approve/", {"note": "验收合格"}, content_type=JSON
    )
    assert response.status_code == 200, response.json()
    outfall = Outfall.objects.get(pk=plan.outfall_id)
    assert outfall.status == LifecycleStatus.MERGED and outfall.merged_into_id == plan.merge_target_id


# 问责 -----------------------------------------------------------------------------------------------------------
def test_accountability_is_recorded_by_the_city_and_seen_by_each_its_own(api):
    today = timezone.localdate().isoformat()
    reason = "整治进展迟缓，逾期方案未按期完成，予以通报批评。"
    body = {"kind": "criticism", "county": PINGCHENG, "decided_on": today, "reason": reason}
    for name in ("pingcheng", "auditor", "enterprise"):
        assert api(name).post(ACCOUNTABILITY, body, content_type=JSON).status_code == 403
    assert api("pingcheng").post(ACCOUNTABILITY, {}, content_type=JSON).status_code == 403  # before the body
    client = api("bureau")
    response = client.post(
        ACCOUNTABILITY, {**body, "document_number": "同环函〔2026〕1号"}, content_type=JSON
    )
    assert response.status_code == 201, response.json()
    entry = response.json()
    expected = accountability.figures_for(county=Jurisdiction.objects.get(code=PINGCHENG))
    assert entry["county"] == PINGCHENG and entry["target_name"] == entry["county_name"]
    assert entry["figures"] == expected and entry["decided_by"] == "bureau"
    record = Accountability.objects.get(pk=entry["id"])
    assert [(c.from_value, c.to_value) for c in status_changes_for(record)] == [("", "criticism")]
    department = Department.objects.get(name="市城市管理局")
    response = client.post(
        ACCOUNTABILITY,
        {"kind": "interview", "department": department.pk, "decided_on": today, "reason": reason},
        content_type=JSON,
    )
    assert response.status_code == 201 and response.json()["department_name"] == "市城市管理局"
    yunzhou = client.post(ACCOUNTABILITY, {**body, "county": YUNZHOU}, content_type=JSON).json()

    # Refusals name their fields.
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(
        ACCOUNTABILITY,
        {**body, "department": department.pk, "decided_on": tomorrow, "reason": "短"},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"county", "decided_on", "reason"}
    response = client.post(ACCOUNTABILITY, {**body, "county": "140213001"}, content_type=JSON)
    assert response.status_code == 400 and "140213001" in response.json()["errors"]["county"][0]
    response = client.post(ACCOUNTABILITY, {**body, "kind": "fine"}, content_type=JSON)
    assert response.status_code == 400 and "问责方式" in response.json()["errors"]["kind"][0]
    assert Accountability.objects.count() == 3

    # Each sees its own: the city all, a county its county's, a department its department's, others none.
    assert api("bureau").get(ACCOUNTABILITY).json()["count"] == 3
    rows = api("pingcheng").get(ACCOUNTABILITY).json()["results"]
    assert [r["id"] for r in rows] == [entry["id"]]
    assert api("pingcheng").get(f"{ACCOUNTABILITY}{yunzhou['id']}/").status_code == 404
    assert [r["department_name"] for r in api("chengguan").get(ACCOUNTABILITY).json()["results"]] == [
        "市城市管理局"
    ]
    assert api("enterprise").get(ACCOUNTABILITY).json()["count"] == 0
    assert api("bureau").get(ACCOUNTABILITY, {"county": PINGCHENG}).status_code == 400  # no filters
