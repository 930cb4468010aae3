import json
import math
import random

import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon

from outfalls.geo import shapes

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 40.0], [113.1, 40.0], [113.1, 40.1], [113.0, 40.1], [113.0, 40.0]]],
}


def test_shape_of_geometry_and_feature():
    geom = shapes.shape_of(SQUARE)
    assert isinstance(geom, Polygon)
    feature = shapes.shape_of({"type": "Feature", "properties": {}, "geometry": SQUARE})
    assert feature.equals(geom)
    multi = shapes.shape_of({"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]})
    assert isinstance(multi, MultiPolygon)


@pytest.mark.parametrize(
    "bad", [None, [], {"type": "Feature", "geometry": None}, {"type": "Polygon", "coordinates": []}]
)
def test_shape_of_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        shapes.shape_of(bad)


@pytest.mark.parametrize(
    "value",
    [
        SQUARE,
        {"type": "Feature", "properties": {}, "geometry": SQUARE},
        {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]},
        {"type": "LineString", "coordinates": [[113.0, 40.0], [113.2, 40.1], [113.3, 40.3]]},
    ],
)
def test_shape_of_text_reads_what_shape_of_reads(value):
    """GEOS's reader (shape_of_text, for columns read as text) gives exactly the geometry shape_of builds."""
    assert shapes.shape_of_text(json.dumps(value)).equals_exact(shapes.shape_of(value), 0)


@pytest.mark.parametrize(
    "bad",
    [
        "null",
        "[]",
        "{not json",
        json.dumps({"type": "Feature", "geometry": None}),
        json.dumps({"type": "Polygon", "coordinates": []}),
    ],
)
def test_shape_of_text_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        shapes.shape_of_text(bad)


def test_contains():
    geom = shapes.shape_of(SQUARE)
    assert shapes.contains(geom, 113.05, 40.05)
    assert not shapes.contains(geom, 113.2, 40.05)
    assert not shapes.contains(geom, 113.0, 40.05)  # on the boundary


def test_metres_per_degree_at_datong():
    per_lon, per_lat = shapes.metres_per_degree(40.0)
    assert per_lat == pytest.approx(111035, abs=5)
    assert per_lon == pytest.approx(85395, abs=5)
    equator_lon, equator_lat = shapes.metres_per_degree(0.0)
    assert equator_lon == pytest.approx(111319.5, abs=1)
    assert equator_lat == pytest.approx(110574, abs=1)


def test_length_km():
    meridian = LineString([(113.0, 40.0), (113.0, 41.0)])
    assert shapes.length_km(meridian) == pytest.approx(111.04, abs=0.05)
    parallel = LineString([(113.0, 40.0), (114.0, 40.0)])
    assert shapes.length_km(parallel) == pytest.approx(85.4, abs=0.05)
    assert shapes.length_km(LineString()) == 0.0


def test_project_point_to_line():
    line = LineString([(113.0, 40.0), (114.0, 40.0), (114.0, 41.0)])
    per_lon, per_lat = shapes.metres_per_degree(40.5)  # the line's middle latitude
    assert shapes.project_point_to_line(line, 113.0, 40.0) == 0
    assert shapes.project_point_to_line(line, 113.5, 40.01) == pytest.approx(per_lon * 0.5 / 1000)
    assert shapes.project_point_to_line(line, 114.2, 40.5) == pytest.approx((per_lon + per_lat * 0.5) / 1000)
    # Beyond the ends the distance is clamped.
    assert shapes.project_point_to_line(line, 112.0, 40.0) == 0
    assert shapes.project_point_to_line(line, 114.0, 42.0) == pytest.approx((per_lon + per_lat) / 1000)


def test_point_at_fraction():
    line = LineString([(113.0, 40.0), (114.0, 40.0)])
    assert shapes.point_at_fraction(line, 0.25) == pytest.approx((113.25, 40.0))
    assert shapes.point_at_fraction(line, 2) == pytest.approx((114.0, 40.0))


def test_random_point_in_is_inside_and_deterministic():
    # An L-shaped polygon: a third of its bounding box is outside.
    ell = Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    points = [shapes.random_point_in(ell, random.Random(7)) for _ in range(3)]
    assert points[0] == points[1] == points[2]
    rng = random.Random(1)
    many = [shapes.random_point_in(ell, rng) for _ in range(200)]
    assert all(shapes.contains(ell, x, y) for x, y in many)
    assert any(x > 1 for x, _ in many) and any(y > 1 for _, y in many)


def test_random_point_in_gives_up():
    sliver = Polygon([(0, 0), (1, 1), (0.999999, 1)])  # a thin diagonal: its bbox is nearly all outside
    with pytest.raises(ValueError):
        shapes.random_point_in(sliver, random.Random(0), max_tries=50)


def test_point_near_line_inside():
    line = LineString([(112.9, 40.05), (113.2, 40.05)])  # eastward, crosses the square
    square = shapes.shape_of(SQUARE)
    rng = random.Random(3)
    per_lon, per_lat = shapes.metres_per_degree(40.05)
    sides = set()
    for _ in range(100):
        near = shapes.point_near_line_inside(line, square, rng, offset_m=(20, 300))
        assert shapes.contains(square, near.lon, near.lat)
        assert 113.0 < near.lon < 113.1
        offset = (near.lat - 40.05) * per_lat
        assert 20 - 0.01 <= abs(offset) <= 300 + 0.01
        assert near.offset_m == pytest.approx(abs(offset), abs=0.01)
        # Heading east, the left side is north.
        assert (offset > 0) == (near.side == "left")
        sides.add(near.side)
    assert sides == {"left", "right"}


def test_point_near_line_inside_follows_the_line_direction():
    line = LineString([(113.05, 40.09), (113.05, 40.01)])  # southward: left is east
    square = shapes.shape_of(SQUARE)
    near = shapes.point_near_line_inside(line, square, random.Random(5), offset_m=(100, 100))
    per_lon, _ = shapes.metres_per_degree(near.lat)
    assert math.isclose(abs(near.lon - 113.05) * per_lon, 100, abs_tol=0.01)
    assert (near.lon > 113.05) == (near.side == "left")


def test_point_near_line_inside_errors():
    square = shapes.shape_of(SQUARE)
    outside = LineString([(112.0, 39.0), (112.5, 39.0)])
    with pytest.raises(ValueError, match="does not cross"):
        shapes.point_near_line_inside(outside, square, random.Random(0))
    # Offsets far larger than the polygon can never land inside it.
    crossing = LineString([(112.9, 40.05), (113.2, 40.05)])
    with pytest.raises(ValueError, match="No point"):
        shapes.point_near_line_inside(
            crossing, square, random.Random(0), offset_m=(50000, 60000), max_tries=20
        )
