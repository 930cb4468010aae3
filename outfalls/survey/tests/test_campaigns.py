"""Campaign pages: scope (list, detail, map data, counts), create/edit rights, reaches and their 已完成 mark."""

import pytest
from django.urls import reverse

from outfalls.core.models import Jurisdiction, Membership, StatusChange
from outfalls.registry.models import WaterBody
from outfalls.survey.models import Campaign, CampaignReach

pytestmark = pytest.mark.django_db

PINGCHENG, YUNZHOU = "140213", "140215"


def campaign_in(code):
    return Campaign.objects.filter(county__code=code).order_by("pk").first()


def test_city_sees_every_campaign_county_sees_its_own(client_for, django_assert_max_num_queries):
    total = Campaign.objects.count()
    assert total >= 3
    client = client_for("bureau")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("survey:campaign_list"))
    assert len(response.context["object_list"]) == total
    assert f"共 {total} 个任务" in response.content.decode()

    client = client_for("pingcheng")
    response = client.get(reverse("survey:campaign_list"))
    names = [c.name for c in response.context["object_list"]]
    assert names and all("平城区" in n for n in names)
    assert "云州区御河" not in response.content.decode()
    # The counts on the list are the county's own.
    row = response.context["object_list"][0]
    assert row.n_points == campaign_in(PINGCHENG).points.count()


def test_list_filters_search_and_sorting(client_for):
    client = client_for("bureau")
    response = client.get(reverse("survey:campaign_list"), {"county": YUNZHOU})
    assert [c.county.code for c in response.context["object_list"]] == [YUNZHOU]
    response = client.get(reverse("survey:campaign_list"), {"q": "十里河"})
    assert [c.county.code for c in response.context["object_list"]] == [PINGCHENG]
    response = client.get(reverse("survey:campaign_list"), {"ordering": "-deadline"})
    deadlines = [c.deadline for c in response.context["object_list"]]
    assert deadlines == sorted(deadlines, reverse=True)


def test_other_county_gets_404_on_detail_map_data_edit_and_field_page(client_for):
    campaign = campaign_in(PINGCHENG)
    client = client_for("yunzhou")
    for name in (
        "campaign_detail",
        "campaign_points_geojson",
        "campaign_reaches_geojson",
        "campaign_edit",
        "field_page",
        "point_import",
    ):
        assert client.get(reverse(f"survey:{name}", args=[campaign.pk])).status_code == 404, name
    own = campaign_in(YUNZHOU)
    data = client.get(reverse("survey:campaign_points_geojson", args=[own.pk])).json()
    assert len(data["features"]) == own.points.count()
    assert {f["properties"]["number"] for f in data["features"]} == set(
        own.points.values_list("number", flat=True)
    )


def test_detail_lists_points_with_outcome_filter_and_counts(client_for):
    campaign = campaign_in(PINGCHENG)
    client = client_for("pingcheng")
    response = client.get(reverse("survey:campaign_detail", args=[campaign.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="reach-inline-form"' in page and "御河全长约" in page
    assert (
        'data-testid="reach-inline-form"'
        not in client_for("auditor").get(response.request["PATH_INFO"]).content.decode()
    )
    client = client_for("pingcheng")
    counts = {c["value"]: c["n"] for c in response.context["outcome_counts"]}
    assert counts["pending"] == campaign.points.filter(outcome="pending").count()
    assert sum(counts.values()) == campaign.points.count()
    response = client.get(reverse("survey:campaign_detail", args=[campaign.pk]), {"outcome": "not_outfall"})
    assert {p.outcome for p in response.context["points"]} == {"not_outfall"}
    number = campaign.points.order_by("number").last().number
    response = client.get(reverse("survey:campaign_detail", args=[campaign.pk]), {"q": number})
    assert [p.number for p in response.context["points"]] == [number]
    # The same box searches the points' descriptions (its label says so).
    response = client.get(reverse("survey:campaign_detail", args=[campaign.pk]), {"q": "管道口"})
    found = [p.description for p in response.context["points"]]
    assert found and all("管道口" in d for d in found)
    assert "编号或说明" in response.content.decode()


def test_county_officer_creates_in_own_county_only(client_for):
    client = client_for("pingcheng")
    yuhe = WaterBody.objects.get(name="御河")
    pingcheng = Jurisdiction.objects.get(code=PINGCHENG)
    yunzhou = Jurisdiction.objects.get(code=YUNZHOU)
    data = {"name": "平城区御河复查", "county": pingcheng.pk, "water_bodies": [yuhe.pk], "status": "active"}
    response = client.post(reverse("survey:campaign_create"), data)  # no deadline
    assert response.status_code == 400  # refused, as every form of the platform
    assert "请填写完成期限。" in response.context["form"].errors["deadline"]
    assert 'value="平城区御河复查"' in response.content.decode()  # what was typed is kept

    response = client.post(
        reverse("survey:campaign_create"), {**data, "county": yunzhou.pk, "deadline": "2023-12-31"}
    )
    assert response.status_code == 400 and "county" in response.context["form"].errors
    assert not Campaign.objects.filter(name="平城区御河复查").exists()

    yunzhou_officer = Membership.objects.get(user__username="yunzhou").user
    response = client.post(
        reverse("survey:campaign_create"), {**data, "deadline": "2023-12-31", "team": [yunzhou_officer.pk]}
    )
    assert "team" in response.context["form"].errors  # another county's officer cannot join
    own = Membership.objects.get(user__username="pingcheng").user
    response = client.post(
        reverse("survey:campaign_create"), {**data, "deadline": "2023-12-31", "team": [own.pk]}
    )
    campaign = Campaign.objects.get(name="平城区御河复查")
    assert response.status_code == 302 and campaign.county == pingcheng
    assert list(campaign.team.all()) == [own]
    assert StatusChange.objects.filter(object_id=campaign.pk, to_value="active").exists()


def test_read_only_users_cannot_create_or_edit(client_for):
    client = client_for("auditor")
    assert client.get(reverse("survey:campaign_list")).status_code == 200
    assert client.get(reverse("survey:campaign_create")).status_code == 403
    assert client.get(reverse("survey:campaign_edit", args=[campaign_in(PINGCHENG).pk])).status_code == 404


def test_reaches_added_validated_and_marked_checked(client_for):
    campaign = campaign_in(YUNZHOU)
    river = campaign.water_bodies.first()
    client = client_for("yunzhou")
    url = reverse("survey:reach_create", args=[campaign.pk])
    response = client.post(url, {"water_body": river.pk, "from_km": "5", "to_km": "3", "bank": "left"})
    assert response.status_code == 200
    assert "终点（公里）须大于起点（公里）。" in response.context["form"].errors["to_km"]
    response = client.post(
        url, {"water_body": river.pk, "name": "测试段", "from_km": "1", "to_km": "2.5", "bank": "left"}
    )
    assert response.status_code == 302
    reach = CampaignReach.objects.get(campaign=campaign, name="测试段")
    assert not reach.checked

    client.post(reverse("survey:reach_checked", args=[campaign.pk, reach.pk]), {"checked": "1"})
    reach.refresh_from_db()
    assert reach.checked and reach.checked_at and reach.checked_by.username == "yunzhou"
    assert StatusChange.objects.filter(object_id=reach.pk, field="checked", to_value="checked").exists()

    other = client_for("pingcheng")
    response = other.post(reverse("survey:reach_checked", args=[campaign.pk, reach.pk]), {"checked": "0"})
    assert response.status_code == 404
    reach.refresh_from_db()
    assert reach.checked

    # On the campaign's map the reach is drawn along its river, as long as it is (1.5 km), marked checked.
    from shapely.geometry import shape

    from outfalls.geo.linref import LocalFrame

    data = client_for("yunzhou").get(reverse("survey:campaign_reaches_geojson", args=[campaign.pk])).json()
    feature = next(f for f in data["features"] if f["properties"]["id"] == reach.pk)
    line = shape(feature["geometry"])
    assert feature["properties"]["checked"] is True and feature["properties"]["km"] == 1.5
    assert LocalFrame.for_geometry(line).geometry(line).length == pytest.approx(1500, rel=0.02)


def test_detail_and_point_pages_query_counts_do_not_grow_with_points(
    client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from outfalls.registry.models import Outfall
    from outfalls.survey.models import SuspectedPoint

    campaign = campaign_in(PINGCHENG)
    client = client_for("pingcheng")
    url = reverse("survey:campaign_detail", args=[campaign.pk])
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    river = campaign.water_bodies.first()
    outfall = Outfall.objects.filter(county=campaign.county).first()
    SuspectedPoint.objects.bulk_create(
        SuspectedPoint(
            campaign=campaign,
            number=f"Q-{i:02d}",
            source="uav",
            lon=outfall.lon,
            lat=outfall.lat,
            water_body=river,
            outfall=outfall,
            outcome="duplicate",
        )
        for i in range(20)
    )
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert len(response.context["points"]) == campaign.points.count()
    assert len(after.captured_queries) == len(before.captured_queries)
    point = campaign.points.exclude(outcome="pending").order_by("number").first()
    with django_assert_max_num_queries(25):
        assert client.get(reverse("survey:point_detail", args=[point.pk])).status_code == 200


def test_campaign_with_open_points_cannot_be_completed(client_for):
    campaign = campaign_in(YUNZHOU)
    assert campaign.points.filter(outcome__in=["pending", "escalated"]).exists()
    client = client_for("yunzhou")
    data = {
        "name": campaign.name,
        "county": campaign.county_id,
        "water_bodies": list(campaign.water_bodies.values_list("pk", flat=True)),
        "status": "completed",
        "deadline": "2023-06-30",
    }
    response = client.post(reverse("survey:campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 400
    assert "不能将任务标记为已完成" in " ".join(response.context["form"].errors["status"])
    campaign.refresh_from_db()
    assert campaign.status == "active"


@pytest.mark.parametrize("model", ["campaign", "pointimport", "suspectedpoint", "fieldcheck", "track"])
def test_admin_lists_open_with_their_related_rows_in_one_query(
    client_for, django_assert_max_num_queries, model
):
    client = client_for("city_admin")
    url = reverse(f"admin:survey_{model}_changelist")
    # Without list_select_related every row fetched its campaign, county, point or user on its own.
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0 or model == "pointimport"
