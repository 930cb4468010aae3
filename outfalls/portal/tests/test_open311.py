"""Open311 GeoReport v2 on the same reports: services, a request posted with a photo, routed and listed, a
request by id, filters, the reply as status_notes, Chinese errors, the same limits, and nothing private."""

import pytest
from django.urls import reverse

from outfalls.portal import services
from outfalls.portal.choices import ReportCategory
from outfalls.portal.models import Report

from .helpers import jpeg, public_outfall

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_services_are_the_report_categories(client):
    data = client.get(f"{BASE}services.json").json()
    assert [s["service_code"] for s in data] == list(ReportCategory.values)
    assert data[0]["service_name"] == "异味" and data[0]["metadata"] is False
    assert client.get("/open311/discovery.json").json()["endpoints"][0]["url"].endswith("/open311/v2")


def test_post_list_get_and_reply(client, demo_user):
    outfall = public_outfall(county__code="140213")
    response = client.post(
        f"{BASE}requests.json",
        {
            "service_code": "dead_fish",
            "lat": f"{outfall.lat:.6f}",
            "long": f"{outfall.lon + 0.0002:.6f}",
            "description": "河面漂着很多死鱼。",
            "phone": "13800000000",
            "last_name": "李",
            "media": jpeg(),
        },
    )
    assert response.status_code == 201, response.content
    code = response.json()[0]["service_request_id"]
    report = Report.objects.get(tracking_code=code)
    assert report.county.code == "140213" and not report.anonymous and report.contact_phone == "13800000000"
    assert report.category == "dead_fish"
    one = client.get(f"{BASE}requests/{code}.json").json()[0]
    assert one["status"] == "open" and one["agency_responsible"] == "平城区"
    assert one["lat"] == round(report.lat, 3)
    text = client.get(f"{BASE}requests.json").content.decode()
    for private in ("13800000000", "李", "河面漂着很多死鱼", f"{report.lat:.6f}"):
        assert private not in text
    services.reply_report(report, user=demo_user("pingcheng"), reply="已打捞并溯源，系上游企业事故排放。")
    one = client.get(f"{BASE}requests/{code}.json").json()[0]
    assert one["status"] == "closed" and "上游企业事故排放" in one["status_notes"]
    assert [
        r["service_request_id"] for r in client.get(f"{BASE}requests.json", {"status": "closed"}).json()
    ] == [code]
    assert client.get(f"{BASE}requests.json", {"status": "open", "service_code": "dead_fish"}).json() == []
    assert client.get(f"{BASE}requests.json", {"start_date": "2999-01-01"}).json() == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({"service_code": "nope"}, "service_code"),
        ({"service_code": "odour", "lat": "40.1"}, "lat 和 long 须同时提供"),
        ({"service_code": "odour", "lat": "x", "long": "113.3"}, "lat"),
        (
            {"service_code": "odour", "lat": "30", "long": "100", "description": "有很大的臭味"},
            "不在本市范围内",
        ),
        ({"service_code": "odour", "lat": "40.09", "long": "113.29", "description": ""}, "请描述"),
    ],
)
def test_post_errors_are_open311_errors_in_chinese(client, params, message):
    response = client.post(f"{BASE}requests.json", params)
    assert response.status_code == 400
    body = response.json()
    assert body[0]["code"] == 400 and message in body[0]["description"]
    assert not Report.objects.exists()


def test_get_errors_and_unknown_ids(client):
    assert client.get(f"{BASE}requests.json", {"status": "maybe"}).status_code == 400
    assert client.get(f"{BASE}requests.json", {"start_date": "yesterday"}).status_code == 400
    assert client.get(f"{BASE}requests.json", {"bogus": "1"}).status_code == 400
    missing = client.get(f"{BASE}requests/JBNOTHERE.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_posting_is_limited_per_address(client, settings):
    settings.PORTAL_REPORT_LIMIT_PER_HOUR = 3
    outfall = public_outfall(county__code="140213")
    params = {
        "service_code": "odour",
        "lat": outfall.lat,
        "long": outfall.lon,
        "description": "有很大的臭味。",
    }
    codes = [client.post(f"{BASE}requests.json", params).status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert "12369" in client.post(f"{BASE}requests.json", params).json()[0]["description"]


def test_open311_on_the_portal_host(client, settings):
    settings.PORTAL_HOST = "hpk.example.gov.cn"
    settings.ALLOWED_HOSTS = ["hpk.example.gov.cn", "testserver"]
    assert client.get(f"{BASE}services.json", HTTP_HOST="hpk.example.gov.cn").status_code == 200
    assert reverse("open311:requests") == f"{BASE}requests.json"
