"""排查 and 溯源 through the REST API, as a client would drive them: campaigns with their reaches and walked
tracks, the expert decision on a suspected point, a field check from a phone, and a tracing case from opening
to conclusion. Each write goes through the page's service (status rows, the ledger outfall, the outfall's
responsible entity); other counties get 404, read-only roles 403, bad bodies a 400 naming the field."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.core.models import StatusChange
from outfalls.core.services import status_changes_for
from outfalls.registry.choices import LifecycleStatus, UnitKind
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody
from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint, TracingCase, Track

pytestmark = pytest.mark.django_db
JSON = "application/json"
CAMPAIGNS = "/api/v1/campaigns/"
POINTS = "/api/v1/suspected-points/"
CHECKS = "/api/v1/field-checks/"
CASES = "/api/v1/tracing-cases/"


@pytest.fixture
def send(client_for):
    """send(username, method, url, body): the one test client, logged in as that user first."""

    def call(username, method, url, body=None):
        client = client_for(username)
        return getattr(client, method)(url, body or {}, content_type=JSON)

    return call


def campaign_of(code):
    return Campaign.objects.filter(county__code=code).order_by("pk").first()


# Reads and scope --------------------------------------------------------------------------------------------
def test_lists_are_scoped_by_county_with_pinned_queries(client_for, django_assert_max_num_queries):
    county = client_for("pingcheng")
    expected = {
        CAMPAIGNS: ("county", 1),
        POINTS: ("county", SuspectedPoint.objects.filter(campaign__county__code="140213").count()),
        CHECKS: (None, FieldCheck.objects.filter(point__campaign__county__code="140213").count()),
        CASES: ("county", TracingCase.objects.filter(outfall__county__code="140213").count()),
    }
    for url, (county_key, count) in expected.items():
        with django_assert_max_num_queries(12):
            data = county.get(url, {"page_size": 500}).json()
        assert data["count"] == count > 0, url
        if county_key:
            assert {row[county_key] for row in data["results"]} == {"140213"}, url
    assert {row["campaign"] for row in county.get(CHECKS).json()["results"]} == {campaign_of("140213").pk}

    city = client_for("bureau")
    assert city.get(CAMPAIGNS).json()["count"] == Campaign.objects.count()
    assert city.get(CASES).json()["count"] == TracingCase.objects.count()
    for username in ("enterprise", "chengguan"):
        assert client_for(username).get(POINTS).json()["count"] == 0


def test_another_countys_objects_are_404(client_for):
    other = campaign_of("140215")
    point = other.points.first()
    check = FieldCheck.objects.filter(point__campaign=other).first()
    case = TracingCase.objects.filter(outfall__county__code="140215").first()
    client = client_for("pingcheng")
    for url in (
        f"{CAMPAIGNS}{other.pk}/",
        f"{POINTS}{point.pk}/",
        f"{CHECKS}{check.pk}/",
        f"{CASES}{case.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url, body in (
        (f"{CAMPAIGNS}{other.pk}/reaches/", {}),
        (f"{POINTS}{point.pk}/reopen/", {"reason": "复核"}),
        (f"{CASES}{case.pk}/reopen/", {"reason": "复核"}),
    ):
        assert client.post(url, body, content_type=JSON).status_code == 404, url
    assert client.patch(f"{CAMPAIGNS}{other.pk}/", {"name": "x"}, content_type=JSON).status_code == 404
    # A filter value outside the caller's scope is a 400, not an empty list passed off as an answer.
    refused = client.get(POINTS, {"campaign": other.pk})
    assert refused.status_code == 400 and "campaign" in refused.json()["errors"]


def test_list_filters(client_for):
    client = client_for("bureau")
    campaign = campaign_of("140213")
    data = client.get(POINTS, {"campaign": campaign.pk, "outcome": "pending", "page_size": 500}).json()
    assert data["count"] == campaign.points.filter(outcome="pending").count() > 0
    assert {(r["campaign"], r["outcome"]) for r in data["results"]} == {(campaign.pk, "pending")}
    assert client.get(POINTS, {"outcome": "nope"}).status_code == 400
    assert client.get(CAMPAIGNS, {"county": "140215"}).json()["count"] == 1
    checks = client.get(CHECKS, {"county": "140215", "outcome": "not_outfall"}).json()
    assert (
        checks["count"]
        == FieldCheck.objects.filter(point__campaign__county__code="140215", outcome="not_outfall").count()
    )
    concluded = client.get(CASES, {"status": "concluded", "county": "140213"}).json()
    assert concluded["count"] > 0
    assert {(r["status"], r["county"]) for r in concluded["results"]} == {("concluded", "140213")}
    assert client.get(CASES, {"colour": "grey"}).status_code == 400  # unknown parameter


def test_details_carry_reaches_steps_units_and_history(client_for):
    client = client_for("bureau")
    campaign = campaign_of("140213")
    data = client.get(f"{CAMPAIGNS}{campaign.pk}/").json()
    assert data["county"] == "140213" and data["water_body_names"]
    assert len(data["reaches"]) == campaign.reaches.count()
    assert data["n_points"] == campaign.points.count()

    point = campaign.points.filter(outcome="duplicate").first()
    data = client.get(f"{POINTS}{point.pk}/").json()
    assert data["outfall"] == point.outfall_id and data["outcome_label"] == "与已有排口重复"
    assert data["history"] and data["history"][0]["to_value"] == "duplicate"
    assert data["checks"] == [] or data["checks"][0]["outcome"]

    case = TracingCase.objects.filter(status="concluded", steps__isnull=False).first()
    data = client.get(f"{CASES}{case.pk}/").json()
    assert len(data["steps"]) == case.steps.count() and data["steps"][0]["kind_label"]
    assert {u["unit"] for u in data["found_units"]} == set(
        case.outfall.unit_links.values_list("unit_id", flat=True)
    )
    assert data["history"][0]["to_value"] == "concluded"


# Campaigns -------------------------------------------------------------------------------------------------
def test_a_county_creates_and_changes_a_campaign(send):
    campaign = campaign_of("140213")
    river = campaign.water_bodies.first()
    body = {
        "name": "API 排查任务",
        "county": "140213",
        "water_bodies": [river.pk],
        "deadline": "2026-12-31",
        "start_date": "2026-01-01",
        "team_names": "王建国、李娜",
    }
    created = send("pingcheng", "post", CAMPAIGNS, body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["status"], data["created_by"], data["water_bodies"]) == ("active", "pingcheng", [river.pk])
    saved = Campaign.objects.get(pk=data["id"])
    assert [(r.from_value, r.to_value) for r in status_changes_for(saved)] == [("", "active")]

    other_county = send("pingcheng", "post", CAMPAIGNS, {**body, "county": "140215"})
    assert other_county.status_code == 400 and "county" in other_county.json()["errors"]
    no_river = send("pingcheng", "post", CAMPAIGNS, {**body, "water_bodies": []})
    assert no_river.json()["errors"]["water_bodies"] == ["请至少选择一条排查河流。"]
    backwards = send("pingcheng", "post", CAMPAIGNS, {**body, "deadline": "2025-12-31"})
    assert backwards.json()["errors"]["deadline"] == ["完成期限不能早于开始日期。"]
    assert send("auditor", "post", CAMPAIGNS, body).status_code == 403
    assert send("river_chief", "post", CAMPAIGNS, body).status_code == 403

    url = f"{CAMPAIGNS}{saved.pk}/"
    changed = send("pingcheng", "patch", url, {"lead_unit": "平城区人民政府", "version": data["version"]})
    assert changed.status_code == 200 and changed.json()["version"] == data["version"] + 1
    stale = send("pingcheng", "patch", url, {"lead_unit": "别的单位", "version": data["version"]})
    assert stale.status_code == 400 and "保存未完成" in stale.json()["detail"]
    assert Campaign.objects.get(pk=saved.pk).lead_unit == "平城区人民政府"
    assert send("auditor", "patch", url, {"lead_unit": "x"}).status_code == 403
    assert send("yunzhou", "patch", url, {"lead_unit": "x"}).status_code == 404


def test_a_campaign_with_open_points_cannot_be_completed(send):
    campaign = campaign_of("140213")
    refused = send("pingcheng", "patch", f"{CAMPAIGNS}{campaign.pk}/", {"status": "completed"})
    assert refused.status_code == 400 and "待核查" in refused.json()["errors"]["status"][0]
    assert Campaign.objects.get(pk=campaign.pk).status != "completed"


def test_reaches_are_added_checked_changed_and_deleted(send):
    campaign = campaign_of("140213")
    river = campaign.water_bodies.first()
    url = f"{CAMPAIGNS}{campaign.pk}/reaches/"
    before = campaign.reaches.count()
    added = send(
        "pingcheng", "post", url, {"water_body": river.pk, "name": "API 河段", "from_km": 1, "to_km": 2}
    )
    assert added.status_code == 200, added.json()
    reach = next(r for r in added.json()["reaches"] if r["name"] == "API 河段")
    assert (reach["bank"], reach["checked"], len(added.json()["reaches"])) == ("both", False, before + 1)

    backwards = send("pingcheng", "post", url, {"water_body": river.pk, "from_km": 3, "to_km": 2})
    assert backwards.json()["errors"] == {"to_km": ["终点（公里）须大于起点（公里）。"]}
    other_river = WaterBody.objects.exclude(pk__in=campaign.water_bodies.all()).first()
    outside = send("pingcheng", "post", url, {"water_body": other_river.pk, "from_km": 0, "to_km": 1})
    assert "排查河流" in outside.json()["errors"]["water_body"][0]
    assert send("auditor", "post", url, {"water_body": river.pk, "from_km": 1, "to_km": 2}).status_code == 403

    checked = send("pingcheng", "post", f"{url}{reach['id']}/checked/", {"checked": True})
    row = next(r for r in checked.json()["reaches"] if r["id"] == reach["id"])
    assert (row["checked"], row["checked_by"]) == (True, "pingcheng")
    change = StatusChange.objects.filter(field="checked", object_id=reach["id"]).get()
    assert (change.from_value, change.to_value) == ("unchecked", "checked")

    changed = send("pingcheng", "patch", f"{url}{reach['id']}/", {"to_km": 5.5})
    assert next(r for r in changed.json()["reaches"] if r["id"] == reach["id"])["to_km"] == 5.5
    assert send("pingcheng", "patch", f"{url}{reach['id']}/", {"to_km": 0.5}).status_code == 400
    deleted = send("pingcheng", "delete", f"{url}{reach['id']}/")
    assert deleted.status_code == 200 and len(deleted.json()["reaches"]) == before
    assert send("pingcheng", "delete", f"{url}{reach['id']}/").status_code == 404


def test_a_walked_track_is_stored_once(send):
    campaign = campaign_of("140213")
    river = campaign.water_bodies.first()
    body = {
        "client_uuid": str(uuid.uuid4()),
        "water_body": river.pk,
        "bank": "left",
        "coordinates": [[113.30, 40.08], [113.301, 40.081], [113.302, 40.082]],
    }
    url = f"{CAMPAIGNS}{campaign.pk}/tracks/"
    created = send("pingcheng", "post", url, body)
    assert created.status_code == 201, created.json()
    assert (created.json()["points"], created.json()["recorded_by"]) == (3, "pingcheng")
    again = send("pingcheng", "post", url, body)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert Track.objects.filter(client_uuid=body["client_uuid"]).count() == 1

    short = send(
        "pingcheng", "post", url, {**body, "client_uuid": str(uuid.uuid4()), "coordinates": [[113.3, 40.08]]}
    )
    assert short.json()["errors"] == {"coordinates": ["轨迹至少需要两个定位点。"]}
    assert send("yunzhou", "post", url, body).status_code == 404


# Suspected points ------------------------------------------------------------------------------------------
def test_the_expert_decides_an_escalated_point_and_reopens_it(send):
    point = SuspectedPoint.objects.filter(campaign__county__code="140213", outcome="escalated").first()
    url = f"{POINTS}{point.pk}/"
    assert send("auditor", "post", url + "decide/", {}).status_code == 403
    assert send("yunzhou", "post", url + "decide/", {}).status_code == 404
    missing = send("pingcheng", "post", url + "decide/", {"outcome": "confirmed", "note": "是排口"})
    assert set(missing.json()["errors"]) == {"experts"}
    unnamed = send(
        "pingcheng", "post", url + "decide/", {"outcome": "confirmed", "experts": "张三", "note": "是"}
    )
    assert set(unnamed.json()["errors"]) == {"water_body", "landmark"}
    assert (
        "研判结论"
        in send("pingcheng", "post", url + "decide/", {"outcome": "pending"}).json()["errors"]["outcome"][0]
    )

    decided = send(
        "pingcheng",
        "post",
        url + "decide/",
        {"outcome": "not_outfall", "experts": "张三、李四", "note": "为灌溉渠"},
    )
    assert decided.status_code == 200, decided.json()
    data = decided.json()
    assert (data["outcome"], data["decided_level"], data["decided_by"]) == ("not_outfall", 3, "pingcheng")
    assert "张三、李四" in data["decision_note"] and data["history"][0]["from_value"] == "escalated"
    again = send(
        "pingcheng", "post", url + "decide/", {"outcome": "not_outfall", "experts": "张三", "note": "再判"}
    )
    assert again.status_code == 400 and "重新打开" in again.json()["detail"]

    assert send("pingcheng", "post", url + "reopen/", {"reason": " "}).status_code == 400
    reopened = send("pingcheng", "post", url + "reopen/", {"reason": "专家意见有误"})
    assert reopened.status_code == 200 and reopened.json()["outcome"] == "pending"
    assert reopened.json()["history"][0]["reason"] == "专家意见有误"
    # Only a point awaiting the experts is theirs to decide (the service says so).
    pending = send(
        "pingcheng", "post", url + "decide/", {"outcome": "not_outfall", "experts": "张三", "note": "x"}
    )
    assert pending.status_code == 400 and "待专家研判" in pending.json()["detail"]


def test_the_expert_confirms_a_point_into_the_ledger(send):
    point = SuspectedPoint.objects.filter(campaign__county__code="140213", outcome="escalated").first()
    river = point.campaign.water_bodies.first()
    body = {
        "outcome": "confirmed",
        "experts": "张三、李四",
        "note": "确认为排口",
        "water_body": river.pk,
        "landmark": "API桥",
        "type_code": "SH",
    }
    decided = send("pingcheng", "post", f"{POINTS}{point.pk}/decide/", body)
    assert decided.status_code == 200, decided.json()
    outfall = Outfall.objects.get(pk=decided.json()["outfall"])
    assert (outfall.status, outfall.county.code, outfall.type_code) == (
        LifecycleStatus.VERIFIED,
        "140213",
        "SH",
    )
    assert decided.json()["outfall_code"] == outfall.code


# Field checks ----------------------------------------------------------------------------------------------
def check_body(point, outcome="not_outfall", **extra):
    return {
        "campaign": point.campaign_id,
        "client_uuid": str(uuid.uuid4()),
        "point": point.pk,
        "lon": point.lon,
        "lat": point.lat,
        "flow": "flowing",
        "dry_weather": True,
        "colour": "grey",
        "staff": ["王建国", "李娜"],
        "outcome": outcome,
        **extra,
    }


def test_a_field_check_decides_its_point_once(send):
    point = SuspectedPoint.objects.filter(campaign__county__code="140213", outcome="pending").first()
    body = check_body(point)
    created = send("pingcheng", "post", CHECKS, body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["point"], data["point_outcome"], data["staff"], data["created_by"]) == (
        point.pk,
        "not_outfall",
        ["王建国", "李娜"],
        "pingcheng",
    )
    assert SuspectedPoint.objects.get(pk=point.pk).decided_level == 2
    again = send("pingcheng", "post", CHECKS, body)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert FieldCheck.objects.filter(point=point).count() == point.checks.count()

    second = send("pingcheng", "post", CHECKS, check_body(point))
    assert second.status_code == 400 and "不能再次核查" in second.json()["detail"]
    assert send("pingcheng", "get", f"{CHECKS}{data['id']}/").json()["client_uuid"] == body["client_uuid"]


def test_a_point_found_on_the_walk_is_confirmed_into_the_ledger(send):
    campaign = campaign_of("140213")
    river = campaign.water_bodies.first()
    body = {
        "campaign": campaign.pk,
        "client_uuid": str(uuid.uuid4()),
        "lon": 113.3101,
        "lat": 40.0801,
        "flow": "flowing",
        "staff": "王建国、李娜".split("、"),
        "outcome": "confirmed",
        "water_body": river.pk,
        "landmark": "API 新发现",
        "outlet_form": "pipe",
        "outlet_size": "DN300",
    }
    created = send("pingcheng", "post", CHECKS, body)
    assert created.status_code == 201, created.json()
    point = SuspectedPoint.objects.get(pk=created.json()["point"])
    assert (point.source, point.outcome, point.campaign_id) == ("field", "confirmed", campaign.pk)
    assert Outfall.objects.get(pk=created.json()["outfall"]).outlet_description == "管道；DN300"


def test_bad_field_checks_are_refused_with_the_field_named(send):
    point = SuspectedPoint.objects.filter(campaign__county__code="140213", outcome="pending").first()
    one = send("pingcheng", "post", CHECKS, check_body(point, staff=["王建国"]))
    assert one.json()["errors"] == {"staff": ["核查人员至少填写 2 人（当前 1 人）。"]}
    duplicate = send("pingcheng", "post", CHECKS, check_body(point, outcome="duplicate"))
    assert duplicate.json()["errors"] == {"duplicate_of": ["判定为重复时须选择已有排口。"]}
    far = send("pingcheng", "post", CHECKS, check_body(point, lon=200))
    assert far.json()["errors"] == {"lon": ["经度超出范围。"]}
    missing = send("pingcheng", "post", CHECKS, {"campaign": point.campaign_id})
    assert missing.json()["errors"]["flow"] == ["请填写排水特征。"]
    other = campaign_of("140215").points.filter(outcome="pending").first()
    outside = send("pingcheng", "post", CHECKS, check_body(other))
    assert outside.status_code == 400 and {"campaign", "point"} <= set(outside.json()["errors"])
    assert send("auditor", "post", CHECKS, check_body(point)).status_code == 403
    assert SuspectedPoint.objects.get(pk=point.pk).outcome == "pending"


# Tracing cases ---------------------------------------------------------------------------------------------
def verified_outfall(code="140213"):
    outfall = (
        Outfall.objects.filter(county__code=code, status=LifecycleStatus.VERIFIED, tracing_case=None)
        .order_by("id")
        .first()
    )
    OutfallUnitLink.objects.filter(outfall=outfall).delete()
    return outfall


def test_a_tracing_case_from_opening_to_conclusion(send):
    outfall = verified_outfall()
    assert send("auditor", "post", CASES, {"outfall": outfall.pk}).status_code == 403
    assert send("yunzhou", "post", CASES, {"outfall": outfall.pk}).status_code == 400  # not theirs to see
    opened = send("pingcheng", "post", CASES, {"outfall": outfall.pk, "deadline": "2026-06-30"})
    assert opened.status_code == 201, opened.json()
    case = opened.json()
    assert (case["status"], case["opened_by"], case["deadline"]) == ("open", "pingcheng", "2026-06-30")
    assert case["history"][0]["to_value"] == "open"
    assert "已有溯源案件" in send("pingcheng", "post", CASES, {"outfall": outfall.pk}).json()["detail"]
    url = f"{CASES}{case['id']}/"

    step = {
        "kind": "dye_test",
        "date": str(timezone.localdate()),
        "findings": "染色试验确认连通",
        "staff": "张伟",
    }
    stepped = send("pingcheng", "post", url + "steps/", step)
    assert stepped.status_code == 200 and stepped.json()["steps"][0]["findings"] == "染色试验确认连通"
    future = str(timezone.localdate() + timedelta(days=2))
    assert send("pingcheng", "post", url + "steps/", {**step, "date": future}).json()["errors"] == {
        "date": ["步骤日期不能晚于今天。"]
    }
    assert "findings" in send("pingcheng", "post", url + "steps/", {**step, "findings": ""}).json()["errors"]

    owner, borrower = (
        DischargeUnit.objects.filter(county_id=outfall.county_id)
        .exclude(kind=UnitKind.GOVERNMENT)
        .order_by("id")[:2]
    )
    linked = send("pingcheng", "post", url + "units/", {"unit": owner.pk, "role": "owner"})
    assert linked.status_code == 200 and [u["unit"] for u in linked.json()["found_units"]] == [owner.pk]
    no_channel = send("pingcheng", "post", url + "units/", {"unit": borrower.pk, "role": "borrows"})
    assert no_channel.json()["errors"] == {"via_channel": ["借道排污须写明经由的通道（如某路雨水管网）。"]}
    send(
        "pingcheng",
        "post",
        url + "units/",
        {"unit": borrower.pk, "role": "borrows", "via_channel": "建设路雨水管"},
    )
    far_unit = DischargeUnit.objects.filter(county__code="140215").first()
    assert (
        "unit"
        in send("bureau", "post", url + "units/", {"unit": far_unit.pk, "role": "owner"}).json()["errors"]
    )

    unlisted = send("pingcheng", "post", url + "conclude/", {"basis": "traced", "entity": far_unit.pk})
    assert "entity" in unlisted.json()["errors"]
    concluded = send(
        "pingcheng", "post", url + "conclude/", {"basis": "traced", "entity": owner.pk, "note": "染色确认"}
    )
    assert concluded.status_code == 200, concluded.json()
    data = concluded.json()
    assert (data["status"], data["responsible_entity"], data["basis"], data["outfall_status"]) == (
        "concluded",
        owner.pk,
        "traced",
        LifecycleStatus.TRACED,
    )
    outfall.refresh_from_db()
    assert (outfall.responsible_entity_id, outfall.status) == (owner.pk, LifecycleStatus.TRACED)
    closed = send("pingcheng", "post", url + "steps/", step)
    assert closed.status_code == 400 and "已结案" in closed.json()["detail"]

    assert send("auditor", "post", url + "reopen/", {"reason": "补充"}).status_code == 403
    assert send("pingcheng", "post", url + "reopen/", {}).json()["errors"] == {
        "reason": ["请填写重新开启原因。"]
    }
    reopened = send("pingcheng", "post", url + "reopen/", {"reason": "发现新的接入"})
    assert reopened.json()["status"] == "open" and reopened.json()["history"][0]["reason"] == "发现新的接入"

    borrow_link = next(u for u in reopened.json()["found_units"] if u["unit"] == borrower.pk)
    owner_link = next(u for u in reopened.json()["found_units"] if u["unit"] == owner.pk)
    refused = send("pingcheng", "post", url + "unlink/", {"link": owner_link["id"]})
    assert refused.status_code == 400 and "责任主体" in refused.json()["detail"]
    unlinked = send("pingcheng", "post", url + "unlink/", {"link": borrow_link["id"]})
    assert [u["unit"] for u in unlinked.json()["found_units"]] == [owner.pk]
    other_link = OutfallUnitLink.objects.exclude(outfall=outfall).first()
    assert "link" in send("pingcheng", "post", url + "unlink/", {"link": other_link.pk}).json()["errors"]


def test_government_fallback_needs_a_reason(send):
    outfall = verified_outfall()
    case = send("pingcheng", "post", CASES, {"outfall": outfall.pk}).json()
    url = f"{CASES}{case['id']}/conclude/"
    refused = send("pingcheng", "post", url, {"basis": "government_fallback"})
    assert refused.json()["errors"] == {"note": ["政府兜底须写明无法溯源的原因。"]}
    assert "basis" in send("pingcheng", "post", url, {"basis": "unknown"}).json()["errors"]
    done = send("pingcheng", "post", url, {"basis": "government_fallback", "note": "老旧合流管网无法溯源"})
    assert done.status_code == 200, done.json()
    assert done.json()["responsible_entity_name"].endswith(("人民政府", "管理委员会"))
