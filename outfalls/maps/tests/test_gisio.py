"""geo/gisio: each GIS format in and out with Chinese attributes, CRS from the file or declared, encodings."""

import io
import json
import os
import zipfile

import pytest
import shapely
from shapely.geometry import shape

from outfalls.geo import gisio

from . import gis_files as g

ROWS = [
    {"名称": "御河水源地一级保护区", "类型": "一级保护区"},
    {"名称": "桑干河水源地二级保护区", "类型": "二级保护区"},
]


def _read_bytes(data, filename, **kwargs):
    return gisio.read(io.BytesIO(data), filename=filename, **kwargs)


def _same(geojson, geom, tolerance=1e-6):
    read = shape(geojson)
    return (
        read.symmetric_difference(geom).area < tolerance * geom.area + 1e-12
        if geom.area
        else read.equals_exact(geom, tolerance)
    )


# Shapefiles ---------------------------------------------------------------------------------------------
def test_zipped_shapefile_gbk_without_cpg_projected_gbk_member_names():
    data = g.zipped_shapefiles(
        [
            (
                "饮用水水源保护区",
                [g.to_projected(g.SQUARE), g.to_projected(g.TRIANGLE)],
                ROWS,
                {"crs": g.CM114, "encoding": "GBK", "cpg": False},
            )
        ],
        gbk_names=True,
    )
    assert "饮用水水源保护区".encode("gbk") in data  # the names really are GBK bytes
    dataset = _read_bytes(data, "保护区.zip")
    assert [layer.name for layer in dataset.layers] == ["饮用水水源保护区"]
    assert dataset.layers[0].encoding == "GB18030"
    assert dataset.layers[0].encoding_source == "detected"
    assert dataset.crs == "EPSG:4547"
    assert "CGCS2000" in dataset.crs_name and dataset.crs_source == "file"
    assert dataset.fields == ["名称", "类型"]
    assert [f.properties for f in dataset.features] == ROWS
    assert _same(dataset.features[0].geometry, g.SQUARE)
    assert _same(dataset.features[1].geometry, g.TRIANGLE)
    lon, lat = dataset.features[0].geometry["coordinates"][0][0]
    assert 113.29 < lon < 113.35 and 40.04 < lat < 40.09


def test_zipped_shapefile_utf8_with_cpg():
    data = g.zipped_shapefiles(
        [("rivers", [g.LINE], [{"NAME": "御河", "CODE": "WB-YH"}], {"encoding": "UTF-8"})]
    )
    dataset = _read_bytes(data, "rivers.zip")
    assert dataset.layers[0].encoding == "UTF-8" and dataset.layers[0].encoding_source == "cpg"
    assert dataset.features[0].properties == {"NAME": "御河", "CODE": "WB-YH"}
    assert dataset.features[0].geometry["type"] == "LineString"


def test_utf8_dbf_without_cpg_is_detected():
    data = g.zipped_shapefiles([("a", [g.SQUARE], [ROWS[0]], {"encoding": "UTF-8", "cpg": False})])
    dataset = _read_bytes(data, "a.zip")
    assert dataset.layers[0].encoding == "UTF-8" and dataset.layers[0].encoding_source == "detected"
    assert dataset.features[0].properties == ROWS[0]


def test_cpg_saying_gbk_is_obeyed():
    data = g.zipped_shapefiles([("a", [g.SQUARE], [ROWS[1]], {"encoding": "GBK"})])
    dataset = _read_bytes(data, "a.zip")
    assert dataset.layers[0].encoding_source == "cpg"
    assert dataset.features[0].properties == ROWS[1]


def test_declared_encoding_overrides_and_a_wrong_one_says_so():
    data = g.zipped_shapefiles([("a", [g.SQUARE], [ROWS[0]], {"encoding": "GBK", "cpg": False})])
    assert _read_bytes(data, "a.zip", encoding="GBK").features[0].properties == ROWS[0]
    with pytest.raises(gisio.GisError, match="无法按 UTF-8 编码读取"):
        _read_bytes(data, "a.zip", encoding="UTF-8")


def test_shapefile_on_disk_with_side_files(tmp_path):
    path = g.write_shapefile(
        tmp_path, "断面", [shapely.Point(113.3, 40.1)], [{"名称": "固定桥"}], encoding="GBK"
    )
    dataset = gisio.read(path)
    assert dataset.features[0].properties == {"名称": "固定桥"}
    assert dataset.features[0].geometry == {"type": "Point", "coordinates": [113.3, 40.1]}


def test_missing_prj_needs_a_declared_crs(tmp_path):
    path = g.write_shapefile(
        tmp_path, "a", [g.to_projected(g.SQUARE)], [ROWS[0]], crs=g.CM114, encoding="UTF-8", prj=False
    )
    with pytest.raises(gisio.GisError, match="没有坐标系（Shapefile 缺少 .prj 文件）.*请声明"):
        gisio.read(path)
    # Declared as lon/lat while the numbers are metres: the error says what is likely wrong.
    with pytest.raises(gisio.GisError, match="不在中国范围内.*像是投影坐标"):
        gisio.read(path, declared_crs="4490")
    dataset = gisio.read(path, declared_crs="EPSG:4547")
    assert dataset.crs_source == "declared" and dataset.file_crs is None
    assert _same(dataset.features[0].geometry, g.SQUARE)


def test_declared_crs_takes_precedence_with_a_warning(tmp_path):
    # A wrong .prj (says WGS84) on projected coordinates, a common fault; the declared CRS wins.
    path = g.write_shapefile(tmp_path, "a", [g.to_projected(g.SQUARE)], [ROWS[0]], crs="EPSG:4326")
    dataset = gisio.read(path, declared_crs="epsg 4547")
    assert _same(dataset.features[0].geometry, g.SQUARE)
    assert dataset.warnings and "已按声明的 EPSG:4547" in dataset.warnings[0]


def test_zip_with_several_shapefiles_reads_each_as_a_layer():
    data = g.zipped_shapefiles(
        [
            ("一级保护区", [g.SQUARE], [{"名称": "甲"}], {"encoding": "GBK", "cpg": False}),
            ("二级保护区", [g.TRIANGLE], [{"名称": "乙"}], {"encoding": "UTF-8"}),
        ],
        gbk_names=True,
    )
    dataset = _read_bytes(data, "a.zip")
    assert sorted(layer.name for layer in dataset.layers) == ["一级保护区", "二级保护区"]
    assert sorted((f.layer, f.properties["名称"]) for f in dataset.features) == [
        ("一级保护区", "甲"),
        ("二级保护区", "乙"),
    ]
    only = _read_bytes(data, "a.zip", layer="二级保护区")
    assert [f.properties["名称"] for f in only.features] == ["乙"]
    assert sorted(only.available_layers) == ["一级保护区", "二级保护区"]
    with pytest.raises(gisio.GisError, match="没有图层“三级”"):
        _read_bytes(data, "a.zip", layer="三级")


def test_zip_errors_are_chinese():
    with pytest.raises(gisio.GisError, match="不是 zip"):
        _read_bytes(b"not a zip", "a.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "说明")
    with pytest.raises(gisio.GisError, match="没有找到 Shapefile"):
        _read_bytes(buffer.getvalue(), "a.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("保护区.shp", b"\0" * 100)
    with pytest.raises(gisio.GisError, match="缺少 .shx、.dbf"):
        _read_bytes(buffer.getvalue(), "a.zip")
    with pytest.raises(gisio.GisError, match="不支持的文件类型"):
        _read_bytes(b"x", "a.dwg")


# GeoPackage, KML, GeoJSON -------------------------------------------------------------------------------
def test_geopackage_with_chinese_layers_and_fields():
    data = g.geopackage(
        [
            ("保护区", [g.SQUARE, g.TRIANGLE], ROWS),
            ("河流", [g.LINE], [{"名称": "御河", "长度": 12.5}]),
        ]
    )
    dataset = _read_bytes(data, "基础数据.gpkg")
    assert [layer.name for layer in dataset.layers] == ["保护区", "河流"]
    assert dataset.crs == "EPSG:4490"
    assert [f.properties["名称"] for f in dataset.features] == [
        "御河水源地一级保护区",
        "桑干河水源地二级保护区",
        "御河",
    ]
    assert dataset.features[2].properties["长度"] == 12.5
    rivers = _read_bytes(data, "基础数据.gpkg", layer="河流")
    assert len(rivers.features) == 1 and rivers.features[0].geometry["type"] == "LineString"


def test_geopackage_in_a_projected_crs():
    data = g.geopackage([("保护区", [g.to_projected(g.SQUARE)], [ROWS[0]])], crs=g.CM114)
    dataset = _read_bytes(data, "a.gpkg")
    assert dataset.crs == "EPSG:4547"
    assert _same(dataset.features[0].geometry, g.SQUARE)


PLACEMARKS = [
    ("固定桥", (113.3125, 40.0901), {"所在水体": "桑干河", "级别": "国考"}),
    ("艾庄", (113.41, 40.12), {"所在水体": "御河", "级别": "省考"}),
]


def test_kml_with_chinese_names_and_extended_data():
    dataset = _read_bytes(g.kml(PLACEMARKS), "断面.kml")
    assert dataset.crs == "EPSG:4326"
    # LIBKML's empty standard columns are dropped; <name>, <description> and the data are kept.
    assert dataset.fields == ["Name", "description", "所在水体", "级别"]
    first = dataset.features[0]
    assert first.properties["Name"] == "固定桥" and first.properties["所在水体"] == "桑干河"
    assert first.geometry == {"type": "Point", "coordinates": [113.3125, 40.0901]}
    assert first.layer == "考核断面"


def test_kmz():
    dataset = _read_bytes(g.kmz(g.kml(PLACEMARKS)), "断面.kmz")
    assert [f.properties["Name"] for f in dataset.features] == ["固定桥", "艾庄"]


def test_kml_inside_a_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("断面.kml", g.kml(PLACEMARKS))
    dataset = _read_bytes(buffer.getvalue(), "a.zip")
    assert [f.properties["Name"] for f in dataset.features] == ["固定桥", "艾庄"]


def test_geojson_with_chinese_attributes():
    data = g.geojson([(g.SQUARE, {"名称": "御河水源地", "类型": "一级保护区", "面积": 1.5})])
    dataset = _read_bytes(data, "保护区.geojson")
    assert dataset.features[0].properties == {"名称": "御河水源地", "类型": "一级保护区", "面积": 1.5}
    assert _same(dataset.features[0].geometry, g.SQUARE)


def test_geojson_with_a_projected_crs_member():
    data = g.geojson([(g.to_projected(g.SQUARE), {"名称": "甲"})], crs_name="urn:ogc:def:crs:EPSG::4547")
    dataset = _read_bytes(data, "a.json")
    assert dataset.crs == "EPSG:4547"
    assert _same(dataset.features[0].geometry, g.SQUARE)


def test_xian80_gauss_kruger_is_reprojected():
    # Xi'an 1980 / 3-degree Gauss-Kruger CM 114E: older county surveys.
    data = g.geopackage([("a", [g.to_projected(g.SQUARE, "EPSG:2384")], [ROWS[0]])], crs="EPSG:2384")
    dataset = _read_bytes(data, "a.gpkg")
    # No datum shift parameters ship with pyproj for Xi'an 1980: the result is within metres.
    assert shape(dataset.features[0].geometry).hausdorff_distance(g.SQUARE) < 1e-4


# Units --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"), [("4547", 4547), ("EPSG:4490", 4490), ("epsg 4326", 4326), (" EPSG:4547 ", 4547)]
)
def test_parse_crs(text, code):
    assert gisio.parse_crs(text).to_epsg() == code


def test_parse_crs_rejects_nonsense():
    with pytest.raises(gisio.GisError, match="无法识别的坐标系"):
        gisio.parse_crs("北京54")


def test_detect_dbf_encoding(tmp_path):
    for encoding, expected in (("GBK", "GB18030"), ("UTF-8", "UTF-8")):
        folder = tmp_path / encoding
        folder.mkdir()
        g.write_shapefile(folder, "a", [g.SQUARE], [ROWS[0]], encoding=encoding)
        assert gisio.detect_dbf_encoding((folder / "a.dbf").read_bytes()) == expected
    folder = tmp_path / "ascii"
    folder.mkdir()
    g.write_shapefile(folder, "a", [g.SQUARE], [{"NAME": "abc"}])
    assert gisio.detect_dbf_encoding((folder / "a.dbf").read_bytes()) is None


def test_shapefile_field_names():
    names = gisio.shapefile_field_names(
        ["code", "名称", "a_very_long_name", "a_very_long_other"], {"名称": "name"}
    )
    assert names == {
        "code": "code",
        "名称": "name",
        "a_very_long_name": "a_very_lon",
        "a_very_long_other": "a_very_l_2",
    }
    assert all(len(v.encode()) <= 10 for v in names.values())


# Writing --------------------------------------------------------------------------------------------------
FEATURES = [
    (
        {"type": "Point", "coordinates": [113.3125, 40.0901]},
        {
            "编码": "WB-YH-140213-YH-0001",
            "名称": "大同市平城区御河雨洪排口",
            "经度": 113.3125,
            "序号": 1,
            "备注": None,
        },
    ),
    (
        {"type": "Point", "coordinates": [113.41, 40.12]},
        {
            "编码": "WB-YH-140213-GY-0002",
            "名称": "大同市平城区某企业排污口",
            "经度": 113.41,
            "序号": None,
            "备注": "说明",
        },
    ),
]


@pytest.mark.parametrize("fmt", list(gisio.FORMATS))
def test_write_and_read_back_keeps_chinese(fmt, tmp_path):
    path = tmp_path / f"out{gisio.FORMATS[fmt][1]}"
    result = gisio.write(
        FEATURES,
        path,
        fmt,
        layer="outfalls",
        name_field="名称",
        shapefile_names={"编码": "code", "名称": "name", "经度": "lon", "序号": "seq", "备注": "notes"},
    )
    dataset = gisio.read(path)
    props = [f.properties for f in dataset.features]
    name_key = {"shp": "name", "kml": "Name"}.get(fmt, "名称")
    code_key = "code" if fmt == "shp" else "编码"
    assert [p[name_key] for p in props] == ["大同市平城区御河雨洪排口", "大同市平城区某企业排污口"]
    assert [p[code_key] for p in props] == ["WB-YH-140213-YH-0001", "WB-YH-140213-GY-0002"]
    assert [p["notes" if fmt == "shp" else "备注"] for p in props] == [None, "说明"]
    assert [f.geometry["coordinates"] for f in dataset.features] == [[113.3125, 40.0901], [113.41, 40.12]]
    if fmt == "shp":
        assert result["shapefile_names"]["名称"] == "name"
    if fmt in ("gpkg", "shp"):
        assert dataset.crs == "EPSG:4490"


def test_shapefile_zip_has_cpg_prj_and_field_mapping(tmp_path):
    path = tmp_path / "out.zip"
    gisio.write(FEATURES, path, "shp", layer="outfalls", shapefile_names={"编码": "code", "名称": "name"})
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {
            "outfalls.shp",
            "outfalls.shx",
            "outfalls.dbf",
            "outfalls.prj",
            "outfalls.cpg",
            "fields.csv",
        } <= names
        assert archive.read("outfalls.cpg").decode().strip() == "UTF-8"
        assert (
            "China_2000" in archive.read("outfalls.prj").decode()
            or "CGCS2000" in archive.read("outfalls.prj").decode()
        )
        mapping = archive.read("fields.csv").decode("utf-8-sig").splitlines()
        assert mapping[0] == "dbf_field,field" and "name,名称" in mapping


def test_shapefile_cuts_long_text_at_a_character_boundary(tmp_path):
    long_name = "大同市" * 100  # 900 bytes in UTF-8; a .dbf text field holds 254
    path = tmp_path / "out.zip"
    gisio.write([({"type": "Point", "coordinates": [113.3, 40.1]}, {"名称": long_name})], path, "shp")
    read = gisio.read(path).features[0].properties
    value = next(iter(read.values()))
    assert long_name.startswith(value) and len(value.encode()) <= 254 and len(value) == 84


def test_geojson_output_is_rfc7946_utf8(tmp_path):
    buffer = io.BytesIO()
    gisio.write(FEATURES, buffer, "geojson", layer="outfalls")
    document = json.loads(buffer.getvalue().decode("utf-8"))
    assert document["type"] == "FeatureCollection" and "crs" not in document
    assert "大同市平城区御河雨洪排口".encode() in buffer.getvalue()  # not \\u escaped
    assert document["features"][0]["properties"]["序号"] == 1


def test_write_to_file_object_and_empty(tmp_path):
    buffer = io.BytesIO()
    gisio.write([], buffer, "gpkg", fields=["名称"], layer="outfalls")
    path = tmp_path / "empty.gpkg"
    path.write_bytes(buffer.getvalue())
    dataset = gisio.read(path)
    assert dataset.features == [] and dataset.layers[0].count == 0


def test_write_rejects_unknown_format_and_mixed_shapefile(tmp_path):
    with pytest.raises(gisio.GisError, match="不支持的格式"):
        gisio.write(FEATURES, tmp_path / "x", "dwg")
    mixed = [FEATURES[0], ({"type": "LineString", "coordinates": [[113, 40], [113.1, 40.1]]}, {"编码": "x"})]
    with pytest.raises(gisio.GisError, match="不能在同一文件中混合"):
        gisio.write(mixed, tmp_path / "x.zip", "shp")
    assert not os.path.exists(tmp_path / "x.zip")
