"""Level-1 point import: CSV (UTF-8, GBK, DMS, GCJ-02), GeoJSON, KML; all or nothing; re-import adds nothing."""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from outfalls.geo.coords import format_dms, gcj02_to_wgs84, wgs84_to_gcj02
from outfalls.registry.models import Outfall
from outfalls.survey.models import Campaign, PointImport, SuspectedPoint
from outfalls.survey.point_import import import_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return Campaign.objects.filter(county__code="140213").order_by("pk").first()


@pytest.fixture
def inside():
    """Three positions inside 平城区 (next to its demo outfalls)."""
    rows = Outfall.objects.filter(county__code="140213").order_by("code")[:3]
    return [(round(o.lon + 0.0003, 6), round(o.lat + 0.0002, 6)) for o in rows]


def upload(text, name, encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding))


def run(campaign, user, text, name, encoding="utf-8", **kwargs):
    return import_points(campaign, upload(text, name, encoding), user=user, filename=name, **kwargs)


def test_csv_utf8_imports_and_reimport_creates_nothing(campaign, inside, demo_user):
    user = demo_user("pingcheng")
    text = "编号,经度,纬度,说明\n" + "\n".join(
        f"T-{i},{lon},{lat},疑似口{i}" for i, (lon, lat) in enumerate(inside)
    )
    before = campaign.points.count()
    result = run(campaign, user, text, "points.csv")
    assert result.errors == []
    assert len(result.created) == 3 and campaign.points.count() == before + 3
    point = campaign.points.get(number="T-0")
    assert (
        (point.lon, point.lat) == inside[0] and point.description == "疑似口0" and point.outcome == "pending"
    )
    assert point.imported_in.points_created == 3

    again = run(campaign, user, text, "points.csv")
    assert again.ok and again.created == [] and sorted(again.skipped) == ["T-0", "T-1", "T-2"]
    assert campaign.points.count() == before + 3


def test_csv_gbk_with_dms_coordinates(campaign, inside, demo_user):
    lines = ["点位编号,经度,纬度,说明"]
    for i, (lon, lat) in enumerate(inside):
        lines.append(f"G-{i},{format_dms(lon, 'lon', 3)},{format_dms(lat, 'lat', 3)},河岸排水口")
    result = run(campaign, demo_user("pingcheng"), "\n".join(lines), "gbk.csv", encoding="gbk")
    assert result.errors == []
    point = campaign.points.get(number="G-1")
    assert abs(point.lon - inside[1][0]) < 1e-5 and abs(point.lat - inside[1][1]) < 1e-5
    assert point.description == "河岸排水口"


def test_csv_declared_gcj02_is_converted(campaign, inside, demo_user):
    lon, lat = inside[0]
    shifted = wgs84_to_gcj02(lon, lat)
    text = f"编号,lon,lat\nGCJ-1,{shifted[0]:.7f},{shifted[1]:.7f}\n"
    result = run(campaign, demo_user("pingcheng"), text, "gcj.csv", crs="gcj02")
    assert result.errors == []
    point = campaign.points.get(number="GCJ-1")
    expected = gcj02_to_wgs84(round(shifted[0], 7), round(shifted[1], 7))
    assert abs(point.lon - expected[0]) < 1e-6 and abs(point.lat - expected[1]) < 1e-6
    assert abs(point.lon - lon) < 1e-5  # back where it was, not ~500 m off


def test_geojson_and_kml(campaign, inside, demo_user):
    user = demo_user("pingcheng")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"编号": f"J-{i}", "说明": "遥感"},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
            for i, (lon, lat) in enumerate(inside[:2])
        ],
    }
    result = run(
        campaign, user, json.dumps(collection, ensure_ascii=False), "points.geojson", source="remote_sensing"
    )
    assert result.errors == []
    assert set(campaign.points.filter(number__startswith="J-").values_list("source", flat=True)) == {
        "remote_sensing"
    }

    placemarks = "".join(
        f"<Placemark><name>K-{i}</name><Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>"
        for i, (lon, lat) in enumerate(inside)
    )
    kml = f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>{placemarks}</Document></kml>'
    result = run(campaign, user, kml, "uav.kml")
    assert result.errors == [], result.errors
    point = campaign.points.get(number="K-2")
    assert abs(point.lon - inside[2][0]) < 1e-6 and abs(point.lat - inside[2][1]) < 1e-6


def test_geojson_in_gcj02_is_shifted_and_an_unknown_crs_is_refused(campaign, inside, demo_user):
    user = demo_user("pingcheng")
    lon, lat = inside[0]
    shifted = wgs84_to_gcj02(lon, lat)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "G-1"},
                "geometry": {"type": "Point", "coordinates": shifted},
            },
            {
                "type": "Feature",
                "properties": {"name": "G-2"},
                "geometry": {"type": "LineString", "coordinates": [list(shifted), [lon + 0.001, lat]]},
            },
        ],
    }
    result = run(campaign, user, json.dumps(collection), "gcj.geojson", crs="gcj02")
    assert result.errors == ["第 2 个要素（编号 G-2）“几何”：须为点，实际为 LineString。"]
    assert not campaign.points.filter(number__startswith="G-").exists()

    collection["features"].pop()
    result = run(campaign, user, json.dumps(collection), "gcj.geojson", crs="gcj02")
    assert result.errors == [], result.errors
    point = campaign.points.get(number="G-1")
    assert abs(point.lon - lon) < 1e-5 and abs(point.lat - lat) < 1e-5

    before = campaign.points.count()
    result = run(campaign, user, f"编号,经度,纬度\nE-1,{lon},{lat}\n", "epsg.csv", crs="EPSG:4547")
    assert not result.ok and "坐标系“epsg:4547”无效" in result.errors[0]
    assert campaign.points.count() == before


def test_bad_row_writes_nothing_and_names_row_and_field(campaign, inside, demo_user):
    before = (SuspectedPoint.objects.count(), PointImport.objects.count())
    (lon0, lat0), (lon1, _), (lon2, lat2) = inside
    text = f"编号,经度,纬度\nB-1,{lon0},{lat0}\nB-2,{lon1},北纬九十九度\nB-3,{lon2},{lat2}\n"
    result = run(campaign, demo_user("pingcheng"), text, "bad.csv")
    assert not result.ok
    assert any(e.startswith("第 3 行") and "纬度" in e and "B-2" in e for e in result.errors), result.errors
    assert (SuspectedPoint.objects.count(), PointImport.objects.count()) == before

    text = f"编号,经度,纬度\nB-1,{lon0},{lat0}\n,{lon2},{lat2}\n"
    result = run(campaign, demo_user("pingcheng"), text, "blank.csv")
    assert any(e.startswith("第 3 行") and "编号" in e for e in result.errors)
    assert SuspectedPoint.objects.count() == before[0]


def test_point_outside_the_county_is_an_error(campaign, inside, demo_user):
    elsewhere = Outfall.objects.filter(county__code="140215").order_by("code").first()
    lon0, lat0 = inside[0]
    text = f"编号,经度,纬度\nO-1,{lon0},{lat0}\nO-2,{elsewhere.lon},{elsewhere.lat}\n"
    result = run(campaign, demo_user("pingcheng"), text, "outside.csv")
    assert any("第 3 行" in e and "不在平城区范围内" in e for e in result.errors), result.errors
    assert not campaign.points.filter(number__startswith="O-").exists()


def test_duplicate_numbers_in_file_and_unknown_river(campaign, inside, demo_user):
    (lon0, lat0), (lon1, lat1) = inside[:2]
    text = (
        f"编号,经度,纬度,河流\nD-1,{lon0},{lat0},御河\nD-1,{lon1},{lat1},御河\nD-2,{lon1},{lat1},不存在河\n"
    )
    result = run(campaign, demo_user("pingcheng"), text, "dup.csv")
    assert any("第 3 行" in e and "重复" in e for e in result.errors)
    assert any("第 4 行" in e and "河流" in e for e in result.errors)


def test_other_county_cannot_import(campaign, inside, demo_user, client_for):
    with pytest.raises(PermissionDenied):
        run(campaign, demo_user("yunzhou"), "编号,经度,纬度\nX,113.3,40.1\n", "x.csv")
    client = client_for("yunzhou")
    assert client.get(reverse("survey:point_import", args=[campaign.pk])).status_code == 404


def test_import_page_shows_errors_then_imports(campaign, inside, client_for):
    client = client_for("pingcheng")
    url = reverse("survey:point_import", args=[campaign.pk])
    lon, lat = inside[0]
    bad = SimpleUploadedFile("p.csv", f"编号,经度,纬度\nW-1,{lon},abc\n".encode())
    response = client.post(url, {"file": bad, "crs": "cgcs2000", "source": "uav"})
    assert response.status_code == 200
    assert "第 2 行" in response.content.decode() and "未导入任何疑似点" in response.content.decode()
    good = SimpleUploadedFile("p.csv", f"编号,经度,纬度\nW-1,{lon},{lat}\n".encode())
    response = client.post(url, {"file": good, "crs": "cgcs2000", "source": "uav"})
    assert response.status_code == 302
    assert campaign.points.filter(number="W-1").exists()


def test_management_command(campaign, inside, tmp_path):
    path = tmp_path / "cmd.csv"
    lon, lat = inside[1]
    path.write_text(f"编号,经度,纬度\nC-1,{lon},{lat}\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_points",
        str(campaign.pk),
        str(path),
        "--source",
        "remote_sensing",
        "--user",
        "bureau",
        stdout=out,
    )
    assert "已导入 1 个疑似点" in out.getvalue()
    assert campaign.points.get(number="C-1").source == "remote_sensing"
    call_command("import_points", str(campaign.pk), str(path), "--user", "bureau", stdout=out)
    assert campaign.points.filter(number="C-1").count() == 1
    path.write_text("编号,经度,纬度\nC-2,113.3,abc\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行"):
        call_command("import_points", str(campaign.pk), str(path), "--user", "bureau", stdout=out)


def test_single_river_campaign_gives_its_river_to_points(demo_user):
    campaign = Campaign.objects.filter(county__code="140215").order_by("pk").first()
    assert campaign.water_bodies.count() == 1
    outfall = Outfall.objects.filter(county__code="140215").order_by("code").first()
    text = f"编号,经度,纬度\nR-1,{outfall.lon + 0.0002:.6f},{outfall.lat:.6f}\n"
    result = run(campaign, demo_user("yunzhou"), text, "river.csv")
    assert result.errors == []
    assert campaign.points.get(number="R-1").water_body == campaign.water_bodies.get()
