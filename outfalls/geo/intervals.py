"""Chainage intervals along a river (no Django): union, clip, intersect, length, and walked lines → intervals.

An interval is a pair ``(start_km, end_km)`` with ``start_km < end_km`` along a river line (see linref.py:
chainage is km from the line's first vertex). A *set* of intervals is a list of such pairs; the functions
here return sets in canonical form: sorted, disjoint, no empty or touching pieces (touching pieces merge).

``line_to_intervals`` turns a walked GPS track into the stretches of the river it covers: the track is
densified, each vertex projected onto the river line (chainage and distance from the line), and every
pair of consecutive vertices both within ``buffer_m`` of the river covers the chainage between their
projections. A pair whose projections jump further along the river than the walked step could explain
(a track that crosses a bend, or a GPS jump) covers nothing.
"""

import math

import numpy as np
import shapely
from shapely.geometry import LineString

from .linref import RiverLine


def canonical(intervals):
    """Sorted, merged, non-empty intervals; (a, b) pairs may be given in either order."""
    pieces = sorted((min(a, b), max(a, b)) for a, b in intervals if a != b)
    merged = []
    for a, b in pieces:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def union(*interval_sets):
    """The union of any number of interval sets."""
    return canonical([pair for intervals in interval_sets for pair in intervals])


def clip(intervals, start, end):
    """The parts of intervals within [start, end]."""
    lo, hi = min(start, end), max(start, end)
    return canonical((max(a, lo), min(b, hi)) for a, b in canonical(intervals) if min(b, hi) > max(a, lo))


def intersect(first, second):
    """The intersection of two interval sets."""
    result = []
    a_list, b_list = canonical(first), canonical(second)
    i = j = 0
    while i < len(a_list) and j < len(b_list):
        lo = max(a_list[i][0], b_list[j][0])
        hi = min(a_list[i][1], b_list[j][1])
        if hi > lo:
            result.append((lo, hi))
        if a_list[i][1] < b_list[j][1]:
            i += 1
        else:
            j += 1
    return canonical(result)


def length(intervals):
    """Total length of an interval set (overlaps counted once)."""
    return sum(b - a for a, b in canonical(intervals))


def _densify(coords_m, step_m):
    line = LineString(coords_m)
    if line.length == 0:
        return np.asarray(coords_m[:1], dtype=float)
    count = max(2, int(math.ceil(line.length / step_m)) + 1)
    points = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, count))
    return shapely.get_coordinates(points)


def line_to_intervals(river, track_lonlat, *, buffer_m=200.0, step_m=20.0, slack=1.5):
    """Chainage intervals (km) of ``river`` (a linref.RiverLine) covered by a walked line.

    track_lonlat: a sequence of (lon, lat). Vertices further than buffer_m from the river cover nothing.
    slack: how much further along the river than the walked step a pair of projections may be apart
    (plus twice the buffer) before the pair is taken as a jump and ignored.
    """
    if not isinstance(river, RiverLine):
        raise TypeError("river must be a linref.RiverLine")
    coords = [(float(lon), float(lat)) for lon, lat in track_lonlat]
    if len(coords) < 2:
        return []
    x, y = river.frame.xy([c[0] for c in coords], [c[1] for c in coords])
    dense = _densify(list(zip(x, y, strict=True)), step_m)
    lons, lats = river.frame.lonlat(dense[:, 0], dense[:, 1])
    chainage_km, offset_m = river.locate_many(lons, lats)
    near = offset_m <= buffer_m
    steps_m = np.hypot(np.diff(dense[:, 0]), np.diff(dense[:, 1]))
    pieces = []
    for i, step in enumerate(steps_m):
        if not (near[i] and near[i + 1]):
            continue
        a, b = chainage_km[i], chainage_km[i + 1]
        if abs(b - a) * 1000 > slack * step + 2 * buffer_m:
            continue
        pieces.append((float(a), float(b)))
    return canonical(pieces)
