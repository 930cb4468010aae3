"""The monitoring REST API: a lab posts samples with a token (idempotent), stations are written through the
service, limits say why, findings carry their reason; errors in the API's one shape."""

import pytest
from django.test import Client

from outfalls.core.services import issue_token
from outfalls.monitoring.models import Finding, Sample, Station
from outfalls.registry.classification import Level2

from .helpers import new_outfall


@pytest.fixture
def api(demo_user):
    def client(username):
        key = issue_token(demo_user(username), name="lab")[1]
        return Client(HTTP_AUTHORIZATION=f"Token {key}")

    return client


def body(outfall, **extra):
    data = {
        "outfall": outfall.code,
        "source": "supervisory",
        "sampled_at": "2025-07-01T09:00:00+08:00",
        "lab": "某检测公司",
        "lab_sample_id": "API-1",
        "flow": 12.5,
        "flow_unit": "m3/h",
        "values": [
            {"parameter": "COD", "value": 65},
            {"parameter": "NH3N", "value": "0.02L"},
            {"parameter": "TP", "value": "250", "unit": "μg/L"},
        ],
    }
    data.update(extra)
    return data


def test_a_lab_posts_a_sample_with_its_token_and_posting_again_changes_nothing(api):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    lab = api("pingcheng")
    first = lab.post("/api/v1/samples/", body(outfall), content_type="application/json")
    assert first.status_code == 201, first.json()
    data = first.json()
    results = {r["parameter"]: r for r in data["results"]}
    assert results["TP"]["value_std"] == pytest.approx(0.25) and results["NH3N"]["shown"] == "<0.02"
    assert data["flow_m3h"] == 12.5
    assert Finding.objects.get(outfall=outfall, kind="exceedance").value == 65
    again = lab.post("/api/v1/samples/", body(outfall), content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    changed = lab.post(
        "/api/v1/samples/",
        body(outfall, values=[{"parameter": "COD", "value": 66}]),
        content_type="application/json",
    )
    assert changed.status_code == 400 and "已录入" in changed.json()["detail"]
    assert Sample.objects.filter(outfall=outfall).count() == 1


def test_bad_posts_get_the_error_shape(api):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP, county="140215")
    lab = api("pingcheng")
    other_county = lab.post("/api/v1/samples/", body(outfall), content_type="application/json")
    assert other_county.status_code == 403 and "不在您可录入" in other_county.json()["detail"]
    mine = new_outfall(Level2.MUNICIPAL_WWTP)
    wrong = lab.post(
        "/api/v1/samples/",
        body(mine, place=12, values=[{"parameter": "COD", "value": "abc"}], sampled_at="1900-01-01T00:00:00"),
        content_type="application/json",
    )
    errors = wrong.json()["errors"]
    assert wrong.status_code == 400 and {"place", "sampled_at"} <= set(errors)
    unreadable = lab.post(
        "/api/v1/samples/",
        body(mine, values=[{"parameter": "COD", "value": "abc"}]),
        content_type="application/json",
    )
    assert unreadable.status_code == 400 and "“abc”无法识别" in unreadable.json()["detail"]
    assert (
        api("auditor").post("/api/v1/samples/", body(mine), content_type="application/json").status_code
        == 403
    )


def test_stations_are_written_through_the_service(api):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    county = api("pingcheng")
    created = county.post(
        "/api/v1/stations/",
        {"code": "API-ST-1", "name": "接口站", "outfall": outfall.code, "mn": "APIMN000000000000000001"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    station = Station.objects.get(code="API-ST-1")
    assert created.json()["state"] == "never" and "password" not in created.json()
    duplicate = county.post(
        "/api/v1/stations/",
        {"code": "API-ST-2", "name": "重复", "outfall": outfall.code, "mn": "APIMN000000000000000001"},
        content_type="application/json",
    )
    assert duplicate.status_code == 400 and "mn" in duplicate.json()["errors"]
    patched = county.patch(
        f"/api/v1/stations/{station.pk}/", {"offline_after_minutes": 30}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["offline_after_minutes"] == 30
    assert (
        api("yunzhou")
        .patch(f"/api/v1/stations/{station.pk}/", {"name": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    section = county.post(
        "/api/v1/stations/",
        {"code": "API-ST-3", "name": "断面站", "section": 1},
        content_type="application/json",
    )
    assert section.status_code == 403


def test_limits_say_which_applies_and_why(api):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    data = api("bureau").get(f"/api/v1/limits/{outfall.pk}/").json()
    assert data["standard"] == "GB 18918-2002 一级A标准" and "城镇污水处理厂" in data["reason"]
    cod = next(row for row in data["limits"] if row["parameter"] == "COD")
    assert (cod["kind"], cod["upper"], cod["source"]) == ("daily_mean", 50, "rule")


def test_findings_filters(api):
    client = api("bureau")
    rows = client.get("/api/v1/exceedances/", {"kind": "chronic"}).json()["results"]
    assert rows and all(r["kind"] == "chronic" and r["reason"] for r in rows)
    assert client.get("/api/v1/exceedances/", {"kind": "nope"}).status_code == 400
    assert client.get("/api/v1/exceedances/", {"parameter": "XYZ"}).status_code == 400
