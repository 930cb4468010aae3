"""GIS import page and command (each format, Chinese attributes, all or nothing) and GIS export (scope,
filter, formats read back)."""

import io
import json
import os
import time
import zipfile

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from shapely.geometry import shape

from outfalls.core.models import Jurisdiction
from outfalls.geo import gisio
from outfalls.maps import gis_features, gis_services
from outfalls.registry.choices import ProtectedAreaKind, SectionLevel
from outfalls.registry.models import Outfall, ProtectedArea, Section, WaterBody

from . import gis_files as g

pytestmark = pytest.mark.django_db
IMPORT = reverse("gis:import")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads kept between preview and confirmation go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


AREAS = [
    {"名称": "测试水源地一级保护区", "类型": "一级保护区"},
    {"名称": "测试泉域", "类型": "泉域重点保护区"},
]


def areas_zip(rows=AREAS):
    """A GBK shapefile without .cpg, in CGCS2000 3-degree zone metres, zipped with GBK member names."""
    geoms = [g.to_projected(g.SQUARE), g.to_projected(g.TRIANGLE)][: len(rows)]
    return g.zipped_shapefiles(
        [("特殊保护区域", geoms, rows, {"crs": g.CM114, "encoding": "GBK", "cpg": False})], gbk_names=True
    )


def upload(client, data, filename, kind, **extra):
    return client.post(
        IMPORT, {"file": SimpleUploadedFile(filename, data), "kind": kind, "crs": "", "encoding": "", **extra}
    )


def resubmit(client, response, action="preview", **changes):
    """Post the preview's mapping form back (as the browser would), with changes."""
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes, action=action)
    return client.post(IMPORT, data)


# Permission -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "status"), [("bureau", 200), ("city_admin", 200), ("pingcheng", 403), ("auditor", 403)]
)
def test_only_city_editors_may_import(client_for, username, status):
    assert client_for(username).get(IMPORT).status_code == status


def test_anonymous_is_sent_to_login(client):
    response = client.get(IMPORT)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_link_for_city_editors_only(client_for):
    assert "GIS 数据导入" in client_for("bureau").get(reverse("registry:outfall_list")).content.decode()
    assert (
        "GIS 数据导入" not in client_for("pingcheng").get(reverse("registry:outfall_list")).content.decode()
    )


# Protected areas: zipped GBK shapefile, projected --------------------------------------------------------------
def test_protected_areas_from_zipped_gbk_shapefile_preview_then_confirm(client_for, media_root):
    client = client_for("bureau")
    response = upload(client, areas_zip(), "特殊保护区域.zip", "protected_areas")
    assert response.status_code == 200
    html = response.content.decode()
    plan = response.context["plan"]
    assert plan.ok and plan.counts["新建"] == 2
    assert response.context["dataset"].crs == "EPSG:4547"
    assert "测试水源地一级保护区" in html and "GB18030" in html and "EPSG:4547" in html
    form = response.context["form"]
    assert form["name_field"].value() == "名称" and form["kind_field"].value() == "类型"
    assert not ProtectedArea.objects.filter(name__startswith="测试").exists()  # preview writes nothing

    token = form["token"].value()
    assert (media_root / "gis-imports" / token).is_dir()
    done = resubmit(client, response, "confirm")
    assert done.status_code == 302
    assert not (media_root / "gis-imports" / token).exists()  # the upload is removed once imported
    first = ProtectedArea.objects.get(name="测试水源地一级保护区")
    assert first.kind == ProtectedAreaKind.DRINKING_WATER_1
    assert shape(first.geometry).symmetric_difference(g.SQUARE).area < 1e-9
    assert first.min_lon == pytest.approx(113.30, abs=1e-6) and first.source == "GIS 导入：特殊保护区域.zip"
    assert ProtectedArea.objects.get(name="测试泉域").kind == ProtectedAreaKind.SPRING
    assert first.history.first().history_user.username == "bureau"
    page = client.get(done["Location"]).content.decode()
    assert "已导入“特殊保护区域.zip”" in page and "新建 2" in page

    # The same file again updates the two areas; nothing is duplicated.
    again = upload(client, areas_zip(), "特殊保护区域.zip", "protected_areas")
    assert again.context["plan"].counts["更新"] == 2
    resubmit(client, again, "confirm")
    assert ProtectedArea.objects.filter(name__startswith="测试").count() == 2


def test_an_error_row_blocks_the_whole_import(client_for):
    client = client_for("bureau")
    rows = [{"名称": "测试甲", "类型": "一级保护区"}, {"名称": "测试乙", "类型": "风景名胜区"}]
    response = upload(client, areas_zip(rows), "a.zip", "protected_areas")
    plan = response.context["plan"]
    assert not plan.ok and [r.label for r in plan.errors] == ["第 2 行"]
    html = response.content.decode()
    assert "类型“风景名胜区”无法识别" in html and "confirm-gis-import" not in html
    refused = resubmit(client, response, "confirm")
    assert refused.status_code == 400 and "未导入任何数据" in refused.content.decode()
    assert not ProtectedArea.objects.filter(name__startswith="测试").exists()
    # One kind for the whole file fixes it.
    fixed = resubmit(client, response, "confirm", kind_field="", fixed_kind=ProtectedAreaKind.ECO_REDLINE)
    assert fixed.status_code == 302
    assert set(ProtectedArea.objects.filter(name__startswith="测试").values_list("kind", flat=True)) == {
        "eco_redline"
    }


def test_missing_crs_must_be_declared(client_for):
    client = client_for("bureau")
    data = g.zipped_shapefiles(
        [("a", [g.to_projected(g.SQUARE)], [AREAS[0]], {"crs": g.CM114, "prj": False})]
    )
    response = upload(client, data, "a.zip", "protected_areas")
    assert response.status_code == 400
    assert "没有坐标系" in response.content.decode()
    response = upload(client, data, "a.zip", "protected_areas", crs="4547")
    assert response.status_code == 200 and response.context["plan"].ok
    assert response.context["dataset"].crs_source == "declared"


def test_upload_form_rejects_other_files(client_for):
    client = client_for("bureau")
    response = upload(client, b"x", "a.shp", "protected_areas")
    assert response.status_code == 400 and "打包为 .zip" in response.content.decode()
    response = upload(client, b"x", "a.zip", "protected_areas", crs="北京54")
    assert response.status_code == 400 and "无法识别的坐标系" in response.content.decode()


def test_changing_the_encoding_in_the_preview(client_for):
    client = client_for("bureau")
    response = upload(client, areas_zip(), "a.zip", "protected_areas")
    wrong = resubmit(client, response, encoding="UTF-8")
    assert wrong.status_code == 400 and "无法按 UTF-8 编码读取" in wrong.content.decode()
    right = resubmit(client, response, encoding="GBK")
    assert right.status_code == 200 and right.context["plan"].ok


def test_abandoned_uploads_are_removed_after_a_day(client_for, media_root):
    old = media_root / "gis-imports" / "0123abcd"
    old.mkdir(parents=True)
    (old / "upload.zip").write_bytes(b"x")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    fresh = upload(client_for("bureau"), areas_zip(), "a.zip", "protected_areas")
    assert fresh.status_code == 200
    assert not old.exists() and (media_root / "gis-imports" / fresh.context["form"]["token"].value()).exists()


def test_another_session_cannot_use_the_token(client_for, client, demo_user):
    response = upload(client_for("bureau"), areas_zip(), "a.zip", "protected_areas")
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    client.logout()
    client.force_login(demo_user("city_admin"))
    assert client.post(IMPORT, {**data, "action": "confirm"}).status_code == 404


# Rivers: GeoJSON ------------------------------------------------------------------------------------------------
def test_river_geometry_from_geojson_matched_by_name_merges_parts_and_skips_unknown(client_for):
    client = client_for("bureau")
    yuhe = WaterBody.objects.get(name="御河")
    a = shapely.LineString([(113.20, 40.40), (113.25, 40.30)])
    b = shapely.LineString([(113.25, 40.30), (113.30, 40.10)])
    data = g.geojson([(a, {"NAME": "御河"}), (b, {"NAME": "御河"}), (g.LINE, {"NAME": "不存在的河"})])
    response = upload(client, data, "河流.geojson", "rivers")
    plan = response.context["plan"]
    assert plan.ok and plan.counts == {"新建": 0, "更新": 2, "跳过": 1, "错误": 0}
    sections = Section.objects.filter(water_body=yuhe).count()
    assert f"重算 {sections} 个考核断面" in response.content.decode()
    assert "平台中没有该受纳水体" in response.content.decode()
    assert resubmit(client, response, "confirm").status_code == 302
    yuhe.refresh_from_db()
    assert yuhe.geometry["type"] == "LineString"  # the two parts joined where they meet
    assert shape(yuhe.geometry).equals(shapely.line_merge(shapely.MultiLineString([a, b])))
    assert not yuhe.geometry_approximate and yuhe.geometry_source == "GIS 导入：河流.geojson"
    section = Section.objects.filter(water_body=yuhe).first()
    line = shape(yuhe.geometry)
    assert section.chainage_km == pytest.approx(
        round(
            __import__("outfalls.geo.shapes", fromlist=["x"]).project_point_to_line(
                line, section.lon, section.lat
            ),
            3,
        )
    )


# Sections: KML --------------------------------------------------------------------------------------------------
def test_sections_from_kml_create_and_move(client_for):
    client = client_for("bureau")
    existing = Section.objects.select_related("water_body").first()
    county = Jurisdiction.objects.get(code="140213")
    inside = shape(county.boundary).representative_point()
    placemarks = [
        (existing.name, (113.31, 40.11), {"所在水体": existing.water_body.name, "级别": "国考"}),
        ("测试新断面", (inside.x, inside.y), {"所在水体": "御河", "级别": ""}),
    ]
    response = upload(client, g.kml(placemarks), "断面.kml", "sections")
    plan = response.context["plan"]
    form = response.context["form"]
    assert form["name_field"].value() == "Name" and form["water_field"].value() == "所在水体"
    assert plan.ok and plan.counts["更新"] == 1 and plan.counts["新建"] == 1
    assert "按省考新建" in response.content.decode()
    assert resubmit(client, response, "confirm").status_code == 302
    existing.refresh_from_db()
    assert (existing.lon, existing.lat) == (113.31, 40.11)
    assert existing.level == SectionLevel.NATIONAL and not existing.location_approximate
    new = Section.objects.get(name="测试新断面")
    assert new.water_body.name == "御河" and new.county == county
    assert new.level == SectionLevel.PROVINCIAL and new.level_approximate


def test_section_with_unknown_water_is_an_error(client_for):
    client = client_for("bureau")
    response = upload(
        client, g.kml([("甲", (113.3, 40.1), {"所在水体": "黄河", "级别": "省考"})]), "a.kml", "sections"
    )
    plan = response.context["plan"]
    assert not plan.ok and "未找到所在水体“黄河”" in plan.errors[0].messages[0]


# Boundaries: GeoPackage, the real Datong divisions file ------------------------------------------------------
def test_boundaries_from_geopackage_by_12_digit_code(client_for):
    client = client_for("bureau")
    pingcheng = Jurisdiction.objects.get(code="140213")
    square = g.SQUARE
    data = g.geopackage(
        [
            (
                "县级行政区",
                [square, g.TRIANGLE],
                [{"XZQDM": "140213000000", "XZQMC": "平城区"}, {"XZQDM": "999999", "XZQMC": "外地"}],
            )
        ]
    )
    response = upload(client, data, "区划.gpkg", "boundaries")
    plan = response.context["plan"]
    form = response.context["form"]
    assert form["code_field"].value() == "XZQDM" and form["name_field"].value() == "XZQMC"
    assert plan.ok and plan.counts["更新"] == 1 and plan.counts["跳过"] == 1
    assert resubmit(client, response, "confirm").status_code == 302
    pingcheng.refresh_from_db()
    assert shape(pingcheng.boundary).equals(square) and pingcheng.boundary_source == "GIS 导入：区划.gpkg"


def test_boundaries_command_with_the_shipped_divisions_file(settings):
    path = settings.BASE_DIR / "outfalls" / "registry" / "data" / "datong-divisions.geojson"
    out = io.StringIO()
    call_command("gis_import", str(path), "--kind", "boundaries", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "code_field=adcode" in text and "更新 11" in text and "试运行" in text


# Command --------------------------------------------------------------------------------------------------
def test_gis_import_command(tmp_path):
    path = tmp_path / "保护区.zip"
    path.write_bytes(areas_zip())
    out = io.StringIO()
    call_command("gis_import", str(path), "--kind", "protected_areas", "--dry-run", stdout=out)
    assert "新建 2" in out.getvalue() and "GB18030" in out.getvalue()
    assert not ProtectedArea.objects.filter(name__startswith="测试").exists()
    call_command("gis_import", str(path), "--kind", "protected_areas", stdout=out)
    assert ProtectedArea.objects.filter(name__startswith="测试").count() == 2
    assert ProtectedArea.objects.get(name="测试泉域").history.first().history_user is None

    bad = tmp_path / "bad.zip"
    bad.write_bytes(areas_zip([{"名称": "", "类型": "一级"}]))
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("gis_import", str(bad), "--kind", "protected_areas", stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有坐标系"):
        noprj = tmp_path / "noprj.zip"
        noprj.write_bytes(g.zipped_shapefiles([("a", [g.SQUARE], [AREAS[0]], {"prj": False})]))
        call_command("gis_import", str(noprj), "--kind", "protected_areas", stdout=io.StringIO())
    call_command(
        "gis_import",
        str(noprj),
        "--kind",
        "protected_areas",
        "--crs",
        "4490",
        "--fixed-kind",
        "other",
        stdout=out,
    )
    # The fixed kind wins over the attribute; name + kind is the key, so this is a new area.
    assert ProtectedArea.objects.filter(name="测试水源地一级保护区", kind="other").exists()


# Service units ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("饮用水水源一级保护区", "drinking_water_1"),
        ("drinking_water_2", "drinking_water_2"),
        ("二级保护区", "drinking_water_2"),
        ("准保护区", "drinking_water_quasi"),
        ("泉域重点保护区", "spring"),
        ("国家级自然保护区", "nature_reserve"),
        ("生态保护红线", "eco_redline"),
        ("其他需要特殊保护的区域", "other"),
        ("湿地公园", None),
        (None, None),
    ],
)
def test_protected_kind_words(value, kind):
    assert gis_services.protected_kind(value) == kind


def test_normalise_code():
    assert gis_services.normalise_code("140213000000")[-1] == "140213"
    assert gis_services.normalise_code(140213.0) == ["140213"]
    assert gis_services.normalise_code("140213101000")[1] == "140213101"


def test_invalid_polygon_is_repaired_with_a_note():
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.3, 40.0], [113.4, 40.1], [113.4, 40.0], [113.3, 40.1], [113.3, 40.0]]],
    }
    dataset = gisio.Dataset(
        features=[gisio.Feature(bowtie, {"名称": "测试", "类型": "一级"}, "a", 1)],
        fields=["名称", "类型"],
        layers=[],
        crs="EPSG:4490",
        crs_name="",
        crs_source="file",
        file_crs="EPSG:4490",
        driver="",
    )
    plan = gis_services.plan_import(
        dataset, "protected_areas", gis_services.Mapping(name_field="名称", kind_field="类型")
    )
    assert plan.ok and "已自动修复" in plan.rows[0].messages[0]
    assert shape(plan.changes[0].values["geometry"]).is_valid


# Export -----------------------------------------------------------------------------------------------------
def export(client, fmt, params=None):
    response = client.get(reverse("gis:export_outfalls", args=[fmt]), params or {})
    assert response.status_code == 200, response.content[:300]
    return response, b"".join(response.streaming_content)


def read_back(data, fmt):
    return gisio.read(io.BytesIO(data), filename=f"x{gisio.FORMATS[fmt][1]}")


@pytest.mark.parametrize("fmt", list(gisio.FORMATS))
def test_export_each_format_within_scope_with_chinese_values(client_for, fmt):
    client = client_for("pingcheng")
    response, data = export(client, fmt, {"type_code": "YH"})
    assert response["Content-Type"] == gisio.FORMATS[fmt][2]
    disposition = response["Content-Disposition"]
    assert "attachment" in disposition and "%E5%B9%B3%E5%9F%8E%E5%8C%BA" in disposition  # 平城区
    dataset = read_back(data, fmt)
    expected = Outfall.objects.filter(county__code="140213", type_code="YH").select_related("county")
    assert len(dataset.features) == expected.count() > 0
    name_key = {"shp": "name", "kml": "Name"}.get(fmt, "入河排污口名称")
    county_key = "county" if fmt == "shp" else "县区"
    status_key = "status" if fmt == "shp" else "生命周期状态"
    names = {f.properties[name_key] for f in dataset.features}
    assert names == {o.name for o in expected}
    assert {f.properties[county_key] for f in dataset.features} == {"平城区"}
    assert {f.properties[status_key] for f in dataset.features} <= {
        o.get_status_display() for o in Outfall.objects.all()
    }
    sample = expected.first()
    feature = next(f for f in dataset.features if f.properties[name_key] == sample.name)
    assert feature.geometry["coordinates"] == pytest.approx([sample.lon, sample.lat], abs=1e-7)
    if fmt == "shp":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.read("outfalls.cpg").strip() == b"UTF-8"
            assert "entity,排污责任主体" in archive.read("fields.csv").decode("utf-8-sig")


def test_export_scope_never_leaks(client_for):
    _, data = export(client_for("yunzhou"), "geojson")
    document = json.loads(data)
    assert {f["properties"]["县区"] for f in document["features"]} == {"云州区"}
    assert len(document["features"]) == Outfall.objects.filter(county__code="140215").count()
    # A county filter outside the scope gives nothing, not the other county.
    _, data = export(client_for("yunzhou"), "geojson", {"county": "140213"})
    assert json.loads(data)["features"] == []
    _, data = export(client_for("bureau"), "geojson", {"county": "140213"})
    assert len(json.loads(data)["features"]) == Outfall.objects.filter(county__code="140213").count()


def test_export_needs_login_and_a_known_format(client, client_for):
    response = client.get(reverse("gis:export_outfalls", args=["geojson"]))
    assert response.status_code == 302
    assert client_for("bureau").get(reverse("gis:export_outfalls", args=["dwg"])).status_code == 404


def test_ledger_page_offers_gis_export_with_the_filter(client_for):
    html = (
        client_for("pingcheng")
        .get(reverse("registry:outfall_list"), {"type_code": "YH", "page": 1})
        .content.decode()
    )
    assert 'data-testid="gis-export"' in html
    assert reverse("gis:export_outfalls", args=["gpkg"]) + "?type_code=YH" in html
    assert reverse("gis:export_outfalls", args=["shp"]) in html


def test_gis_export_command(tmp_path, demo_user):
    out = io.StringIO()
    path = tmp_path / "pingcheng.gpkg"
    call_command("gis_export", str(path), "--filter", "county=140213&type_code=GY", stdout=out)
    dataset = gisio.read(path)
    assert len(dataset.features) == Outfall.objects.filter(county__code="140213", type_code="GY").count()
    assert dataset.fields[:3] == ["排污口编码", "国家统一编码", "入河排污口名称"]
    shp = tmp_path / "yunzhou.zip"
    call_command("gis_export", str(shp), "--user", "yunzhou", stdout=out)
    assert {f.properties["county"] for f in gisio.read(shp).features} == {"云州区"}
    Outfall.objects.update(disclosed=False)
    Outfall.objects.filter(pk__in=Outfall.objects.filter(status="verified").values("pk")[:3]).update(
        disclosed=True
    )
    public = tmp_path / "public.geojson"
    call_command("gis_export", str(public), "--public", stdout=out)
    dataset = gisio.read(public)
    assert len(dataset.features) == 3  # the disclosure state decides, whatever the status
    assert set(dataset.fields) == {label for _, label, _ in gis_features.PUBLIC_FIELDS}
    with pytest.raises(CommandError, match="无法从文件名判断格式"):
        call_command("gis_export", str(tmp_path / "x.dwg"), stdout=out)
    with pytest.raises(CommandError, match="筛选条件不正确"):
        call_command("gis_export", str(path), "--filter", "type_code=NOPE", stdout=out)


def test_a_value_the_model_refuses_names_the_field_in_chinese(db):
    square = {
        "type": "Polygon",
        "coordinates": [[[113.3, 40.0], [113.4, 40.0], [113.4, 40.1], [113.3, 40.1], [113.3, 40.0]]],
    }
    long_name = "超长名称" * 40  # 160 characters; the model allows 128
    dataset = gisio.Dataset(
        features=[gisio.Feature(square, {"名称": long_name, "类型": "一级"}, "a", 1)],
        fields=["名称", "类型"],
        layers=[],
        crs="EPSG:4490",
        crs_name="",
        crs_source="file",
        file_crs="EPSG:4490",
        driver="",
    )
    plan = gis_services.plan_import(
        dataset, "protected_areas", gis_services.Mapping(name_field="名称", kind_field="类型")
    )
    before = ProtectedArea.objects.count()
    with pytest.raises(gis_services.GisImportError) as caught:
        gis_services.commit_import(plan)
    assert "名称：" in caught.value.message and "name：" not in caught.value.message
    assert ProtectedArea.objects.count() == before
