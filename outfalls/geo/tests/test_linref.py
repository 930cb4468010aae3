"""Linear referencing (geo/linref.py) and the bulk index (geo/index.py), on constructed rivers."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, box

from outfalls.geo import shapes
from outfalls.geo.index import GeometryIndex
from outfalls.geo.linref import LocalFrame, RiverLine

ORIGIN = (113.0, 40.0)
FRAME = LocalFrame(40.0)


def lonlat(x_km, y_km):
    """A point x km east and y km north of ORIGIN."""
    return ORIGIN[0] + x_km * 1000 / FRAME.per_lon, ORIGIN[1] + y_km * 1000 / FRAME.per_lat


def line(*km_points):
    return LineString([lonlat(x, y) for x, y in km_points])


# A U-bend drawn from upstream to downstream: 10 km east, 2 km north, 10 km back west (22 km in all).
U_BEND = line((0, 0), (10, 0), (10, 2), (0, 2))
# Sections: A and C on the near (southern) arm, B on the far (northern) arm, 2 km north of A.
U_SECTIONS = [("A", "甲", *lonlat(2, 0)), ("C", "丙", *lonlat(8, 0)), ("B", "乙", *lonlat(2, 2))]


def test_local_frame_round_trip_and_scale():
    per_lon, per_lat = shapes.metres_per_degree(40.0)
    assert (FRAME.per_lon, FRAME.per_lat) == (per_lon, per_lat)
    x, y = FRAME.xy([113.5], [40.25])
    assert np.allclose(FRAME.lonlat(x, y), ([113.5], [40.25]))
    square = box(113.0, 40.0, 113.01, 40.01)
    assert FRAME.geometry_lonlat(FRAME.geometry(square)).equals_exact(square, 1e-12)


def test_chainage_on_a_straight_line_in_km():
    river = RiverLine(line((0, 0), (30, 0)))
    assert river.length_km == pytest.approx(30, rel=1e-3)
    chainage, offset = river.locate_many(*zip(lonlat(12, 0.25), lonlat(29, -0.1), strict=True))
    assert chainage == pytest.approx([12, 29], rel=1e-3)
    assert offset == pytest.approx([250, 100], rel=1e-2)


def test_sections_are_ordered_along_the_river_not_as_given():
    river = RiverLine(U_BEND, U_SECTIONS)
    assert [s.key for s in river.sections] == ["A", "C", "B"]
    assert [s.chainage_km for s in river.sections] == pytest.approx([2, 8, 20], rel=1e-3)
    assert all(s.offset_m < 1 for s in river.sections)


def test_bent_river_follows_the_water_not_the_crow():
    river = RiverLine(U_BEND, U_SECTIONS)
    # On the far arm, 100 m off it, 1 km before B (the water runs west there).
    lon, lat = lonlat(3, 2.1)
    position = river.locate(lon, lat)
    assert position.chainage_km == pytest.approx(19, rel=1e-3)
    assert position.offset_m == pytest.approx(100, rel=1e-2)
    # Along the river it lies between C and B; in a straight line A is nearer than C.
    assert (position.upstream.key, position.downstream.key) == ("C", "B")
    here = Point(FRAME.xy(lon, lat))
    crow = {key: here.distance(Point(FRAME.xy(slon, slat))) for key, _, slon, slat in U_SECTIONS}
    assert crow["A"] < crow["C"]
    assert position.to_downstream_km == pytest.approx(1, rel=1e-2)
    assert position.to_upstream_km == pytest.approx(11, rel=1e-2)
    # On the near arm, between A and C.
    near = river.locate(*lonlat(3, -0.1))
    assert (near.upstream.key, near.downstream.key) == ("A", "C")
    assert near.to_upstream_km == pytest.approx(1, rel=1e-2)


def test_l_shaped_river_corner():
    river = RiverLine(
        line((0, 0), (5, 0), (5, -5)), [("S1", "上", *lonlat(4, 0)), ("S2", "下", *lonlat(5, -1))]
    )
    # Inside the corner, nearer the second leg: already past S1 along the water.
    position = river.locate(*lonlat(4.8, -0.5))
    assert position.chainage_km == pytest.approx(5.5, rel=1e-3)
    assert (position.upstream.key, position.downstream.key) == ("S1", "S2")


def test_before_the_first_and_after_the_last_section():
    river = RiverLine(U_BEND, U_SECTIONS)
    before = river.locate(*lonlat(1, 0.05))
    assert before.upstream is None and before.downstream.key == "A"
    assert before.to_upstream_km is None and before.to_downstream_km == pytest.approx(1, rel=1e-2)
    after = river.locate(*lonlat(0.5, 2.05))
    assert after.upstream.key == "B" and after.downstream is None
    assert after.to_upstream_km == pytest.approx(1.5, rel=1e-2) and after.to_downstream_km is None
    # Beyond the ends of the line itself: clamped to chainage 0 and to the length.
    assert river.chainage(*lonlat(-3, 0)) == pytest.approx(0, abs=1e-9)
    assert river.chainage(*lonlat(-3, 2)) == pytest.approx(river.length_km, rel=1e-9)


def test_a_point_at_a_section_is_below_it():
    river = RiverLine(U_BEND, U_SECTIONS)
    position = river.locate(*lonlat(8, 0))
    assert (position.upstream.key, position.downstream.key) == ("C", "B")


def test_river_without_sections():
    river = RiverLine(U_BEND)
    position = river.locate(*lonlat(5, 0.2))
    assert position.upstream is None and position.downstream is None
    assert position.chainage_km == pytest.approx(5, rel=1e-3)
    upstream, downstream = river.section_indexes([1.0, 30.0])
    assert upstream.tolist() == [-1, -1] and downstream.tolist() == [-1, -1]


def test_multilinestring_joined_and_with_a_gap():
    joined = MultiLineString([line((0, 0), (5, 0)).coords, line((5, 0), (5, 5)).coords])
    assert RiverLine(joined).length_km == pytest.approx(10, rel=1e-3)
    assert RiverLine(joined).chainage(*lonlat(5.1, 3)) == pytest.approx(8, rel=1e-3)
    # A gap: the second part's chainage continues from the first part's length.
    gapped = MultiLineString([line((0, 0), (5, 0)).coords, line((6, 0), (10, 0)).coords])
    river = RiverLine(gapped)
    assert river.length_km == pytest.approx(9, rel=1e-3)
    assert river.chainage(*lonlat(8, 0.1)) == pytest.approx(7, rel=1e-3)


def test_rejects_what_is_not_a_line():
    with pytest.raises(ValueError):
        RiverLine(box(113, 40, 113.1, 40.1))
    with pytest.raises(ValueError):
        RiverLine(LineString([(113, 40), (113, 40)]))


def test_vectorised_matches_one_by_one():
    river = RiverLine(U_BEND, U_SECTIONS)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(-1, 11, 200), rng.uniform(-1, 3, 200)
    lons, lats = zip(*(lonlat(x, y) for x, y in zip(xs, ys, strict=True)), strict=True)
    chainage, _ = river.locate_many(lons, lats)
    upstream, downstream = river.section_indexes(chainage)
    for n in range(0, 200, 17):
        one = river.locate(lons[n], lats[n])
        assert one.chainage_km == pytest.approx(chainage[n])
        assert (one.upstream.key if one.upstream else None) == (
            river.sections[upstream[n]].key if upstream[n] >= 0 else None
        )
        assert (one.downstream.key if one.downstream else None) == (
            river.sections[downstream[n]].key if downstream[n] >= 0 else None
        )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=30))
def test_chainage_is_monotonic_along_the_line(fractions):
    # A winding river (it doubles back twice): points taken along it in order have rising chainage.
    river_geom = line((0, 0), (6, 0), (6, 3), (1, 3), (1, 6), (9, 6))
    river = RiverLine(river_geom)
    fractions = sorted(fractions)
    points = [river_geom.interpolate(f, normalized=True) for f in fractions]
    chainage, offset = river.locate_many([p.x for p in points], [p.y for p in points])
    assert np.all(np.diff(chainage) >= -1e-9)
    assert np.all(offset < 1e-3)
    assert chainage[-1] <= river.length_km + 1e-9


# geo/index.py ------------------------------------------------------------------------------------------
def test_index_containing_within_distance_and_nearest():
    squares = [box(0, 0, 10, 10), box(5, 5, 15, 15), box(100, 100, 110, 110)]
    index = GeometryIndex(squares)
    points = shapely.points([1, 7, 50, 10], [1, 7, 50, 5])
    p, g = index.containing(points)
    assert sorted(zip(p.tolist(), g.tolist(), strict=True)) == [
        (0, 0),
        (1, 0),
        (1, 1),
    ]  # a boundary is not inside
    i, j, d = index.within_distance(shapely.points([20], [20]), 8)
    assert (i.tolist(), j.tolist()) == ([0], [1]) and d.tolist() == pytest.approx([50**0.5])
    nearest, distance = index.nearest(shapely.points([50, 12], [50, 12]))
    assert nearest.tolist() == [1, 1]
    assert distance.tolist() == pytest.approx([(35**2 + 35**2) ** 0.5, 0])
    # A tie goes to the lower index.
    tied = GeometryIndex([box(0, 0, 1, 1), box(3, 0, 4, 1)])
    assert tied.nearest(shapely.points([2], [0.5]))[0].tolist() == [0]


def test_index_empty():
    index = GeometryIndex([])
    points = shapely.points([1], [1])
    assert [a.tolist() for a in index.containing(points)] == [[], []]
    nearest, distance = index.nearest(points)
    assert nearest.tolist() == [-1] and np.isinf(distance[0])
    assert [a.tolist() for a in index.within_distance(points, 5)] == [[], [], []]


def test_stretch_between_two_chainages_follows_the_line():
    from outfalls.geo.linref import RiverLine

    river = RiverLine(LineString([(113.0, 40.0), (113.0, 40.1), (113.1, 40.1)]))
    first_leg_km = river.chainage(113.0, 40.1)
    piece = river.stretch(first_leg_km - 1, first_leg_km + 1)  # 1 km either side of the bend, either order
    assert piece.geom_type == "LineString"
    assert river.frame.geometry(piece).length == pytest.approx(2000, rel=1e-6)
    assert any(Point(c).distance(Point(113.0, 40.1)) < 1e-9 for c in piece.coords)  # it bends with the river
    assert river.stretch(7, 5).equals(river.stretch(5, 7))
    assert river.stretch(river.length_km + 1, river.length_km + 2) is None
