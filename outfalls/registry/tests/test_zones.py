"""Water-function zones and water works: the model's rules, where a point lies (by chainage or polygon), works
nearby, the GIS import of both, the zone list and API, and the consultation flag on water bodies."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from shapely.geometry import Point, mapping, shape

from outfalls.geo.linref import RiverLine
from outfalls.maps import gis_services
from outfalls.registry import checks
from outfalls.registry.choices import WaterClass, WaterWorksKind, worse_than
from outfalls.registry.models import WaterBody, WaterFunctionZone, WaterWorks

pytestmark = pytest.mark.django_db


def point_at(code, km, offset_m=30):
    water = WaterBody.objects.get(code=code)
    river = RiverLine(shape(water.geometry))
    point = river.frame.geometry(shape(water.geometry)).interpolate(km * 1000)
    lon, lat = river.frame.lonlat(point.x + offset_m, point.y)
    return float(lon), float(lat)


def test_class_order_and_below_target():
    assert worse_than(WaterClass.V, WaterClass.IV) and worse_than(WaterClass.WORSE_V, WaterClass.V)
    assert not worse_than(WaterClass.III, WaterClass.IV) and not worse_than("", WaterClass.IV)
    below = set(WaterFunctionZone.objects.below_target().values_list("code", flat=True))
    assert below == {z.code for z in WaterFunctionZone.objects.all() if z.below_target}
    assert "YUH-02" in below and "YUH-03" not in below


def test_a_zone_is_a_polygon_or_a_stretch_with_a_target():
    water = WaterBody.objects.get(code="YUH01")
    cases = [
        (WaterFunctionZone(name="x", target_class="III"), "geometry"),
        (WaterFunctionZone(name="x", target_class="III", water_body=water, start_km=5), "end_km"),
        (WaterFunctionZone(name="x", target_class="III", water_body=water, start_km=5, end_km=2), "end_km"),
        (WaterFunctionZone(name="x", target_class="III", start_km=1, end_km=2), "water_body"),
        (WaterFunctionZone(name="x", target_class="worse_v", water_body=water, start_km=1, end_km=2), "target_class"),
        (WaterFunctionZone(name="x", target_class="III", water_body=water, start_km=1, end_km=2, assessed_class="IV"),
         "assessed_on"),
        (WaterFunctionZone(name="x", target_class="III", geometry={"type": "Point", "coordinates": [113, 40]}), "geometry"),
    ]  # fmt: skip
    for zone, field in cases:
        with pytest.raises(ValidationError) as error:
            zone.full_clean()
        assert field in error.value.message_dict, field
    polygon = mapping(Point(113.3, 40.0).buffer(0.01))
    zone = WaterFunctionZone(name="面", target_class="III", geometry=polygon)
    zone.full_clean()
    zone.save()
    assert zone.min_lon < 113.3 < zone.max_lon


def test_a_point_lies_in_the_stretch_of_its_river_and_in_polygons():
    water = WaterBody.objects.get(code="YUH01")
    lon, lat = point_at("YUH01", 40)
    assert [z.code for z in checks.zones_at(lon, lat, water)] == ["YUH-02"]
    lon, lat = point_at("YUH01", 60)
    assert [z.code for z in checks.zones_at(lon, lat, water)] == ["YUH-03"]
    # 册田水库: the stretch of 桑干河 and the reservoir's polygon.
    lon, lat = point_at("SGH01", 75.6, offset_m=0)
    assert [z.code for z in checks.zones_at(lon, lat, WaterBody.objects.get(code="SGH01"))] == [
        "SGH-02",
        "CTSK-01",
    ]
    assert [z.code for z in checks.zones_at(lon, lat)] == ["CTSK-01"]  # no water given: polygons only


def test_works_near_a_point_nearest_first():
    lon, lat = point_at("YUH01", 41, offset_m=0)
    near = checks.water_works_near(lon, lat, 1000)
    names = [w.name for w, _ in near]
    assert names[0] == "御河兴云桥橡胶坝（示意）" and "御河城区段左岸堤防（示意）" in names
    assert [d for _, d in near] == sorted(d for _, d in near) and near[0][1] < 5
    assert checks.water_works_near(*point_at("NYH01", 50), 1000) == []


def test_check_point_finds_areas_and_duplicates_without_an_outfall():
    from outfalls.registry.models import Outfall, ProtectedArea

    area = ProtectedArea.objects.order_by("pk").first()
    inside = shape(area.geometry).representative_point()
    kinds = [kind for kind, _, _ in checks.check_point(inside.x, inside.y)]
    assert "protected_area" in kinds
    outfall = Outfall.objects.order_by("code").first()
    found = checks.check_point(outfall.lon, outfall.lat)
    assert any(d.get("other_id") == outfall.pk for k, _, d in found if k == "duplicate")
    found = checks.check_point(outfall.lon, outfall.lat, exclude_outfall_id=outfall.pk)
    assert not any(d.get("other_id") == outfall.pk for k, _, d in found if k == "duplicate")


def _dataset(tmp_path, features):
    path = tmp_path / "layer.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8"
    )
    return gis_services.load_dataset(str(path), filename="layer.geojson")


def test_zones_come_in_through_the_gis_import(tmp_path, demo_user):
    lon1, lat1 = point_at("YUH01", 50, offset_m=0)
    lon2, lat2 = point_at("YUH01", 55, offset_m=0)
    features = [
        {"type": "Feature", "properties": {"名称": "御河测试河段", "编码": "T-1", "所在水体": "御河", "水质目标": "Ⅲ类",
                                           "现状水质": "劣Ⅴ", "评价日期": "2025/6/30"},
         "geometry": {"type": "LineString", "coordinates": [[lon1, lat1], [lon2, lat2]]}},
        {"type": "Feature", "properties": {"名称": "测试湖", "编码": "T-2", "所在水体": "", "水质目标": "2", "现状水质": "",
                                           "评价日期": ""},
         "geometry": mapping(Point(113.5, 40.2).buffer(0.01))},
        {"type": "Feature", "properties": {"名称": "坏行", "编码": "T-3", "所在水体": "", "水质目标": "六类", "现状水质": "",
                                           "评价日期": ""},
         "geometry": mapping(Point(113.6, 40.2).buffer(0.01))},
    ]  # fmt: skip
    dataset = _dataset(tmp_path, features)
    mapping_ = gis_services.guess_mapping("water_zones", dataset.fields)
    assert (mapping_.target_field, mapping_.assessed_field, mapping_.date_field) == (
        "水质目标",
        "现状水质",
        "评价日期",
    )
    plan = gis_services.plan_import(dataset, "water_zones", mapping_, filename="layer.geojson")
    assert [r.action for r in plan.rows] == ["create", "create", "error"]
    assert "六类" in plan.rows[2].messages[0]
    plan = gis_services.plan_import(_dataset(tmp_path, features[:2]), "water_zones", mapping_, filename="x")
    gis_services.commit_import(plan, user=demo_user("bureau"))
    stretch = WaterFunctionZone.objects.get(code="T-1")
    assert (stretch.start_km, stretch.end_km) == pytest.approx((50, 55), abs=0.01)
    assert (
        stretch.assessed_class == "worse_v"
        and str(stretch.assessed_on) == "2025-06-30"
        and stretch.below_target
    )
    lake = WaterFunctionZone.objects.get(code="T-2")
    assert lake.target_class == "II" and lake.geometry["type"] == "Polygon" and lake.start_km is None


def test_works_come_in_through_the_gis_import(tmp_path, demo_user):
    features = [
        {"type": "Feature", "properties": {"name": "测试取水口"}, "geometry": {"type": "Point", "coordinates": [113.3, 40.1]}},
        {"type": "Feature", "properties": {"name": "测试堤防"},
         "geometry": {"type": "LineString", "coordinates": [[113.3, 40.1], [113.31, 40.11]]}},
    ]  # fmt: skip
    dataset = _dataset(tmp_path, features)
    plan = gis_services.plan_import(
        dataset, "water_works", gis_services.guess_mapping("water_works", dataset.fields)
    )
    gis_services.commit_import(plan, user=demo_user("bureau"))
    assert WaterWorks.objects.get(name="测试取水口").kind == WaterWorksKind.WATER_INTAKE
    assert WaterWorks.objects.get(name="测试堤防").kind == WaterWorksKind.DYKE
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: reference data is the city bureau's
        gis_services.commit_import(plan, user=demo_user("pingcheng"))


def test_zone_pages_and_api(client_for):
    page = client_for("enterprise").get(reverse("registry:zone_list"), {"below_target": "true"})
    assert page.status_code == 200
    assert {z.code for z in page.context["object_list"]} == set(
        WaterFunctionZone.objects.below_target().values_list("code", flat=True)
    )
    water = WaterBody.objects.get(code="SGH01")
    detail = (
        client_for("pingcheng").get(reverse("registry:waterbody_detail", args=[water.pk])).content.decode()
    )
    assert 'data-testid="consultation-flag"' in detail and "册田水库饮用水源区" in detail
    body = {"name": "API 测试区", "target_class": "III", "water_body": water.pk, "start_km": 1, "end_km": 3}
    assert (
        client_for("pingcheng")
        .post("/api/v1/water-zones/", body, content_type="application/json")
        .status_code
        == 403
    )
    client = client_for("bureau")
    response = client.post("/api/v1/water-zones/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    zone_id = response.json()["id"]
    bad = client.patch(f"/api/v1/water-zones/{zone_id}/", {"end_km": 0.5}, content_type="application/json")
    assert bad.status_code == 400 and "终点沿程距离须大于起点" in bad.json()["detail"]
    ok = client.patch(f"/api/v1/water-zones/{zone_id}/", {"assessed_class": "V", "assessed_on": "2026-01-31"},
                      content_type="application/json")  # fmt: skip
    assert ok.status_code == 200 and ok.json()["below_target"] is True
    assert WaterFunctionZone.objects.get(pk=zone_id).history.count() == 2
