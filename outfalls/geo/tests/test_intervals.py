"""Chainage interval maths (geo/intervals.py): set operations by property, walked lines on constructed rivers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from outfalls.geo import intervals as iv
from outfalls.geo.linref import LocalFrame, RiverLine

ORIGIN = (113.0, 40.0)
FRAME = LocalFrame(40.0)


def lonlat(x_km, y_km):
    return ORIGIN[0] + x_km * 1000 / FRAME.per_lon, ORIGIN[1] + y_km * 1000 / FRAME.per_lat


# A straight river 10 km due east along the reference latitude.
STRAIGHT = RiverLine(LineString([lonlat(0, 0), lonlat(10, 0)]))

pairs = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda p: (p[0] / 2, p[1] / 2)), max_size=12
)


def covers(intervals, x):
    return any(a <= x <= b for a, b in intervals)


# Probe at quarter points: the interval ends are halves, so a probe is never exactly at an end.
PROBES = [k / 4 + 0.125 for k in range(-4, 84)]


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_canonical_is_sorted_disjoint_and_covers_the_same_points(raw):
    result = iv.canonical(raw)
    for (a, b), (c, _) in zip(result, result[1:], strict=False):
        assert a < b < c
    assert all(a < b for a, b in result)
    for x in PROBES:
        assert covers(result, x) == covers([(min(a, b), max(a, b)) for a, b in raw], x)


@settings(max_examples=200, deadline=None)
@given(pairs, pairs)
def test_union_and_intersect_agree_with_pointwise_logic(first, second):
    u, i = iv.union(first, second), iv.intersect(first, second)
    norm1 = [(min(a, b), max(a, b)) for a, b in first]
    norm2 = [(min(a, b), max(a, b)) for a, b in second]
    for x in PROBES:
        assert covers(u, x) == (covers(norm1, x) or covers(norm2, x))
        assert covers(i, x) == (covers(norm1, x) and covers(norm2, x))
    # inclusion–exclusion on lengths
    assert iv.length(u) + iv.length(i) == pytest.approx(iv.length(first) + iv.length(second))


@settings(max_examples=200, deadline=None)
@given(pairs, st.integers(0, 40), st.integers(0, 40))
def test_clip_is_intersection_with_one_interval(raw, lo, hi):
    lo, hi = lo / 2, hi / 2
    assert iv.clip(raw, lo, hi) == iv.intersect(raw, [(lo, hi)])
    assert iv.length(iv.clip(raw, lo, hi)) <= abs(hi - lo) + 1e-12


@settings(max_examples=100, deadline=None)
@given(pairs)
def test_union_is_idempotent_and_length_bounded(raw):
    once = iv.union(raw)
    assert iv.union(once, once) == once
    assert iv.length(once) <= sum(abs(b - a) for a, b in raw) + 1e-12


def test_examples():
    assert iv.union([(0, 2), (1, 3)], [(5, 6), (6, 7)]) == [(0, 3), (5, 7)]
    assert iv.length([(0, 2), (1, 3), (10, 11)]) == 4
    assert iv.clip([(0, 5), (8, 12)], 3, 10) == [(3, 5), (8, 10)]
    assert iv.intersect([(0, 5)], [(4, 9)]) == [(4, 5)]
    assert iv.canonical([(3, 1), (2, 2)]) == [(1, 3)]


def test_a_track_along_one_bank_covers_its_stretch():
    # 100 m north of the river (its left bank when drawn eastward), from km 2 to km 5.
    track = [lonlat(2, 0.1), lonlat(3.5, 0.1), lonlat(5, 0.1)]
    result = iv.line_to_intervals(STRAIGHT, track, buffer_m=200)
    assert len(result) == 1
    assert result[0][0] == pytest.approx(2, abs=0.01)
    assert result[0][1] == pytest.approx(5, abs=0.01)


def test_a_track_walked_downstream_to_upstream_gives_the_same_interval():
    track = [lonlat(5, -0.05), lonlat(2, -0.05)]
    assert iv.length(iv.line_to_intervals(STRAIGHT, track)) == pytest.approx(3, abs=0.01)


def test_parts_beyond_the_buffer_are_dropped():
    # km 1–3 close to the river, then 1 km away from km 3.5 to km 6, then back close from 7 to 8.
    track = [lonlat(1, 0.05), lonlat(3, 0.05), lonlat(3.5, 1), lonlat(6, 1), lonlat(7, 0.05), lonlat(8, 0.05)]
    result = iv.line_to_intervals(STRAIGHT, track, buffer_m=200, step_m=10)
    assert len(result) == 2
    # The walk leaves the buffer a little after km 3 and enters it a little before km 7 (the slant).
    assert result[0][0] == pytest.approx(1, abs=0.01)
    assert 3.0 <= result[0][1] < 3.15
    assert 6.8 < result[1][0] <= 7.0  # enters at x = 6 + 0.8/0.95 ≈ 6.84
    assert result[1][1] == pytest.approx(8, abs=0.01)


def test_track_beyond_the_river_ends_is_clipped_to_the_line():
    track = [lonlat(-2, 0.05), lonlat(12, 0.05)]
    result = iv.line_to_intervals(STRAIGHT, track)
    assert result[0][0] == pytest.approx(0, abs=1e-6)
    assert result[-1][1] == pytest.approx(10, abs=1e-6)


def test_a_jump_across_a_bend_covers_nothing():
    # A U-bend: 0→10 km east, 2 km north, back west; a track crossing straight from one arm to the other
    # at x = 5 (chainage 5 and 17) stays within 200 m of the river only at its ends.
    bend = RiverLine(LineString([lonlat(0, 0), lonlat(10, 0), lonlat(10, 0.3), lonlat(0, 0.3)]))
    track = [lonlat(5, 0.0), lonlat(5, 0.3)]
    result = iv.line_to_intervals(bend, track, buffer_m=200, step_m=400)
    assert iv.length(result) < 0.5


def test_short_or_empty_tracks():
    assert iv.line_to_intervals(STRAIGHT, []) == []
    assert iv.line_to_intervals(STRAIGHT, [lonlat(1, 0)]) == []
    with pytest.raises(TypeError):
        iv.line_to_intervals(LineString([(0, 0), (1, 1)]), [(0, 0), (1, 1)])


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-2, 12, allow_nan=False),
    st.floats(-2, 12, allow_nan=False),
    st.floats(-0.15, 0.15, allow_nan=False),
)
def test_a_parallel_walk_covers_its_stretch_clipped_to_the_river(start, end, offset_km):
    # A straight walk parallel to the 10 km river, within the 200 m buffer: it covers [start, end] ∩ [0, 10].
    result = iv.line_to_intervals(STRAIGHT, [lonlat(start, offset_km), lonlat(end, offset_km)], buffer_m=200)
    lo, hi = max(min(start, end), 0), min(max(start, end), 10)
    expected = max(hi - lo, 0)
    assert iv.length(result) == pytest.approx(expected, abs=0.01)
    assert all(0 <= a < b <= 10 + 1e-9 for a, b in result)
