"""Linear referencing along rivers: chainage, and the sections a point lies between (no Django).

A river is a LineString (or MultiLineString) in longitude/latitude degrees, drawn from upstream to
downstream. A point's *chainage* is the distance in kilometres along the line, from its first vertex, to
the point of the line nearest to it; the sections of the river are placed on the line the same way, so a
point lies between the last section upstream of its chainage and the first one downstream of it. On a bent
river this follows the water, not the crow: a point on the far arm of a U-bend is downstream of a section
on the near arm even when that section is closer in a straight line.

Metric frame
------------
Distances are measured in a local equirectangular frame: longitude and latitude are scaled by the metres
per degree at one reference latitude (``shapes.metres_per_degree``; for a river, the middle latitude of
its bounding box, as ``shapes.project_point_to_line`` does, so chainages agree with the demo's stored
``Section.chainage_km``). Over a city of ~1.5° of latitude the east-west scale differs from the true one
by under 1.5 % at the edges and much less along one river: good enough for ordering sections, kilometres
to a section and a 30 m / 500 m threshold, not a survey. ``LocalFrame`` is the same frame for any set of
geometries (the spatial checks use one frame for the whole city).

MultiLineString
---------------
Parts are joined with ``shapely.line_merge(directed=True)`` first. If they do not join into one line, each
part keeps its own chainage, offset by the lengths of the parts before it in the order given: draw a river
with gaps as its parts in downstream order.
"""

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, MultiLineString

from .shapes import metres_per_degree, reference_latitude


class LocalFrame:
    """An equirectangular metric frame: x = lon·(m per ° lon), y = lat·(m per ° lat) at ref_lat."""

    def __init__(self, ref_lat):
        self.ref_lat = float(ref_lat)
        self.per_lon, self.per_lat = metres_per_degree(self.ref_lat)

    @classmethod
    def for_geometry(cls, geom):
        return cls(reference_latitude(geom))

    def xy(self, lons, lats):
        """Arrays of metric x and y for arrays (or scalars) of longitude and latitude."""
        return np.asarray(lons, dtype=float) * self.per_lon, np.asarray(lats, dtype=float) * self.per_lat

    def points(self, lons, lats):
        """Shapely points in the frame (vectorised)."""
        x, y = self.xy(lons, lats)
        return shapely.points(x, y)

    def geometry(self, geom):
        """A shapely geometry (or an array of them) transformed into the frame."""
        scale = np.array([self.per_lon, self.per_lat])
        return shapely.transform(geom, lambda coords: coords * scale)

    def lonlat(self, x, y):
        """Arrays of longitude and latitude for arrays of metric x and y."""
        return np.asarray(x) / self.per_lon, np.asarray(y) / self.per_lat

    def geometry_lonlat(self, geom):
        """The inverse of geometry(): a geometry in the frame back in longitude/latitude."""
        scale = np.array([1 / self.per_lon, 1 / self.per_lat])
        return shapely.transform(geom, lambda coords: coords * scale)


@dataclass(frozen=True)
class SectionMark:
    """A section placed on a river: its chainage and how far its point lies from the line."""

    key: object  # the caller's identifier (e.g. a Section id)
    name: str
    chainage_km: float
    offset_m: float


@dataclass(frozen=True)
class Position:
    """Where a point lies along a river."""

    chainage_km: float
    offset_m: float  # distance from the line, metres
    upstream: SectionMark | None  # the last section at or above the point's chainage
    downstream: SectionMark | None  # the first section below it

    @property
    def to_upstream_km(self):
        return None if self.upstream is None else self.chainage_km - self.upstream.chainage_km

    @property
    def to_downstream_km(self):
        return None if self.downstream is None else self.downstream.chainage_km - self.chainage_km


def _line_parts(geom):
    if isinstance(geom, LineString):
        return [geom]
    if isinstance(geom, MultiLineString):
        merged = shapely.line_merge(geom, directed=True)
        if isinstance(merged, LineString):
            return [merged]
        return [part for part in geom.geoms if not part.is_empty]
    raise ValueError(f"A river must be a LineString or MultiLineString, not {geom.geom_type}.")


class RiverLine:
    """A river line with its sections, for chainage and section lookups.

    sections: iterable of (key, name, lon, lat). Their chainage is computed by projecting their points onto
    the line (the same measure as the points they are compared with); sections are ordered by it.
    """

    def __init__(self, geometry, sections=(), *, frame=None):
        parts = [part for part in _line_parts(geometry) if part.length > 0]
        if not parts:
            raise ValueError("The river line is empty.")
        self.frame = frame or LocalFrame.for_geometry(geometry)
        self.parts_m = [self.frame.geometry(part) for part in parts]
        lengths = np.array([part.length for part in self.parts_m])
        self.offsets_m = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        self.length_km = float(lengths.sum()) / 1000
        marks = []
        for key, name, lon, lat in sections:
            chainage, offset = self.locate_many([lon], [lat])
            marks.append(SectionMark(key, name, float(chainage[0]), float(offset[0])))
        marks.sort(key=lambda m: (m.chainage_km, str(m.name)))
        self.sections = marks
        self._chainages = np.array([m.chainage_km for m in marks], dtype=float)

    def locate_many(self, lons, lats):
        """(chainage_km, offset_m) arrays for arrays of longitude and latitude (vectorised)."""
        points = self.frame.points(lons, lats)
        best_distance = np.full(len(points), np.inf)
        best_along = np.zeros(len(points))
        for part, offset in zip(self.parts_m, self.offsets_m, strict=True):
            distance = shapely.distance(part, points)
            along = shapely.line_locate_point(part, points) + offset
            closer = distance < best_distance
            best_distance = np.where(closer, distance, best_distance)
            best_along = np.where(closer, along, best_along)
        return best_along / 1000, best_distance

    def chainage(self, lon, lat):
        """Chainage in km of one point."""
        return float(self.locate_many([lon], [lat])[0][0])

    def stretch(self, from_km, to_km):
        """The part of the line between two chainages (either order), in longitude/latitude: a LineString or
        MultiLineString, or None when the stretch misses the line."""
        low, high = sorted((from_km * 1000, to_km * 1000))
        pieces = []
        for part, offset in zip(self.parts_m, self.offsets_m, strict=True):
            start, end = max(low - offset, 0.0), min(high - offset, part.length)
            if end > start:
                pieces.append(shapely.ops.substring(part, start, end))
        if not pieces:
            return None
        lines = [self.frame.geometry_lonlat(piece) for piece in pieces]
        return lines[0] if len(lines) == 1 else MultiLineString(lines)

    def section_indexes(self, chainages_km):
        """(upstream, downstream) index arrays into self.sections; -1 where there is none.

        A point exactly at a section's chainage is below it (that section is its upstream one).
        """
        n = len(self.sections)
        after = np.searchsorted(self._chainages, np.asarray(chainages_km, dtype=float), side="right")
        upstream = after - 1
        downstream = np.where(after < n, after, -1)
        return upstream, downstream

    def locate(self, lon, lat):
        """The Position of one point."""
        chainage, offset = self.locate_many([lon], [lat])
        upstream, downstream = self.section_indexes(chainage)
        return Position(
            chainage_km=float(chainage[0]),
            offset_m=float(offset[0]),
            upstream=self.sections[upstream[0]] if upstream[0] >= 0 else None,
            downstream=self.sections[downstream[0]] if downstream[0] >= 0 else None,
        )
