"""Level-2 field checks from the phone and the outcomes of suspected points (services and endpoint)."""

import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outfalls.core.models import Attachment, StatusChange
from outfalls.core.tests.test_photos import jpeg_with_exif
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall
from outfalls.survey import services
from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def campaign():
    return Campaign.objects.filter(county__code="140213").order_by("pk").first()


@pytest.fixture
def point(campaign):
    return campaign.points.filter(outcome="pending").order_by("number").first()


def record(point, outcome="not_outfall", **extra):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "point": point.pk if point else None,
        "checked_at": "2023-04-20T02:30:00Z",
        "lon": (point.lon if point else 113.30) + 0.00005,
        "lat": point.lat if point else 40.08,
        "accuracy_m": 6,
        "position_source": "gps",
        "flow": "flowing",
        "dry_weather": True,
        "colour": "grey",
        "odour": "slight",
        "turbidity": "turbid",
        "oil_film": False,
        "foam": True,
        "sampling_possible": True,
        "outlet_form": "pipe",
        "outlet_size": "DN600",
        "entry_mode": "pipe",
        "suspected_source": "小区生活污水",
        "notes": "桥下右岸",
        "staff": ["王建国", "李娜"],
        "outcome": outcome,
        "decision_note": "",
    }
    data.update(extra)
    return data


def post(client, campaign, data, photos=()):
    payload = {"record": json.dumps(data, ensure_ascii=False)}
    if photos:
        payload["photo_close"] = list(photos)
    return client.post(reverse("survey:field_submit", args=[campaign.pk]), payload)


def photo(name="close.jpg", **kwargs):
    return SimpleUploadedFile(name, jpeg_with_exif(**kwargs).read(), content_type="image/jpeg")


def test_not_outfall_with_photo_exif_and_status_change(client_for, campaign, point):
    client = client_for("pingcheng")
    data = record(point)
    response = post(client, campaign, data, [photo(lon=point.lon, lat=point.lat + 0.0005)])
    assert response.status_code == 201, response.content
    body = response.json()
    check = FieldCheck.objects.get(pk=body["id"])
    assert str(check.client_uuid) == data["client_uuid"] and check.staff == ["王建国", "李娜"]
    assert check.flow == "flowing" and check.foam and check.outlet_size == "DN600"
    point.refresh_from_db()
    assert (
        point.outcome == "not_outfall"
        and point.decided_level == 2
        and point.decided_by.username == "pingcheng"
    )
    change = StatusChange.objects.filter(object_id=point.pk, field="outcome").order_by("-id").first()
    assert (change.from_value, change.to_value) == ("pending", "not_outfall")
    attachment = Attachment.objects.get(object_id=check.pk, content_type__model="fieldcheck")
    assert attachment.kind == "photo_close" and attachment.taken_at is not None
    assert abs(attachment.exif_lat - (point.lat + 0.0005)) < 1e-6

    page = client.get(reverse("survey:check_detail", args=[check.pk])).content.decode()
    assert "2023-04-10 09:15:30" in page  # EXIF time beside the form's own
    assert "距记录位置约 5" in page  # ~55 m between EXIF and form position


def test_same_uuid_twice_gives_one_check_and_one_outfall(client_for, campaign, point):
    client = client_for("pingcheng")
    river = campaign.water_bodies.get(name="御河")
    data = record(point, "confirmed", landmark="文瀛湖北桥", water_body=river.pk, type_code="")
    first = post(client, campaign, data)
    assert first.status_code == 201, first.content
    second = post(client, campaign, data)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["outfall"] == first.json()["outfall"]
    assert FieldCheck.objects.filter(client_uuid=data["client_uuid"]).count() == 1
    assert Outfall.objects.filter(source_key=f"survey-point-{point.pk}").count() == 1


def test_confirm_creates_named_and_coded_outfall_in_the_county(client_for, campaign, point):
    client = client_for("pingcheng")
    river = campaign.water_bodies.get(name="御河")
    town = campaign.county.children.filter(level="town").first()
    data = record(point, "confirmed", landmark="文瀛湖北桥", water_body=river.pk, town=town.pk)
    response = post(client, campaign, data)
    assert response.status_code == 201, response.content
    outfall = Outfall.objects.get(pk=response.json()["outfall"])
    assert outfall.county == campaign.county and outfall.town == town and outfall.water_body == river
    assert outfall.status == "verified" and outfall.type_code == TypeCode.UNDETERMINED
    assert outfall.name.startswith(f"大同市平城区{town.name}") and "文瀛湖北桥" in outfall.name
    assert outfall.code.startswith(f"{river.code}-140213-")
    assert outfall.source_key == f"survey-point-{point.pk}"
    point.refresh_from_db()
    assert point.outcome == "confirmed" and point.outfall == outfall


def test_confirm_needs_landmark(client_for, campaign, point):
    data = record(point, "confirmed", water_body=campaign.water_bodies.first().pk)
    response = post(client_for("pingcheng"), campaign, data)
    assert response.status_code == 400
    assert "地标或单位名" in response.json()["errors"]
    assert not FieldCheck.objects.filter(client_uuid=data["client_uuid"]).exists()


def test_duplicate_links_the_nearby_outfall(client_for, demo_user, campaign, point):
    client = client_for("pingcheng")
    existing = Outfall.objects.filter(county=campaign.county).order_by("code").first()
    near = record(point, "duplicate", duplicate_of=existing.pk)
    SuspectedPoint.objects.filter(pk=point.pk).update(lon=existing.lon + 0.0003, lat=existing.lat)
    point.refresh_from_db()
    candidates = services.nearby_outfalls(demo_user("pingcheng"), point.lon, point.lat)
    assert candidates[0].pk == existing.pk and candidates[0].distance_m < 100
    response = post(client, campaign, near)
    assert response.status_code == 201, response.content
    point.refresh_from_db()
    assert point.outcome == "duplicate" and point.outfall == existing
    assert not Outfall.objects.filter(source_key=f"survey-point-{point.pk}").exists()


def test_duplicate_of_a_far_outfall_is_refused_and_nothing_changes(client_for, campaign, point):
    existing = Outfall.objects.filter(county=campaign.county).order_by("code").first()
    # About 400 m east of the outfall: beyond SURVEY_DUPLICATE_MAX_M.
    SuspectedPoint.objects.filter(pk=point.pk).update(lon=existing.lon + 0.0047, lat=existing.lat)
    point.refresh_from_db()
    data = record(point, "duplicate", duplicate_of=existing.pk)
    response = post(client_for("pingcheng"), campaign, data)
    assert response.status_code == 400, response.content
    message = "".join(response.json()["errors"]["重复的已有排口"])
    assert "过远" in message and "米" in message
    assert not FieldCheck.objects.filter(client_uuid=data["client_uuid"]).exists()
    point.refresh_from_db()
    assert point.outcome == "pending" and point.outfall is None


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_two_staff_names_required(client_for, campaign, point):
    data = record(point, staff=["王建国"])
    response = post(client_for("pingcheng"), campaign, data)
    assert response.status_code == 400
    assert "核查人员至少填写 2 人" in "".join(response.json()["errors"]["核查人员"])
    assert not FieldCheck.objects.filter(client_uuid=data["client_uuid"]).exists()
    point.refresh_from_db()
    assert point.outcome == "pending"
    with pytest.raises(ValidationError):
        services.clean_staff(["张三", " 张三 "])


def test_new_point_found_on_the_walk(client_for, campaign, point):
    data = record(
        None, "escalated", lon=point.lon + 0.001, lat=point.lat, water_body=campaign.water_bodies.first().pk
    )
    response = post(client_for("pingcheng"), campaign, data)
    assert response.status_code == 201, response.content
    new = SuspectedPoint.objects.get(pk=response.json()["point"])
    assert new.campaign == campaign and new.source == "field" and new.outcome == "escalated"
    assert new.number.startswith("XC-")


def test_escalated_then_expert_decides_on_the_point_page(client_for, campaign, point):
    post(client_for("pingcheng"), campaign, record(point, "escalated"))
    point.refresh_from_db()
    assert point.outcome == "escalated" and point.decided_level is None
    client = client_for("bureau")
    page = client.get(reverse("survey:point_detail", args=[point.pk]))
    assert page.context["decision_form"] is not None
    response = client.post(
        reverse("survey:point_decide", args=[point.pk]),
        {
            "outcome": "not_outfall",
            "experts": "高工、马工",
            "note": "护坡泄水孔",
            "type_code": "UNDETERMINED",
        },
    )
    assert response.status_code == 302
    point.refresh_from_db()
    assert point.outcome == "not_outfall" and point.decided_level == 3
    assert point.decision_note == "护坡泄水孔（研判专家：高工、马工）"
    # Experts' form keeps what was typed and names the field when incomplete.
    other = campaign.points.filter(outcome="escalated").exclude(pk=point.pk).first()
    if other is None:
        other = point
        services.reopen_point(point, user=_user("bureau"), reason="复核")
        services.decide_point(point, "escalated", user=_user("bureau"))
    response = client.post(
        reverse("survey:point_decide", args=[other.pk]),
        {"outcome": "confirmed", "experts": "高工", "note": "是排口"},
    )
    assert response.status_code == 200
    errors = response.context["decision_form"].errors
    assert "确认为排口时须填写地标或单位名。" in errors["landmark"]


def test_expert_decision_names_its_experts(demo_user, point):
    user = demo_user("pingcheng")
    services.decide_point(point, "escalated", user=user)
    with pytest.raises(ValidationError) as error:
        services.decide_point(point, "not_outfall", user=user, level=3, note="泄水孔", experts=" ")
    assert error.value.message_dict == {"experts": ["专家研判须填写研判专家姓名。"]}
    point.refresh_from_db()
    assert point.outcome == "escalated"


def test_final_outcome_cannot_be_decided_again_unless_reopened(demo_user, point):
    user = demo_user("pingcheng")
    services.decide_point(point, "not_outfall", user=user)
    with pytest.raises(ValidationError, match="不能再次判定"):
        services.decide_point(point, "escalated", user=user)
    with pytest.raises(ValidationError):
        services.reopen_point(point, user=user, reason=" ")
    services.reopen_point(point, user=user, reason="照片显示有排水")
    point.refresh_from_db()
    assert point.outcome == "pending" and point.decided_level is None
    assert StatusChange.objects.filter(object_id=point.pk, field="outcome", reason="照片显示有排水").exists()


def test_other_county_cannot_check_or_decide(client_for, demo_user, campaign, point):
    response = post(client_for("yunzhou"), campaign, record(point))
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.decide_point(point, "not_outfall", user=demo_user("yunzhou"))
    with pytest.raises(PermissionDenied):
        services.decide_point(point, "not_outfall", user=demo_user("auditor"))
    assert client_for("yunzhou").get(reverse("survey:point_detail", args=[point.pk])).status_code == 404
    point.refresh_from_db()
    assert point.outcome == "pending"


def test_field_page_config_and_service_worker(client_for, campaign):
    client = client_for("pingcheng")
    response = client.get(reverse("survey:field_page", args=[campaign.pk]))
    assert response.status_code == 200
    config = response.context["config"]
    assert {p["outcome"] for p in config["points"]} <= {"pending", "escalated"}
    assert len(config["points"]) == campaign.points.filter(outcome__in=["pending", "escalated"]).count()
    assert all(
        o["id"] in set(Outfall.objects.filter(county=campaign.county).values_list("id", flat=True))
        for o in config["outfalls"]
    )
    assert 'capture="environment"' in response.content.decode()
    sw = client.get(reverse("survey:field_sw"))
    assert sw.status_code == 200 and sw["Content-Type"].startswith("application/javascript")
    assert "survey-field-v1" in sw.content.decode() and "{%" not in sw.content.decode()
    home = client.get(reverse("survey:field_home"))
    assert [c.county.code for c in home.context["campaigns"]] == ["140213"] * len(home.context["campaigns"])


def test_a_file_that_is_not_an_image_rejects_the_record_with_a_named_message(client_for, campaign, point):
    data = record(point)
    fake = SimpleUploadedFile("close.jpg", b"this is not a jpeg", content_type="image/jpeg")
    response = post(client_for("pingcheng"), campaign, data, [fake])
    assert response.status_code == 400
    assert "不是有效的图片" in "".join(response.json()["errors"]["照片"])
    assert not FieldCheck.objects.filter(client_uuid=data["client_uuid"]).exists()
    point.refresh_from_db()
    assert point.outcome == "pending"
