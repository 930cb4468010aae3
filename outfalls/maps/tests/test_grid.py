"""The box query against a brute-force computation in Python, and the grid's arithmetic."""

import math
import random

import pytest

from outfalls.core.params import ParamError
from outfalls.maps.grid import BBox, Grid, aggregate, box_query, parse_zoom
from outfalls.registry.models import Outfall


def brute_force(rows, grid, bbox):
    cells = {}
    for lon, lat, type_code in rows:
        if not (bbox.min_lon <= lon <= bbox.max_lon and bbox.min_lat <= lat <= bbox.max_lat):
            continue
        key = (math.floor(lon / grid.lon_step), math.floor(lat / grid.lat_step))
        cell = cells.setdefault(key, {"count": 0, "lon": 0.0, "lat": 0.0, "types": {}})
        cell["count"] += 1
        cell["lon"] += lon
        cell["lat"] += lat
        cell["types"][type_code] = cell["types"].get(type_code, 0) + 1
    return {
        tuple(round(v, 9) for v in grid.cell_bounds(*key)): (
            c["count"],
            round(c["lon"] / c["count"], 6),
            round(c["lat"] / c["count"], 6),
            c["types"],
        )
        for key, c in cells.items()
    }


@pytest.mark.django_db
def test_sql_aggregates_equal_a_python_computation():
    rows = list(Outfall.objects.values_list("lon", "lat", "type_code"))
    rng = random.Random(7)
    for _ in range(25):
        zoom = rng.randint(5, 14)
        lon, lat = rng.uniform(112.5, 114.5), rng.uniform(39.3, 40.6)
        half = rng.uniform(0.02, 1.5)
        grid = Grid.for_zoom(zoom, lat)
        bbox = grid.widen(BBox(lon - half, lat - half / 2, lon + half, lat + half / 2))
        got = {
            tuple(c["bounds"]): (c["count"], c["lon"], c["lat"], c["types"])
            for c in aggregate(Outfall.objects.all(), grid, bbox)
        }
        expected = brute_force(rows, grid, bbox)
        assert got.keys() == expected.keys()
        for key, (count, mean_lon, mean_lat, types) in expected.items():
            assert got[key][0] == count
            assert got[key][1] == pytest.approx(mean_lon, abs=2e-6)
            assert got[key][2] == pytest.approx(mean_lat, abs=2e-6)
            assert got[key][3] == types


@pytest.mark.django_db
def test_box_query_switches_between_points_and_aggregates():
    everything = BBox(111, 38, 116, 42)
    total = Outfall.objects.count()
    result = box_query(Outfall.objects.all(), everything, 12, point_limit=total, points_min_zoom=12)
    assert result["mode"] == "points" and result["total"] == total
    result = box_query(Outfall.objects.all(), everything, 12, point_limit=total - 1, points_min_zoom=12)
    assert result["mode"] == "clusters" and result["total"] == total
    result = box_query(Outfall.objects.all(), everything, 11, point_limit=total, points_min_zoom=12)
    assert result["mode"] == "clusters" and result["total"] == total


def test_cells_are_snapped_and_square_on_screen():
    grid = Grid.for_zoom(10, 40.1)
    assert grid.lon_step == 360 / 2**10 / 256 * 64
    assert grid.lat_step == grid.lon_step * 6 / 8  # cos 40° ≈ 0.77, in eighths
    assert Grid.for_zoom(10, 39.6) == grid  # the same grid a little further south
    box = grid.widen(BBox(113.01, 39.99, 113.52, 40.33))
    for value, step in (
        (box.min_lon, grid.lon_step),
        (box.max_lon, grid.lon_step),
        (box.min_lat, grid.lat_step),
    ):
        assert value / step == int(value / step)
    assert box.min_lon <= 113.01 and box.max_lon >= 113.52 and box.min_lat <= 39.99 and box.max_lat >= 40.33


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "1,2,3",
        "1,2,3,x",
        "3,2,1,4",
        "nan,1,2,3",
        "1,2,3,4,5",
        "inf,1,2,3",
        "1e400,1,2,3",
        "١,2,3,4",
    ],
)
def test_bad_boxes(text):
    with pytest.raises(ParamError):
        BBox.parse(text)


def test_boxes_beyond_the_world_are_clamped():
    assert BBox.parse("-200,-95,200,95").as_tuple() == (-180, -90, 180, 90)


def test_zoom():
    assert parse_zoom("11.6") == 11
    assert parse_zoom("40") == 22
    assert parse_zoom(None, default=14) == 14
    with pytest.raises(ParamError):
        parse_zoom(None)
    for text in ("far", "inf", "-inf", "nan", "1e400", "²", "١٢"):
        with pytest.raises(ParamError):
            parse_zoom(text)


@pytest.mark.django_db
@pytest.mark.parametrize("half_width", [0.004, 0.03, 0.049, 0.051, 0.2, 1.0])
def test_narrow_and_wide_boxes_find_the_same_rows_as_python(half_width):
    """A narrow box is read through the (lon, lat) index and a wide one past it (maps/grid.py, BBox.q): the
    rows are the same either way, edges included."""
    from outfalls.maps.grid import INDEXED_BOX_DEGREES, in_box

    rows = list(Outfall.objects.values_list("pk", "lon", "lat"))
    rng = random.Random(11)
    for pk, lon, lat in rng.sample(rows, 8):
        # An outfall's own longitude on the box's west edge and its latitude on the north edge.
        bbox = BBox(lon, lat - half_width, lon + 2 * half_width, lat)
        expected = {p for p, x, y in rows if bbox.contains(x, y)}
        assert pk in expected
        queryset = in_box(Outfall.objects.all(), bbox)
        assert set(queryset.values_list("pk", flat=True)) == expected
        sql = str(queryset.query)
        assert ("(+" in sql) == (2 * half_width > INDEXED_BOX_DEGREES), sql
