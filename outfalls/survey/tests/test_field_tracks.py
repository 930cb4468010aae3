"""Walked tracks sent by the phone: stored once per client UUID, checked, scoped."""

import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from outfalls.registry.models import WaterBody
from outfalls.survey import services
from outfalls.survey.models import Campaign, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return Campaign.objects.filter(county__code="140213").order_by("pk").first()


def track_record(campaign, **extra):
    river = campaign.water_bodies.get(name="御河")
    data = {
        "client_uuid": str(uuid.uuid4()),
        "water_body": river.pk,
        "bank": "left",
        "recorded_at": "2023-04-21T01:00:00Z",
        "coordinates": [[113.3001, 40.0801], [113.3003, 40.0805], [113.3006, 40.0810]],
    }
    data.update(extra)
    return data


def post(client, campaign, data):
    return client.post(reverse("survey:field_track", args=[campaign.pk]), {"record": json.dumps(data)})


def test_track_stored_once_per_uuid(client_for, campaign):
    client = client_for("pingcheng")
    data = track_record(campaign)
    first = post(client, campaign, data)
    assert first.status_code == 201, first.content
    track = Track.objects.get(client_uuid=data["client_uuid"])
    assert track.campaign == campaign and track.bank == "left" and track.recorded_by.username == "pingcheng"
    assert track.geometry == {"type": "LineString", "coordinates": data["coordinates"]}
    second = post(client, campaign, data)
    assert second.status_code == 200 and second.json()["id"] == track.pk
    assert Track.objects.filter(client_uuid=data["client_uuid"]).count() == 1


def test_track_needs_two_points_valid_coordinates_and_a_campaign_river(client_for, campaign):
    client = client_for("pingcheng")
    response = post(client, campaign, track_record(campaign, coordinates=[[113.3, 40.08]]))
    assert response.status_code == 400 and "至少需要两个定位点" in "".join(response.json()["errors"]["轨迹"])
    response = post(client, campaign, track_record(campaign, coordinates=[[113.3, 40.08], [40.08, 113.3]]))
    assert response.status_code == 400 and "第 2 个定位点" in "".join(response.json()["errors"]["轨迹"])
    other = WaterBody.objects.exclude(pk__in=campaign.water_bodies.values("pk")).first()
    response = post(client, campaign, track_record(campaign, water_body=other.pk))
    assert response.status_code == 400 and "河流" in response.json()["errors"]
    assert not Track.objects.filter(recorded_by__username="pingcheng").exists()


def test_other_county_cannot_send_tracks(client_for, demo_user, campaign):
    assert post(client_for("yunzhou"), campaign, track_record(campaign)).status_code == 404
    data = track_record(campaign)
    data["water_body"] = campaign.water_bodies.get(name="御河")
    with pytest.raises(PermissionDenied):
        services.submit_track(campaign, data, user=demo_user("yunzhou"))
    with pytest.raises(ValidationError):
        services.submit_track(campaign, {**data, "coordinates": "not a list"}, user=demo_user("pingcheng"))
