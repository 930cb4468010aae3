"""Small planar helpers over shapely 2 geometries in longitude/latitude degrees (no Django).

Distances use an equirectangular approximation: around a reference latitude φ one degree of latitude is
about 111 133 − 560·cos 2φ m and one degree of longitude about 111 413·cos φ − 94·cos 3φ m (the usual
series for the WGS84/CGCS2000 ellipsoid). Within a county or along a river of a few hundred kilometres
this is good to well under 1 %, which is enough for placing demo points and ordering sections along a
river; it is not a survey-grade measure.
"""

import bisect
import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, shape


def shape_of(geojson):
    """A shapely geometry from a GeoJSON geometry dict (a Feature's geometry is taken too)."""
    if not isinstance(geojson, dict):
        raise ValueError("GeoJSON geometry must be a dict.")
    if geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
        if not geojson:
            raise ValueError("GeoJSON feature has no geometry.")
    geom = shape(geojson)
    if geom.is_empty:
        raise ValueError("GeoJSON geometry is empty.")
    return geom


def shape_of_text(text):
    """A shapely geometry from GeoJSON text (a geometry or a Feature), parsed by GEOS without building Python
    lists: about four times faster than json.loads and shape_of for Datong's county boundaries, which
    matters where they are read on every save (registry/checks.py). ValueError if unreadable or empty."""
    try:
        geom = shapely.from_geojson(text)
    except (shapely.errors.GEOSException, TypeError) as error:
        raise ValueError(f"GeoJSON geometry is unreadable: {error}") from error
    if geom is None or geom.is_empty:
        raise ValueError("GeoJSON geometry is empty.")
    return geom


_POLYGONAL = ("Polygon", "MultiPolygon", "GeometryCollection")


def rfc7946(geojson):
    """A GeoJSON geometry dict whose polygon rings follow RFC 7946 §3.1.6 (the right-hand rule: exterior
    rings counterclockwise, holes clockwise). Points and lines, None and unreadable geometry are returned
    as they are."""
    if not isinstance(geojson, dict) or geojson.get("type") not in _POLYGONAL:
        return geojson
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        return geojson
    oriented = shapely.orient_polygons(geom, exterior_cw=False)
    return shapely.geometry.mapping(oriented) if not oriented.equals_exact(geom, 0) else geojson


def contains(geom, lon, lat):
    """True when the point lies inside geom (a point on the boundary does not count)."""
    return bool(shapely.contains_xy(geom, lon, lat))


def metres_per_degree(lat):
    """(metres per degree of longitude, metres per degree of latitude) at latitude lat (a number or a numpy
    array of them)."""
    if isinstance(lat, float | int) or np.ndim(lat) == 0:  # a number (np.ndim alone costs a microsecond)
        phi = math.radians(lat)
        cos = math.cos
    else:
        phi = np.radians(lat)
        cos = np.cos
    per_lat = 111132.954 - 559.822 * cos(2 * phi) + 1.175 * cos(4 * phi)
    per_lon = 111412.84 * cos(phi) - 93.5 * cos(3 * phi) + 0.118 * cos(5 * phi)
    return per_lon, per_lat


def distance_m(lon1, lat1, lon2, lat2):
    """Metres between nearby points (numbers or numpy arrays), with the scale at their middle latitude: the
    one distance every part of the platform uses (imports, spatial checks, survey decisions)."""
    per_lon, per_lat = metres_per_degree((lat1 + lat2) / 2)
    if isinstance(per_lat, float):
        return math.hypot((lon2 - lon1) * per_lon, (lat2 - lat1) * per_lat)
    return np.hypot((lon2 - lon1) * per_lon, (lat2 - lat1) * per_lat)


def degrees_around(lat, metres):
    """(degrees of longitude, degrees of latitude) that cover `metres` at latitude lat: a box to prefilter by."""
    per_lon, per_lat = metres_per_degree(lat)
    return metres / max(per_lon, 1.0), metres / per_lat


def reference_latitude(geom):
    """The middle latitude of geom's bounding box: the latitude its metric scale is taken at."""
    _, miny, _, maxy = geom.bounds
    return (miny + maxy) / 2


def to_metres(geom, ref_lat=None):
    """geom scaled to metres about (0, 0) with the scale at ref_lat (default: geom's middle latitude)."""
    per_lon, per_lat = metres_per_degree(reference_latitude(geom) if ref_lat is None else ref_lat)
    return affinity.scale(geom, per_lon, per_lat, origin=(0, 0))


def length_km(geom, ref_lat=None):
    """Approximate length of a line geometry in kilometres."""
    if geom.is_empty:
        return 0.0
    return to_metres(geom, ref_lat).length / 1000


def project_point_to_line(line, lon, lat):
    """Distance in km along line, from its first vertex, to the point of line nearest to (lon, lat).

    The scale is taken at the line's middle latitude, so all points projected onto one line share it and
    their distances are comparable (chainage). Lines are drawn from upstream to downstream.
    """
    ref = reference_latitude(line)
    return to_metres(line, ref).project(to_metres(Point(lon, lat), ref)) / 1000


def point_at_fraction(line, fraction):
    """(lon, lat) of the point at the given fraction (0–1) of line's length."""
    point = line.interpolate(min(max(fraction, 0.0), 1.0), normalized=True)
    return point.x, point.y


def random_point_in(geom, rng, max_tries=10000):
    """A uniformly random (lon, lat) inside geom, by rejection sampling in its bounding box."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(max_tries):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if contains(geom, lon, lat):
            return lon, lat
    raise ValueError("No point found inside the geometry.")


def _line_parts(geom):
    return [part for part in shapely.get_parts(geom) if isinstance(part, LineString) and part.length > 0]


@dataclass(frozen=True)
class NearPoint:
    lon: float
    lat: float
    side: str  # "left" or "right" of the line's direction (left bank when drawn downstream)
    offset_m: float


def point_near_line_inside(line, polygon, rng, offset_m=(20, 300), max_tries=200):
    """A random point offset_m metres (a (min, max) range) to one side of line, inside polygon.

    The foot of the offset is drawn uniformly along the part of line inside polygon. Raises ValueError
    when the line does not cross the polygon or no offset point falls inside it.
    """
    inside = line.intersection(polygon)
    parts = _line_parts(inside)
    if not parts:
        raise ValueError("The line does not cross the polygon.")
    lengths = [part.length for part in parts]
    ends = list(itertools.accumulate(lengths))
    low, high = offset_m
    for _ in range(max_tries):
        pick = rng.uniform(0, ends[-1])
        index = min(bisect.bisect_left(ends, pick), len(parts) - 1)
        foot = parts[index].interpolate(pick - (ends[index] - lengths[index]))
        # The direction is taken from the whole line: overlay results need not keep its orientation.
        along = line.project(foot)
        eps = min(1e-4, line.length / 4)
        ahead = line.interpolate(min(along + eps, line.length))
        behind = line.interpolate(max(along - eps, 0))
        per_lon, per_lat = metres_per_degree(foot.y)
        tx, ty = (ahead.x - behind.x) * per_lon, (ahead.y - behind.y) * per_lat
        norm = math.hypot(tx, ty)
        if norm == 0:
            continue
        nx, ny = -ty / norm, tx / norm  # left of the direction of travel
        side = rng.choice(("left", "right"))
        distance = rng.uniform(low, high)
        sign = 1 if side == "left" else -1
        lon = foot.x + sign * distance * nx / per_lon
        lat = foot.y + sign * distance * ny / per_lat
        if contains(polygon, lon, lat):
            return NearPoint(lon, lat, side, distance)
    raise ValueError("No point near the line found inside the polygon.")
