import ast
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from outfalls.geo import coords
from outfalls.geo.coords import (
    CRS,
    CRS_CHOICES,
    CoordinateError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_in_bbox,
    convert,
    format_decimal,
    format_dms,
    from_cgcs2000,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    parse_angle,
    parse_lon_lat,
    parse_point,
    to_cgcs2000,
    validate_lon_lat,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from outfalls.geo.shapes import metres_per_degree

CJK = re.compile(r"[\u4e00-\u9fff]")
DATONG_BBOX = (112.5, 39.0, 114.6, 40.8)

china_lon = st.floats(73.0, 136.0)
china_lat = st.floats(3.0, 54.0)
datong_lon = st.floats(DATONG_BBOX[0], DATONG_BBOX[2])
datong_lat = st.floats(DATONG_BBOX[1], DATONG_BBOX[3])


def offset_m(lon1, lat1, lon2, lat2):
    per_lon, per_lat = metres_per_degree((lat1 + lat2) / 2)
    return math.hypot((lon2 - lon1) * per_lon, (lat2 - lat1) * per_lat)


def max_error(a, b):
    return max(abs(a[0] - b[0]), abs(a[1] - b[1]))


# ---------------------------------------------------------------------------------------------------------
# Floor 0: no Django
# ---------------------------------------------------------------------------------------------------------


def test_module_imports_no_django():
    tree = ast.parse(Path(coords.__file__).read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert names and not [name for name in names if name.split(".")[0] == "django"]


# ---------------------------------------------------------------------------------------------------------
# CRS enum
# ---------------------------------------------------------------------------------------------------------


def test_crs_values_and_labels():
    assert [crs.value for crs in CRS] == ["cgcs2000", "wgs84", "gcj02", "bd09"]
    assert [crs.label for crs in CRS] == ["CGCS2000", "WGS84", "GCJ-02（高德/腾讯）", "BD-09（百度）"]
    assert CRS_CHOICES[2] == ("gcj02", "GCJ-02（高德/腾讯）")
    assert CRS("bd09") is CRS.BD09
    assert CRS.GCJ02 == "gcj02" and isinstance(CRS.GCJ02, str)
    with pytest.raises(ValueError):
        CRS("epsg:3857")


# ---------------------------------------------------------------------------------------------------------
# Reference pairs
# ---------------------------------------------------------------------------------------------------------


def test_tiananmen_widely_published_pair():
    # Widely published coordinate pair for Beijing Tiananmen: WGS84 (116.391350, 39.907723) ->
    # GCJ-02 (116.397590, 39.909124), given to 6 decimals. The standard formula lands 1.24e-6 degree
    # east and 3.1e-7 north of it (about 0.1 m), so the tolerance reflects the pair's own precision.
    lon, lat = wgs84_to_gcj02(116.391350, 39.907723)
    assert lon == pytest.approx(116.397590, abs=2e-6)
    assert lat == pytest.approx(39.909124, abs=2e-6)
    # And back: the inverse returns the published WGS84 point to the same precision.
    assert gcj02_to_wgs84(116.397590, 39.909124) == pytest.approx((116.391350, 39.907723), abs=2e-6)


def test_coordtransform_published_outputs():
    # wandergis/coordtransform (test/app.js) prints these for the input (116.404, 39.915).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    # Its inverses are the one-step approximations; ours iterate. They agree to a few 1e-7 degree, and
    # ours reproduces the input through the forward formula far more closely.
    published_wgs = (116.39775550083061, 39.91359571849836)
    ours_wgs = gcj02_to_wgs84(116.404, 39.915)
    assert ours_wgs == pytest.approx(published_wgs, abs=1e-6)
    assert max_error(wgs84_to_gcj02(*ours_wgs), (116.404, 39.915)) < 1e-9
    assert max_error(wgs84_to_gcj02(*published_wgs), (116.404, 39.915)) > 1e-7
    published_gcj = (116.39762729119315, 39.90865673957631)
    ours_gcj = bd09_to_gcj02(116.404, 39.915)
    assert ours_gcj == pytest.approx(published_gcj, abs=1e-6)
    assert max_error(gcj02_to_bd09(*ours_gcj), (116.404, 39.915)) < 1e-9
    assert max_error(gcj02_to_bd09(*published_gcj), (116.404, 39.915)) > 1e-7


def test_gcoord_published_outputs():
    # hujiulong/gcoord (test/unit/crs/GCJ02.spec.js), checked there to 5 decimals.
    assert gcj02_to_wgs84(123, 45) == pytest.approx((122.99395597, 44.99804071), abs=5e-6)
    assert gcj02_to_bd09(123, 45) == pytest.approx((123.00636499, 45.00636899), abs=1e-7)


# ---------------------------------------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------------------------------------


@given(china_lon, china_lat)
def test_gcj02_round_trip_over_china(lon, lat):
    assert max_error(gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)), (lon, lat)) < 1e-8


@given(china_lon, china_lat)
def test_gcj02_inverse_round_trip_over_china(lon, lat):
    assert max_error(wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat)), (lon, lat)) < 1e-8


def test_gcj02_inverse_is_not_the_one_step_approximation():
    # At Datong the one-step inverse (2g - f(g)) misses by metres; the iterative one does not.
    g = (113.3, 40.09)
    forward = wgs84_to_gcj02(*g)
    one_step = (2 * g[0] - forward[0], 2 * g[1] - forward[1])
    assert max_error(wgs84_to_gcj02(*one_step), g) > 1e-7
    assert max_error(wgs84_to_gcj02(*gcj02_to_wgs84(*g)), g) < 1e-10


@given(st.floats(-180, 180), st.floats(-90, 90))
def test_bd09_round_trip(lon, lat):
    assert max_error(bd09_to_gcj02(*gcj02_to_bd09(lon, lat)), (lon, lat)) < 1e-8


@given(china_lon, china_lat)
def test_bd09_wgs84_round_trips_over_china(lon, lat):
    assert max_error(bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), (lon, lat)) < 1e-8
    assert max_error(wgs84_to_bd09(*bd09_to_wgs84(lon, lat)), (lon, lat)) < 1e-8
    assert max_error(gcj02_to_bd09(*bd09_to_gcj02(lon, lat)), (lon, lat)) < 1e-8


outside_china = st.one_of(
    st.tuples(st.floats(-180, 72.0), st.floats(-90, 90)),
    st.tuples(st.floats(137.9, 180), st.floats(-90, 90)),
    st.tuples(st.floats(-180, 180), st.floats(-90, 0.82)),
    st.tuples(st.floats(-180, 180), st.floats(55.9, 90)),
)


@given(outside_china)
@example((2.2945, 48.8584))  # Paris
@example((139.6917, 35.6895))  # Tokyo
def test_gcj02_passthrough_outside_china(point):
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_out_of_china_box():
    assert not out_of_china(113.3, 40.09)
    assert not out_of_china(72.004, 0.8293) and not out_of_china(137.8347, 55.8271)
    assert out_of_china(72.0, 40) and out_of_china(113, 55.9) and out_of_china(138, 40)


@given(datong_lon, datong_lat)
@example(DATONG_BBOX[0], DATONG_BBOX[1])
@example(DATONG_BBOX[2], DATONG_BBOX[3])
def test_gcj02_offset_in_datong_is_hundreds_of_metres(lon, lat):
    # Measured over the box: about 515–645 m.
    assert 100 < offset_m(lon, lat, *wgs84_to_gcj02(lon, lat)) < 700


@given(datong_lon, datong_lat)
def test_bd09_offset_from_gcj02_in_datong(lon, lat):
    bd_lon, bd_lat = gcj02_to_bd09(lon, lat)
    assert 0.0060 < bd_lon - lon < 0.0070  # about 0.0065
    assert 0.0055 < bd_lat - lat < 0.0065  # about 0.006
    assert 500 < offset_m(lon, lat, bd_lon, bd_lat) < 1000


@pytest.mark.parametrize("crs", list(CRS))
def test_to_and_from_cgcs2000(crs):
    lon, lat = 113.3, 40.09
    there = from_cgcs2000(lon, lat, crs)
    assert to_cgcs2000(*there, crs) == pytest.approx((lon, lat), abs=1e-9)
    assert to_cgcs2000(*there, crs.value) == to_cgcs2000(*there, crs)
    expected_moves = crs in (CRS.GCJ02, CRS.BD09)
    assert (there != (lon, lat)) == expected_moves


def test_to_cgcs2000_uses_the_right_formula():
    assert to_cgcs2000(113.3, 40.09, "gcj02") == gcj02_to_wgs84(113.3, 40.09)
    assert to_cgcs2000(113.3, 40.09, CRS.BD09) == bd09_to_wgs84(113.3, 40.09)
    assert from_cgcs2000(113.3, 40.09, "bd09") == wgs84_to_bd09(113.3, 40.09)
    assert to_cgcs2000(113.3, 40.09, "wgs84") == (113.3, 40.09)
    with pytest.raises(ValueError):
        to_cgcs2000(113.3, 40.09, "mercator")


def test_convert():
    assert convert(113.3, 40.09, "gcj02", "bd09") == gcj02_to_bd09(113.3, 40.09)
    assert convert(113.3, 40.09, CRS.BD09, CRS.GCJ02) == bd09_to_gcj02(113.3, 40.09)
    assert convert(113.3, 40.09, "bd09", "wgs84") == bd09_to_wgs84(113.3, 40.09)
    assert convert(113.3, 40.09, "wgs84", "cgcs2000") == (113.3, 40.09)


# ---------------------------------------------------------------------------------------------------------
# parse_angle: messy real-world values
# ---------------------------------------------------------------------------------------------------------

D1845 = 113 + 18 / 60 + 45 / 3600  # 113°18′45″ = 113.3125
D18455 = 113 + 18 / 60 + 45.5 / 3600
LAT0524 = 40 + 5 / 60 + 24 / 3600  # 40°05′24″ = 40.09

ANGLES = [
    ("113.3125", None, 113.3125),
    ("113.3125°", None, 113.3125),
    (" 113.3125 ", None, 113.3125),
    ("113.3125度", None, 113.3125),
    ("113°18′45″", None, D1845),
    ("113°18'45\"", None, D1845),
    ("113°18’45”", None, D1845),
    ("113°18＇45＂", None, D1845),
    ("113˚18'45\"", None, D1845),
    ("113º18´45〃", None, D1845),
    ("113°18'45.5''", None, D18455),
    ("113度18分45.5秒", None, D18455),
    ("113 度 18 分 45.5 秒", None, D18455),
    ("113 18 45.5", None, D18455),
    ("113:18:45.5", None, D18455),
    ("113：18：45.5", None, D18455),
    ("113°18.75′", None, 113.3125),
    ("113°18.758'", None, 113 + 18.758 / 60),
    ("113 ° 18 ′ 45 ″", None, D1845),
    ("113°18′", None, 113.3),
    ("113°18′45″E", "lon", D1845),
    ("E113°18′45″", "lon", D1845),
    ("E 113.3125", "lon", 113.3125),
    ("113.3125 E", "lon", 113.3125),
    ("e113.3125", "lon", 113.3125),
    ("113.3125e", "lon", 113.3125),
    ("东经113°18′45″", "lon", D1845),
    ("东经：113.3125", "lon", 113.3125),
    ("經度 113.3125", "lon", 113.3125),
    ("经度：113°18′45″", "lon", D1845),
    ("Ｅ１１３．３１２５", "lon", 113.3125),
    ("Ｅ１１３°１８′４５″", "lon", D1845),
    ("１１３．３１２５", None, 113.3125),
    ("113。3125", None, 113.3125),
    ("113.18.45", None, D1845),
    ("113.18.45.5", None, D18455),
    ("北纬40°05′24″", "lat", LAT0524),
    ("40°5′24″N", "lat", LAT0524),
    ("N40.09", "lat", 40.09),
    ("n 40 5 24", "lat", LAT0524),
    ("40°5'24\"n", "lat", LAT0524),
    ("纬度40.09", "lat", 40.09),
    ("S33.8688", "lat", -33.8688),
    ("南纬33°52′", "lat", -(33 + 52 / 60)),
    ("W73.5", "lon", -73.5),
    ("73°30′W", "lon", -73.5),
    ("西经73.5", "lon", -73.5),
    ("-113.5", None, -113.5),
    ("−113.5", None, -113.5),  # U+2212 minus sign
    ("+113.5", None, 113.5),
    ("113°45″", None, 113 + 45 / 3600),  # no minutes written
    ("113.3125。", None, 113.3125),
    ("113.", None, 113.0),
    ("\u3000113.3125\u00a0", None, 113.3125),  # ideographic and no-break spaces
]


@pytest.mark.parametrize(("text", "axis", "expected"), ANGLES)
def test_parse_angle_messy_inputs(text, axis, expected):
    assert parse_angle(text) == pytest.approx(expected, abs=1e-12)
    if axis:
        assert parse_angle(text, axis) == pytest.approx(expected, abs=1e-12)


def test_parse_angle_table_is_large():
    assert len(ANGLES) >= 30


@pytest.mark.parametrize(
    ("value", "expected"), [(113.3125, 113.3125), (113, 113.0), (Decimal("40.0901"), 40.0901), (-5.5, -5.5)]
)
def test_parse_angle_numbers_from_spreadsheets(value, expected):
    assert parse_angle(value) == expected


# ---------------------------------------------------------------------------------------------------------
# parse_point and parse_lon_lat
# ---------------------------------------------------------------------------------------------------------

POINTS = [
    ("113.3125,40.0901", (113.3125, 40.0901)),
    ("113.3125, 40.0901", (113.3125, 40.0901)),
    ("113.3125 , 40.0901", (113.3125, 40.0901)),
    ("113.3125，40.0901", (113.3125, 40.0901)),
    ("113.3125、40.0901", (113.3125, 40.0901)),
    ("113.3125；40.0901", (113.3125, 40.0901)),
    ("113.3125/40.0901", (113.3125, 40.0901)),
    ("113.3125 40.0901", (113.3125, 40.0901)),
    ("113.3125\n40.0901", (113.3125, 40.0901)),
    ("113 18 45 40 5 24", (D1845, LAT0524)),
    ("113°18′45″ 40°05′24″", (D1845, LAT0524)),
    ("113° 18′ 45″ 40° 05′ 24″", (D1845, LAT0524)),
    ("113°18′45″40°05′24″", (D1845, LAT0524)),
    ("E113°18′45″ N40°5′24″", (D1845, LAT0524)),
    ("N40°5′24″ E113°18′45″", (D1845, LAT0524)),
    ("40.0901N 113.3125E", (113.3125, 40.0901)),
    ("40.0901N,113.3125E", (113.3125, 40.0901)),
    ("113.3125E40.0901N", (113.3125, 40.0901)),
    ("E113.3125N40.0901", (113.3125, 40.0901)),
    ("113.3125E 40.0901", (113.3125, 40.0901)),
    ("N40.0901 113.3125", (113.3125, 40.0901)),
    ("东经113°18′45″，北纬40°05′24″", (D1845, LAT0524)),
    ("北纬40°05′24″，东经113°18′45″", (D1845, LAT0524)),
    ("东经 113.3125 北纬 40.0901", (113.3125, 40.0901)),
    ("经度113.3125 纬度40.0901", (113.3125, 40.0901)),
    ("纬度：40.0901，经度：113.3125", (113.3125, 40.0901)),
    ("经度113.3125纬度40.0901", (113.3125, 40.0901)),
    ("Ｅ１１３．３１２５，Ｎ４０．０９０１", (113.3125, 40.0901)),
    ("113度18分45秒,40度5分24秒", (D1845, LAT0524)),
    ("113:18:45, 40:05:24", (D1845, LAT0524)),
    ("113°18'45\"E, 40°05'24\"N", (D1845, LAT0524)),
    ("113.18.45 40.05.24", (D1845, LAT0524)),
]


@pytest.mark.parametrize(("text", "expected"), POINTS)
def test_parse_point(text, expected):
    assert parse_point(text) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        ("113.3125", "40.0901", (113.3125, 40.0901)),
        (113.3125, 40.0901, (113.3125, 40.0901)),
        ("113°18′45″", "40°05′24″", (D1845, LAT0524)),
        ("E113°18′45″", "N40°05′24″", (D1845, LAT0524)),
        ("东经113.3125", "北纬40.0901", (113.3125, 40.0901)),
        ("１１３．３１２５", "４０．０９０１", (113.3125, 40.0901)),
        (Decimal("113.3125"), "40 5 24", (113.3125, LAT0524)),
    ],
)
def test_parse_lon_lat(lon, lat, expected):
    assert parse_lon_lat(lon, lat) == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------

ERRORS = [
    # (function, arguments, code, field)
    (parse_angle, ("",), "empty", None),
    (parse_angle, ("   ",), "empty", None),
    (parse_angle, (None,), "empty", None),
    (parse_angle, (float("nan"),), "empty", None),
    (parse_angle, ("无",), "empty", None),
    (parse_angle, ("/",), "empty", None),
    (parse_angle, ("abc",), "unreadable", None),
    (parse_angle, ("113,3125",), "unreadable", None),
    (parse_angle, ("113.5°18′",), "unreadable", None),  # decimal degrees with minutes
    (parse_angle, ("18′45″",), "unreadable", None),  # no degrees
    (parse_angle, ("113′18°",), "unreadable", None),  # marks in the wrong order
    (parse_angle, ("113 18 45 12",), "unreadable", None),
    (parse_angle, ("113E18",), "unreadable", None),  # a letter in the middle
    (parse_angle, ("E",), "unreadable", None),
    (parse_angle, ("١١٣",), "unreadable", None),  # Arabic-Indic digits are not read as numbers
    (parse_angle, ("-E113",), "unreadable", None),
    (parse_angle, ("-113E",), "hemisphere", None),
    (parse_angle, (float("inf"),), "unreadable", None),
    (parse_angle, (True,), "unreadable", None),
    (parse_angle, ("113°60′",), "minutes", None),
    (parse_angle, ("113°75.5′",), "minutes", None),
    (parse_angle, ("113 61 10",), "minutes", None),
    (parse_angle, ("40°5′60″",), "seconds", None),
    (parse_angle, ("40°5′72.5″",), "seconds", None),
    (parse_angle, ("40:05:60",), "seconds", None),
    (parse_angle, ("N40.09", "lon"), "hemisphere", "lon"),
    (parse_angle, ("113.3E", "lat"), "hemisphere", "lat"),
    (parse_angle, ("纬度40.09", "lon"), "hemisphere", "lon"),
    (parse_angle, ("E40N",), "hemisphere", None),
    (parse_angle, ("200",), "range", None),
    (parse_angle, ("N95",), "range", "lat"),
    (parse_angle, ("95", "lat"), "range", "lat"),
    (parse_point, ("",), "empty", None),
    (parse_point, ("113.3125",), "unreadable", None),
    (parse_point, (113.3125,), "unreadable", None),
    (parse_point, ("113.3125,",), "unreadable", None),
    (parse_point, ("113.3,40.1,5",), "unreadable", None),
    (parse_point, ("113.3125 40.0901 5 6 7 8 9",), "unreadable", None),
    (parse_point, ("坐标见附件",), "unreadable", None),
    (parse_point, ("113 18 40 5",), "ambiguous", None),  # 113°18′ + 40°5′, or 113° + 18°40′5″, ...
    (parse_point, ("113.3125 E 40.0901",), "ambiguous", None),
    (parse_point, ("E113 E40",), "hemisphere", None),
    (parse_point, ("N40.09,S40",), "hemisphere", None),
    (parse_point, ("40.0901,113.3125",), "swapped", None),
    (parse_point, ("40.0901 113.3125",), "swapped", None),
    (parse_point, ("40°05′24″ 113°18′45″",), "swapped", None),
    (parse_point, ("12.3,40",), "range", "lon"),
    (parse_point, ("113.3,60",), "range", "lat"),
    (parse_point, ("W113.3,N40.1",), "range", "lon"),
    (parse_point, ("N113.3 E40.1",), "range", "lon"),  # letters decide, so no swap is suspected
    (parse_point, ("113°18′45″, 40°65′24″",), "minutes", None),
    (parse_point, ("113 18 45 40 5 61",), "seconds", None),
    (parse_lon_lat, ("", ""), "empty", None),
    (parse_lon_lat, (None, None), "empty", None),
    (parse_lon_lat, ("113.3", ""), "empty", "lat"),
    (parse_lon_lat, ("", "40.1"), "empty", "lon"),
    (parse_lon_lat, ("113.3,40.1", "40.1"), "unreadable", "lon"),
    (parse_lon_lat, ("40.0901", "113.3125"), "swapped", None),
    (parse_lon_lat, (40.0901, 113.3125), "swapped", None),
    (parse_lon_lat, ("N40.0901", "E113.3125"), "swapped", None),
    (parse_lon_lat, ("N40.0901", "40.0901"), "hemisphere", "lon"),
    (parse_lon_lat, ("113.3125", "E40.0901"), "hemisphere", "lat"),
    (parse_lon_lat, ("113°61′", "40"), "minutes", "lon"),
    (parse_lon_lat, ("113", "40°5′60″"), "seconds", "lat"),
    (parse_lon_lat, ("12.3", "40"), "range", "lon"),
    (parse_lon_lat, ("113.3", "2.5"), "range", "lat"),
    (parse_lon_lat, ("113.3", "S40"), "range", "lat"),
    (validate_lon_lat, (40.1, 113.3), "swapped", None),
    (validate_lon_lat, (150.0, 40.0), "range", "lon"),
]


@pytest.mark.parametrize(("function", "args", "code", "field"), ERRORS)
def test_errors_have_code_field_and_chinese_message(function, args, code, field):
    with pytest.raises(CoordinateError) as caught:
        function(*args)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.code, error.field) == (code, field)
    assert CJK.search(error.message), error.message
    assert str(error) == error.message


def test_error_messages():
    def message(function, *args):
        with pytest.raises(CoordinateError) as caught:
            function(*args)
        return caught.value.message

    assert message(parse_angle, "") == "坐标为空"
    assert message(parse_point, "  ") == "坐标为空"
    assert message(parse_angle, "abc") == "无法识别的坐标：abc"
    assert message(parse_point, "12.3,40") == "经度 12.3 超出范围（73–136）"
    assert message(parse_point, "113.3,60") == "纬度 60 超出范围（3–54）"
    assert message(parse_point, "40.0901,113.3125").startswith("经纬度疑似填反：")
    assert "40.0901" in message(parse_point, "40.0901,113.3125")
    assert message(parse_lon_lat, "40.0901", "113.3125").startswith("经纬度疑似填反：")
    assert message(parse_angle, "113°60′") == "分值必须小于 60，实为 60：113°60′"
    assert message(parse_angle, "40°5′60.5″") == "秒值必须小于 60，实为 60.5：40°5′60.5″"
    assert message(parse_angle, "N40", "lon") == "经度不应带有纬度方向标记：N40"
    assert message(parse_lon_lat, "113.3", "") == "纬度：坐标为空"
    assert message(parse_lon_lat, "113°61′", "40") == "经度：分值必须小于 60，实为 61：113°61′"


def test_swapped_is_never_auto_corrected():
    with pytest.raises(CoordinateError):
        parse_point("40.0901, 113.3125")
    # With letters, the order is whatever the letters say: no error, no guess.
    assert parse_point("40.0901N, 113.3125E") == (113.3125, 40.0901)


@given(st.floats(3.0, 54.0), st.floats(73.0, 136.0))
def test_swapped_pairs_are_reported(lon, lat):
    for call in (
        lambda: parse_point(f"{format_decimal(lon)},{format_decimal(lat)}"),
        lambda: parse_point(f"{format_decimal(lon)} {format_decimal(lat)}"),
        lambda: parse_lon_lat(format_decimal(lon), format_decimal(lat)),
        lambda: parse_lon_lat(lon, lat),
    ):
        with pytest.raises(CoordinateError) as caught:
            call()
        assert caught.value.code == "swapped"
        assert caught.value.message.startswith("经纬度疑似填反")


# ---------------------------------------------------------------------------------------------------------
# Formatting and round trips
# ---------------------------------------------------------------------------------------------------------


def test_format_dms():
    assert format_dms(113.3125, "lon") == "113°18′45.00″E"
    assert format_dms(40.09, "lat") == "40°05′24.00″N"
    assert format_dms(-73.5, "lon") == "73°30′00.00″W"
    assert format_dms(-33.8688, "lat", decimals=1) == "33°52′07.7″S"
    assert format_dms(113.3125, "lon", decimals=0) == "113°18′45″E"
    assert format_dms(40.0999999999, "lat") == "40°06′00.00″N"  # rounding carries into minutes
    assert format_dms(112.99999999, "lon") == "113°00′00.00″E"  # and degrees
    assert format_dms(-0.0000001, "lon") == "0°00′00.00″E"  # no "W" on a value that rounds to zero
    with pytest.raises(ValueError):
        format_dms(113.3, "x")
    with pytest.raises(ValueError):
        format_dms(math.nan, "lon")


def test_format_decimal():
    assert format_decimal(113.3125) == "113.312500"
    assert format_decimal(40.09012345) == "40.090123"
    assert format_decimal(-73.5) == "-73.500000"


axes_and_values = st.one_of(
    st.tuples(st.just("lon"), st.floats(-180, 180)),
    st.tuples(st.just("lat"), st.floats(-90, 90)),
)


@given(axes_and_values)
@example(("lon", 113.3125))
@example(("lat", -0.0))
@example(("lon", 179.99999999))
def test_dms_round_trip(axis_value):
    axis, value = axis_value
    # 0.001″ is 2.8e-7 degree: the round trip is within 1e-6.
    assert parse_angle(format_dms(value, axis, decimals=3), axis) == pytest.approx(value, abs=1e-6)
    # The default 0.01″ keeps half of 0.01″ (1.4e-6 degree).
    assert parse_angle(format_dms(value, axis)) == pytest.approx(value, abs=0.005 / 3600 + 1e-12)


@given(axes_and_values)
def test_dms_letter_of_the_other_axis_is_rejected(axis_value):
    axis, value = axis_value
    other = "lat" if axis == "lon" else "lon"
    with pytest.raises(CoordinateError) as caught:
        parse_angle(format_dms(value, axis), other)
    assert caught.value.code == "hemisphere"


@given(st.floats(-180, 180))
def test_decimal_round_trip(value):
    assert parse_angle(format_decimal(value)) == pytest.approx(value, abs=5e-7 + 1e-12)


def to_full_width(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(china_lon, china_lat, st.integers(0, 7))
def test_parse_point_round_trip_in_many_layouts(lon, lat, layout):
    dms_lon, dms_lat = format_dms(lon, "lon", decimals=3), format_dms(lat, "lat", decimals=3)
    dec_lon, dec_lat = format_decimal(lon), format_decimal(lat)
    text = [
        f"{dec_lon},{dec_lat}",
        f"{dec_lon} {dec_lat}",
        f"{dms_lon} {dms_lat}",
        f"{dms_lat} {dms_lon}",
        f"{dms_lat}{dms_lon}",
        f"东经{dms_lon[:-1]}，北纬{dms_lat[:-1]}",
        to_full_width(f"{dec_lat}N,{dec_lon}E"),
        f"经度：{dec_lon} 纬度：{dec_lat}",
    ][layout]
    assert parse_point(text) == pytest.approx((lon, lat), abs=1e-6)


@given(st.text(max_size=30))
@example("113°18′45″ 40°05′24″ E")
@example("E E 113")
@example("..")
def test_garbage_never_crashes(text):
    for function in (parse_angle, parse_point):
        try:
            result = function(text)
        except CoordinateError as error:
            assert CJK.search(error.message)
        else:
            assert all(math.isfinite(v) for v in (result if isinstance(result, tuple) else (result,)))


coordinate_characters = st.text(alphabet="0123456789.,°′″'\" :ENWSenws东经北纬度分秒，、-", max_size=30)


@given(coordinate_characters)
def test_coordinate_like_garbage_never_crashes(text):
    for function in (parse_angle, parse_point):
        try:
            function(text)
        except CoordinateError as error:
            assert CJK.search(error.message)


# ---------------------------------------------------------------------------------------------------------
# Ranges and bounding boxes
# ---------------------------------------------------------------------------------------------------------


def test_validate_lon_lat():
    validate_lon_lat(113.3, 40.09)
    validate_lon_lat(73, 3)
    validate_lon_lat(136, 54)
    # Without the swap check a swapped pair is reported as out of range instead.
    with pytest.raises(CoordinateError) as caught:
        validate_lon_lat(40.1, 113.3, detect_swap=False)
    assert caught.value.code == "range"


def test_check_in_bbox():
    assert check_in_bbox(113.3, 40.09, DATONG_BBOX) is None
    assert check_in_bbox(112.5, 39.0, DATONG_BBOX) is None  # on the edge
    message = check_in_bbox(116.3913, 39.9077, DATONG_BBOX, region="大同市")
    assert message == "坐标（116.3913，39.9077）不在大同市范围内（经度 112.5–114.6，纬度 39–40.8）"
    assert "辖区" in check_in_bbox(111.0, 40.0, DATONG_BBOX)
    assert check_in_bbox(112.45, 40.0, DATONG_BBOX) is not None
    assert check_in_bbox(112.45, 40.0, DATONG_BBOX, margin=0.1) is None
    with pytest.raises(ValueError):
        check_in_bbox(113, 40, (114.6, 39.0, 112.5, 40.8))


@given(datong_lon, datong_lat)
def test_check_in_bbox_accepts_every_point_inside(lon, lat):
    assert check_in_bbox(lon, lat, DATONG_BBOX) is None
