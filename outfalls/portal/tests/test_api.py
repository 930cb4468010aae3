"""Citizen reports through the REST API (/api/v1/citizen-reports/), as a handler's client would use it: the
scope of every demo role in the list, the detail and the counts; the reporter's contact only where the page
shows it; each handling step through the page's service (status and status-change rows); merge, tracing case
and field point; a step by a role that may not handle the report refused; bad input a 400 naming the field."""

import pytest

from outfalls.core.services import status_changes_for
from outfalls.portal import services
from outfalls.portal.choices import ReportStatus
from outfalls.portal.models import Report
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall
from outfalls.survey.models import Campaign, SuspectedPoint, TracingCase

from .helpers import jpeg, public_outfall

pytestmark = pytest.mark.django_db
PINGCHENG, YUNZHOU = "140213", "140215"
URL = "/api/v1/citizen-reports/"
JSON = "application/json"
PRIVATE = ("张先生PRIVATE", "13912345678")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def submit(outfall=None, client_key="k", **extra):
    data = {"category": "colour", "description": "河边排口在排黄色的水。", "anonymous": True, **extra}
    if outfall is not None and "lon" not in extra:
        data.update(lon=outfall.lon + 0.0001, lat=outfall.lat, outfall_code=outfall.code)
    return services.submit_report(data, [jpeg()], client_key=client_key)


@pytest.fixture
def reports():
    """One report in 平城区 on an urban storm outfall (routed to 平城区 and 市城市管理局, with the reporter's
    contact), one in 云州区 (anonymous)."""
    routed = submit(
        public_outfall(county__code=PINGCHENG, type_level2="urban_storm"),
        anonymous=False,
        contact_name=PRIVATE[0],
        contact_phone=PRIVATE[1],
    )
    other = submit(public_outfall(county__code=YUNZHOU, type_code="GY"), client_key="y")
    return routed, other


@pytest.fixture
def post(client_for):
    def send(username, url, body=None):
        return client_for(username).post(url, body or {}, content_type=JSON)

    return send


SEES = {
    "city_admin": {"routed", "other"},
    "bureau": {"routed", "other"},
    "auditor": {"routed", "other"},
    "pingcheng": {"routed"},
    "yunzhou": {"other"},
    "chengguan": {"routed"},
    "enterprise": set(),
    "river_chief": set(),
}
HANDLES_ROUTED = {"city_admin", "bureau", "pingcheng", "chengguan"}


@pytest.mark.parametrize("username", list(SEES))
def test_each_role_sees_and_handles_its_own(client_for, reports, username):
    routed, other = reports
    client = client_for(username)
    by_name = {"routed": routed, "other": other}
    listing = client.get(URL).json()
    codes = {r["tracking_code"] for r in listing["results"]}
    for name, report in by_name.items():
        detail = client.get(f"{URL}{report.pk}/")
        if name in SEES[username]:
            assert report.tracking_code in codes and detail.status_code == 200
        else:
            assert report.tracking_code not in codes and detail.status_code == 404
    # The counts are of the caller's reports only (the list's and the open filter's).
    mine = {by_name[n].tracking_code for n in SEES[username]}
    assert codes == mine and listing["count"] == len(mine)
    assert client.get(URL, {"status": "open"}).json()["count"] == len(mine)
    response = client.post(f"{URL}{routed.pk}/investigate/", {}, content_type=JSON)
    routed.refresh_from_db()
    if username in HANDLES_ROUTED:
        assert response.status_code == 200 and response.json()["status"] == "investigating"
        assert routed.status == ReportStatus.INVESTIGATING
    else:
        # Seen but not handled (the auditor): 403 with the service's message; not seen: 404.
        assert response.status_code == (403 if "routed" in SEES[username] else 404)
        assert routed.status == ReportStatus.RECEIVED
        if response.status_code == 403:
            assert response.json()["detail"] == "该举报不在您的办理范围内。"


def test_the_reporters_contact_only_where_the_page_shows_it(client_for, reports):
    routed, other = reports
    for username in ("pingcheng", "chengguan", "auditor"):  # the page's 举报人 line shows it to them
        client = client_for(username)
        listing = client.get(URL).content.decode()
        assert not any(p in listing for p in PRIVATE)  # never in the list (the to-do list does not show it)
        detail = client.get(f"{URL}{routed.pk}/").json()
        assert (detail["anonymous"], detail["contact_name"], detail["contact_phone"]) == (False, *PRIVATE)
    anonymous = client_for("bureau").get(f"{URL}{other.pk}/").json()
    assert (anonymous["anonymous"], anonymous["contact_name"], anonymous["contact_phone"]) == (
        True,
        None,
        None,
    )
    for body in (client_for("bureau").get(URL).json()["results"][0], anonymous):
        assert not {"client_key", "device_key", "share_photo_position"} & set(body)
    for username in ("yunzhou", "enterprise", "river_chief"):  # not theirs: nothing at all
        assert not any(p in client_for(username).get(URL).content.decode() for p in PRIVATE)


def test_the_steps_through_the_api_are_the_pages(client_for, post, reports):
    routed, _ = reports
    url = f"{URL}{routed.pk}/"
    detail = client_for("pingcheng").get(url).json()
    assert detail["editable"] and set(detail["steps"]) == {"assigned", "investigating", "answered"}
    assert client_for("auditor").get(url).json()["steps"] == []

    missing = post("pingcheng", url + "assign/", {"assignee": "  "})
    assert missing.status_code == 400 and "assignee" in missing.json()["errors"]
    assert "承办" in missing.json()["detail"]
    too_long = post("pingcheng", url + "assign/", {"assignee": "队" * 65})
    assert too_long.status_code == 400 and "assignee" in too_long.json()["errors"]
    assigned = post("pingcheng", url + "assign/", {"assignee": "平城区执法大队", "note": "请三日内到场"})
    assert assigned.status_code == 200, assigned.json()
    assert (assigned.json()["status"], assigned.json()["assignee"]) == ("assigned", "平城区执法大队")
    assert post("chengguan", url + "investigate/", {"note": "已到现场"}).json()["status"] == "investigating"

    short = post("pingcheng", url + "reply/", {"reply": "已查"})
    assert short.status_code == 400 and "答复" in short.json()["errors"]["reply"][0]
    early = post("pingcheng", url + "close/")
    assert early.status_code == 400 and "status" in early.json()["errors"]  # 办结 only after the reply
    replied = post("pingcheng", url + "reply/", {"reply": "经查，系雨水管网混接，已责令整改。"})
    assert replied.status_code == 200 and replied.json()["status"] == "answered"
    assert replied.json()["replied_at"] and replied.json()["steps"] == ["closed", "investigating"]
    closed = post("pingcheng", url + "close/", {"note": "整改完成"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["steps"] == []
    again = post("pingcheng", url + "investigate/")
    assert again.status_code == 400 and "已办结" in again.json()["detail"]

    steps = [r.to_value for r in reversed(status_changes_for(routed))]
    assert steps == ["received", "assigned", "investigating", "answered", "closed"]
    history = closed.json()["history"]
    assert [h["to_value"] for h in history] == list(reversed(steps))
    assert history[0]["reason"] == "整改完成" and history[-1]["who"] == "系统"
    assert history[-2]["reason"] == "分派给平城区执法大队：请三日内到场"


def test_merge_into_a_suggested_duplicate(client_for, post, reports):
    routed, other = reports
    outfall = Outfall.objects.get(pk=routed.outfall_id)
    second = submit(outfall, client_key="second")  # a few metres away, the same day: the same problem
    url = f"{URL}{second.pk}/"
    duplicates = client_for("pingcheng").get(url).json()["duplicates"]
    assert [d["id"] for d in duplicates] == [routed.pk] and duplicates[0]["distance_m"] < 50

    outside = post("pingcheng", url + "merge/", {"into": other.pk})  # 云州区's: not one the county sees
    assert outside.status_code == 400 and "into" in outside.json()["errors"]
    itself = post("pingcheng", url + "merge/", {"into": second.pk})
    assert itself.status_code == 400 and "自身" in itself.json()["detail"]
    merged = post("pingcheng", url + "merge/", {"into": routed.pk, "note": "同一排口"})
    assert merged.status_code == 200, merged.json()
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", routed.pk)
    assert merged.json()["merged_into_code"] == routed.tracking_code
    second.refresh_from_db()
    assert second.status == ReportStatus.MERGED and second.merged_into_id == routed.pk
    assert post("auditor", url + "merge/", {"into": routed.pk}).status_code == 403


def test_a_report_opens_a_tracing_case_or_a_field_point(client_for, post, reports):
    routed, _ = reports
    no_verified_outfall = post("pingcheng", f"{URL}{routed.pk}/tracing-case/")
    assert no_verified_outfall.status_code == 400 and "outfall" in no_verified_outfall.json()["errors"]

    verified = (
        Outfall.objects.filter(
            county__code=PINGCHENG, status=LifecycleStatus.VERIFIED, tracing_case__isnull=True
        )
        .order_by("code")
        .first()
    )
    report = submit(lon=verified.lon, lat=verified.lat, client_key="t")
    Report.objects.filter(pk=report.pk).update(outfall=verified)
    url = f"{URL}{report.pk}/"
    opened = post("pingcheng", url + "tracing-case/")
    assert opened.status_code == 201, opened.json()
    assert TracingCase.objects.get(pk=opened.json()["tracing_case"]).outfall == verified
    assert opened.json()["report"]["history"][0]["to_value"] == "tracing_case"

    campaigns = client_for("pingcheng").get(url).json()["field_point_campaigns"]
    campaign = Campaign.objects.get(pk=campaigns[0]["id"])
    assert campaign.county.code == PINGCHENG
    elsewhere = Campaign.objects.exclude(county__code=PINGCHENG).first()
    refused = post("pingcheng", url + "field-point/", {"campaign": elsewhere.pk})
    assert refused.status_code == 400 and "campaign" in refused.json()["errors"]
    point = post("pingcheng", url + "field-point/", {"campaign": campaign.pk})
    assert point.status_code == 201, point.json()
    created = SuspectedPoint.objects.get(pk=point.json()["suspected_point"])
    assert (created.campaign, created.source, created.number) == (campaign, "report", point.json()["number"])
    twice = post("pingcheng", url + "field-point/", {"campaign": campaign.pk})
    assert twice.status_code == 400 and "已是" in twice.json()["detail"]


def test_filters_are_strict_and_scoped(client_for, reports):
    routed, other = reports
    bureau = client_for("bureau")

    def codes(response):
        return {r["tracking_code"] for r in response.json()["results"]}

    assert codes(bureau.get(URL, {"county": YUNZHOU})) == {other.tracking_code}
    assert codes(bureau.get(URL, {"q": routed.tracking_code})) == {routed.tracking_code}
    assert codes(bureau.get(URL, {"department": routed.department_id})) == {routed.tracking_code}
    assert codes(bureau.get(URL, {"overdue": "false", "category": "colour"})) == {
        routed.tracking_code,
        other.tracking_code,
    }
    assert bureau.get(URL, {"status": "closed"}).json()["count"] == 0
    county = client_for("pingcheng")
    for params, name in (
        ({"county": YUNZHOU}, "county"),  # another county's code
        ({"status": "nope"}, "status"),
        ({"overdue": "xyz"}, "overdue"),
        ({"stauts": "open"}, "stauts"),
    ):
        response = county.get(URL, params)
        assert response.status_code == 400 and name in response.json()["errors"], params


def test_the_list_reads_a_fixed_number_of_queries(client_for, reports, django_assert_max_num_queries):
    for n in range(6):
        submit(public_outfall(county__code=PINGCHENG), client_key=f"q{n}")
    client = client_for("bureau")
    with django_assert_max_num_queries(8):
        assert client.get(URL).json()["count"] >= 8
