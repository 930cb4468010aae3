"""巡河: track files from phones, who may record where, findings and their follow-ups, scope for every role,
and coverage per river and month."""

import json
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from outfalls.core.choices import FollowUp
from outfalls.core.models import Jurisdiction, StatusChange
from outfalls.core.services import attachments_for, issue_token
from outfalls.geo import tracks as tracks_geo
from outfalls.portal.tests.helpers import jpeg
from outfalls.registry.models import Outfall, WaterBody
from outfalls.supervision import patrols, services
from outfalls.supervision.choices import CaseKind, CaseSource
from outfalls.supervision.models import Patrol

pytestmark = pytest.mark.django_db
ROLES = ["city_admin", "bureau", "auditor", "pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief"]


def today():
    return timezone.localdate()


def river_line(code="YUH01", points=40):
    river = WaterBody.objects.get(code=code)
    coords = max(tracks_geo.track_lines(river.geometry), key=len)
    return river, [[round(c[0], 7), round(c[1], 7)] for c in coords[:points]]


def gpx(lines):
    segments = "".join(
        "<trkseg>"
        + "".join(f'<trkpt lat="{lat}" lon="{lon}"><ele>1000</ele></trkpt>' for lon, lat in line)
        + "</trkseg>"
        for line in lines
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="phone" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>巡河</name>{segments}</trk></gpx>'
    ).encode()


# Track files ---------------------------------------------------------------------------------------------------
def test_track_files_from_phones_are_read_and_bad_ones_named():
    lines = [[[113.30, 40.08], [113.31, 40.09]], [[113.32, 40.10], [113.33, 40.11], [113.34, 40.12]]]
    assert tracks_geo.read_track_file("巡河.gpx", gpx(lines)) == lines
    kml = (
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><LineString><coordinates>'
        b"113.30,40.08,0 113.31,40.09,0</coordinates></LineString></Placemark>"
        b"<Placemark><Point><coordinates>113.5,40.5</coordinates></Point></Placemark></kml>"
    )
    assert tracks_geo.read_track_file("track.KML", kml) == [lines[0]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "MultiLineString", "coordinates": lines},
        "properties": {},
    }
    document = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    assert tracks_geo.read_track_file("t.geojson", document) == lines
    bomb = b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>'
    with pytest.raises(tracks_geo.TrackError, match="文档类型声明"):
        tracks_geo.read_track_file("bomb.gpx", bomb)
    with pytest.raises(tracks_geo.TrackError, match="第 2 个定位点"):
        tracks_geo.read_track_file("far.gpx", gpx([[[113.3, 40.08], [13.3, 40.08]]]))
    with pytest.raises(tracks_geo.TrackError, match="没有找到轨迹线"):
        tracks_geo.read_track_file("empty.gpx", gpx([]))
    with pytest.raises(tracks_geo.TrackError, match="不支持"):
        tracks_geo.read_track_file("track.exe", b"MZ")
    with pytest.raises(tracks_geo.TrackError, match="不是有效的 GPX"):
        tracks_geo.read_track_file("broken.gpx", b"<gpx><trk>")
    many = [[113.3 + i * 1e-5, 40.08] for i in range(tracks_geo.MAX_TRACK_POINTS + 1)]
    with pytest.raises(tracks_geo.TrackError, match="最多"):
        tracks_geo.read_track_file("long.gpx", gpx([many]))


# Recording -----------------------------------------------------------------------------------------------------
def test_a_river_chief_records_patrols_on_their_own_river(demo_user):
    chief = demo_user("river_chief")
    river, line = river_line()
    county = Jurisdiction.objects.get(code="140213")
    patrol = patrols.record_patrol(
        user=chief, water_body=river, county=county, patrolled_on=today(), lines=[line], participants="孙工"
    )
    assert patrol.track["type"] == "LineString" and patrol.track_km > 0
    other = WaterBody.objects.exclude(pk=river.pk).order_by("code").first()
    with pytest.raises(ValidationError) as refused:
        patrols.record_patrol(
            user=chief, water_body=other, county=county, patrolled_on=today() + timedelta(days=1)
        )
    assert set(refused.value.message_dict) == {"water_body", "patrolled_on"}
    with pytest.raises(PermissionDenied):
        patrols.record_patrol(
            user=demo_user("auditor"), water_body=river, county=county, patrolled_on=today()
        )
    with pytest.raises(ValidationError, match="县区"):
        patrols.record_patrol(
            user=demo_user("pingcheng"),
            water_body=river,
            county=Jurisdiction.objects.get(code="140215"),
            patrolled_on=today(),
        )


def test_findings_need_a_place_and_only_the_patrol_s_people_add_them(demo_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    chief = demo_user("river_chief")
    river, line = river_line()
    patrol = patrols.record_patrol(
        user=chief, water_body=river, county=Jurisdiction.objects.get(code="140213"), patrolled_on=today()
    )
    with pytest.raises(ValidationError) as refused:
        patrols.add_finding(patrol, user=chief, description="短")
    assert set(refused.value.message_dict) == {"description", "outfall"}
    with pytest.raises(PermissionDenied):
        patrols.add_finding(
            patrol, user=demo_user("yunzhou"), description="别的县区来登记问题。", lon=113.3, lat=40.1
        )
    outfall = Outfall.objects.filter(water_body=river).order_by("code").first()
    finding = patrols.add_finding(
        patrol, user=chief, description="排口出水发黑，有异味。", outfall=outfall, photos=[jpeg("排口.jpg")]
    )
    assert finding.county_id == outfall.county_id
    point = patrols.add_finding(
        patrol, user=demo_user("pingcheng"), description="岸边新发现一处暗管。", lon=113.3, lat=40.08
    )
    assert point.outfall is None and point.county_id == patrol.county_id


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_patrols_its_scope_allows(demo_user, client_for, role):
    river, line = river_line()
    patrol = patrols.record_patrol(
        user=demo_user("river_chief"),
        water_body=river,
        county=Jurisdiction.objects.get(code="140213"),
        patrolled_on=today(),
        lines=[line],
    )
    expected = role in ("city_admin", "bureau", "auditor", "pingcheng", "river_chief")
    assert Patrol.objects.visible_to(demo_user(role)).filter(pk=patrol.pk).exists() == expected
    editable = role in ("city_admin", "bureau", "pingcheng", "river_chief")
    assert Patrol.objects.editable_by(demo_user(role)).filter(pk=patrol.pk).exists() == editable
    page = client_for(role).get(f"/supervision/patrols/{patrol.pk}/")
    assert page.status_code == (200 if expected else 404)
    listed = client_for(role).get("/supervision/patrols/")
    assert (patrol in listed.context["object_list"]) == expected


# Pages ---------------------------------------------------------------------------------------------------------
def test_the_patrol_form_takes_a_gpx_file_and_keeps_what_was_typed_on_refusal(client_for):
    river, line = river_line()
    client = client_for("river_chief")
    data = {
        "water_body": river.pk,
        "county": Jurisdiction.objects.get(code="140213").pk,
        "patrolled_on": today().isoformat(),
        "participants": "孙工、王师傅",
        "note": "沿河巡查一遍。",
    }
    bad = SimpleUploadedFile("轨迹.gpx", gpx([[line[0], [13.3, 40.0]]]))
    response = client.post("/supervision/patrols/new/", {**data, "track_file": bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "第 2 个定位点" in body and "孙工、王师傅" in body and "沿河巡查一遍。" in body
    good = SimpleUploadedFile("轨迹.gpx", gpx([line]))
    response = client.post("/supervision/patrols/new/", {**data, "track_file": good})
    assert response.status_code == 302
    patrol = Patrol.objects.get(participants="孙工、王师傅")
    assert patrol.track["coordinates"] == line
    page = client.get(response["Location"]).content.decode()
    assert "patrol-map-config" in page and "公里" in page


def test_a_finding_opens_an_enforcement_case_with_its_photo(client_for, demo_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    river, _ = river_line()
    chief = demo_user("river_chief")
    patrol = patrols.record_patrol(
        user=chief, water_body=river, county=Jurisdiction.objects.get(code="140213"), patrolled_on=today()
    )
    outfall = Outfall.objects.filter(water_body=river, county__code="140213").order_by("code").first()
    finding = patrols.add_finding(
        patrol, user=chief, description="雨后排口排出大量泥浆水。", outfall=outfall, photos=[jpeg()]
    )
    client = client_for("pingcheng")
    assert (
        f"source=patrol&amp;id={finding.pk}"
        in client.get(f"/supervision/patrols/{patrol.pk}/").content.decode()
    )
    form = client.get("/supervision/cases/new/", {"source": "patrol", "id": finding.pk})
    assert form.context["form"].initial["outfall_codes"] == outfall.code
    officer = demo_user("pingcheng")
    source = services.source_object(CaseSource.PATROL, finding.pk, officer)
    case = services.open_case(
        user=officer,
        kind=CaseKind.RAIN_DUMPING,
        county=outfall.county,
        summary=form.context["form"].initial["summary"],
        opened_on=today(),
        outfalls=[outfall],
        source=CaseSource.PATROL,
        source_obj=source,
    )
    assert len(attachments_for(case)) == 1
    assert StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(finding),
        object_id=finding.pk,
        to_value=FollowUp.ENFORCEMENT_CASE,
    ).exists()
    assert case.number in client.get(f"/supervision/patrols/{patrol.pk}/").content.decode()


# Coverage ------------------------------------------------------------------------------------------------------
def test_coverage_counts_a_stretch_walked_twice_once(demo_user, client_for):
    chief = demo_user("river_chief")
    river, line = river_line(points=60)
    county = Jurisdiction.objects.get(code="140213")
    first = today().replace(day=1)
    year = first.year
    before = {r.water_body.pk: r for r in patrols.coverage(chief, year)}.get(river.pk)
    month = first.month
    for _ in range(2):
        patrols.record_patrol(user=chief, water_body=river, county=county, patrolled_on=first, lines=[line])
    once = patrols.record_patrol(
        user=chief, water_body=river, county=county, patrolled_on=first, lines=[line[: len(line) // 2]]
    )
    row = {r.water_body.pk: r for r in patrols.coverage(chief, year)}[river.pk]
    assert row.patrols[month] == (before.patrols.get(month, 0) if before else 0) + 3
    walked = row.walked_km[month]
    assert walked <= row.river_km and 0 < row.percent(month) <= 100
    single = patrols.record_patrol(
        user=chief, water_body=river, county=county, patrolled_on=first, lines=[line]
    )
    assert abs(patrols.coverage(chief, year)[0].walked_km[month] - walked) < 0.01  # the same stretch again
    assert once.track_km < single.track_km
    # A county officer elsewhere sees none of it.
    assert all(r.water_body.pk != river.pk for r in patrols.coverage(demo_user("yunzhou"), year))
    page = client_for("river_chief").get("/supervision/patrols/coverage/", {"year": year})
    assert page.status_code == 200 and f"cell-{river.code}-{month}" in page.content.decode()
    assert client_for("river_chief").get("/supervision/patrols/coverage/", {"year": "abc"}).status_code == 400


def test_the_api_records_a_patrol_and_its_findings_within_scope(client, demo_user):
    _, key = issue_token(demo_user("river_chief"), name="test")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    river, line = river_line()
    response = client.post(
        "/api/v1/patrols/",
        {
            "water_body": river.pk,
            "county": Jurisdiction.objects.get(code="140213").pk,
            "patrolled_on": today().isoformat(),
            "participants": "孙工",
            "track": {"type": "LineString", "coordinates": line},
        },
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201, response.content
    patrol = response.json()
    assert patrol["track_km"] > 0 and patrol["findings"] == []
    outfall = Outfall.objects.filter(water_body=river).order_by("code").first()
    found = client.post(
        f"/api/v1/patrols/{patrol['id']}/findings/",
        {"outfall": outfall.pk, "description": "排口出水发黑。"},
        content_type="application/json",
        **headers,
    )
    assert found.status_code == 200 and found.json()["findings"][0]["outfall_code"] == outfall.code
    bad = client.post(
        "/api/v1/patrols/",
        {
            "water_body": river.pk,
            "county": Jurisdiction.objects.get(code="140213").pk,
            "patrolled_on": today().isoformat(),
            "track": {"type": "Point", "coordinates": [113.3, 40.1]},
        },
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 400 and "track" in bad.json()["errors"]
    # Another county's officer neither sees it nor adds to it.
    _, other = issue_token(demo_user("yunzhou"), name="test")
    assert (
        client.get(f"/api/v1/patrols/{patrol['id']}/", HTTP_AUTHORIZATION=f"Token {other}").status_code == 404
    )
    listed = client.get("/api/v1/patrols/", HTTP_AUTHORIZATION=f"Token {other}").json()
    assert patrol["id"] not in {p["id"] for p in listed["results"]}
