"""The map's box query: outfalls inside a bounding box, as points or as grid aggregates computed in SQL.

The map asks for the outfalls in its visible box at its zoom. Below ``MAP_POINTS_MIN_ZOOM``, or when the box
holds more than ``MAP_POINT_LIMIT`` outfalls, the answer is one row per grid cell (count, mean position,
count per type code), grouped in the database; otherwise it is the points themselves.

Cells are fixed in degrees for a zoom (``CELL_PX`` screen pixels wide), snapped to a grid anchored at 0°,
so a cell holds the same outfalls however the map is panned. The box is widened to whole cells, so no cell
is cut by the edge of the view. Longitudes and latitudes are positive in China (the models accept
73–136 and 3–54), so truncating towards zero is the floor: SQLite computes the cell with
``CAST(x AS INTEGER)``, which needs no math extension.

Every query starts from the queryset the caller passes: ``Outfall.objects.visible_to(user)`` filtered by
the ledger's ``OutfallFilter``; nothing here widens it.
"""

import math
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from outfalls.core import params
from outfalls.registry.classification import TypeCode

#: Boxes at most this wide (degrees of longitude, about 8.5 km at Datong) use the (lon, lat) index.
INDEXED_BOX_DEGREES = 0.1
#: Width of one aggregation cell on screen, in pixels (Web Mercator tiles are 256 px).
CELL_PX = 64
MAX_ZOOM = 22
TYPE_CODES = [code.value for code in TypeCode]


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text):
        """A BBox from "minlon,minlat,maxlon,maxlat" (degrees, CGCS2000); ParamError (a 400) if unreadable.

        A map zoomed far out reports longitudes beyond ±180: they are clamped rather than refused.
        """
        return cls(*params.parse_bbox(text, "bbox", clamp=True))

    def as_tuple(self):
        return (self.min_lon, self.min_lat, self.max_lon, self.max_lat)

    def intersects(self, bounds):
        """True when bounds (min_lon, min_lat, max_lon, max_lat) overlaps this box."""
        min_lon, min_lat, max_lon, max_lat = bounds
        return not (
            max_lon < self.min_lon
            or min_lon > self.max_lon
            or max_lat < self.min_lat
            or min_lat > self.max_lat
        )

    def contains(self, lon, lat):
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def q(self, lon="lon", lat="lat"):
        """A filter for rows whose point lies in the box (edges included).

        A box up to INDEXED_BOX_DEGREES wide is looked up through the (lon, lat) index. In a wider one the
        longitude is compared as an expression no index matches (SQL's unary plus), so that the database
        starts from the other filters (a county officer's county, a type, a status) and keeps the rows in the
        box: most of them are. SQLite (built without STAT4) cannot tell a narrow range from a wide one and
        would otherwise walk the index for a county's whole view, about 15 times slower
        (docs/benchmarks.md, "Map box query")."""
        box = Q(**{f"{lat}__gte": self.min_lat, f"{lat}__lte": self.max_lat})
        if self.max_lon - self.min_lon <= INDEXED_BOX_DEGREES:
            return box & Q(**{f"{lon}__gte": self.min_lon, f"{lon}__lte": self.max_lon})
        column = Unindexed(F(lon))
        return box & Q(GreaterThanOrEqual(column, self.min_lon), LessThanOrEqual(column, self.max_lon))


class Unindexed(Func):
    """A float column as an expression the query planner matches to no index: `(+column)`, the same value."""

    template = "(+%(expressions)s)"
    output_field = FloatField()


def parse_zoom(text, default=None):
    """The zoom level as an int in 0–22 (a fractional zoom is rounded down, beyond the range clamped);
    ParamError (a 400) when it is missing without a default, or not a finite number."""
    zoom = params.parse_float(
        text,
        "zoom",
        default=params.REQUIRED if default is None else default,
        minimum=0,
        maximum=MAX_ZOOM,
        clamp=True,
        label="zoom（地图缩放级别）",
    )
    return int(zoom)


def degrees_per_pixel(zoom):
    """Degrees of longitude per screen pixel at a zoom level (Web Mercator, 256 px tiles)."""
    return 360.0 / (256 * 2**zoom)


@dataclass(frozen=True)
class Grid:
    """Cell sizes in degrees; both are exact binary fractions, so cell edges are exact."""

    lon_step: float
    lat_step: float

    @classmethod
    def for_zoom(cls, zoom, latitude):
        lon_step = degrees_per_pixel(zoom) * CELL_PX
        # Square-ish cells on screen: a degree of latitude is drawn 1/cos(lat) times taller. The factor is
        # rounded to eighths so panning a little north or south keeps the same grid.
        factor = max(1, round(math.cos(math.radians(min(abs(latitude), 80))) * 8)) / 8
        return cls(lon_step, lon_step * factor)

    def widen(self, bbox):
        """bbox widened outwards to whole cells (min edges down, max edges up)."""
        return BBox(
            math.floor(bbox.min_lon / self.lon_step) * self.lon_step,
            math.floor(bbox.min_lat / self.lat_step) * self.lat_step,
            (math.floor(bbox.max_lon / self.lon_step) + 1) * self.lon_step,
            (math.floor(bbox.max_lat / self.lat_step) + 1) * self.lat_step,
        )

    def cell_bounds(self, cx, cy):
        return (
            cx * self.lon_step,
            cy * self.lat_step,
            (cx + 1) * self.lon_step,
            (cy + 1) * self.lat_step,
        )


class CellIndex(Func):
    """floor(expression) as an integer: FLOOR on PostgreSQL, a CAST on SQLite (positive values only)."""

    template = "CAST(FLOOR(%(expressions)s) AS BIGINT)"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS INTEGER)", **extra_context)


# The aggregation groups on one integer, (cx * CELL_KEY_BASE + cy) * TYPE_SLOTS + the type's index: SQLite
# sorts one integer about twice as fast as a (cell, type code) pair. cy stays below 2**25 up to zoom 22
# (latitude 54° over the smallest step), so the key stays below 2**53.
CELL_KEY_BASE = 1 << 25
TYPE_SLOTS = 8


def _group_key(grid):
    lon_cell = CellIndex(F("lon") / Value(grid.lon_step, output_field=FloatField()))
    lat_cell = CellIndex(F("lat") / Value(grid.lat_step, output_field=FloatField()))
    # Any other stored value counts as undetermined (the last code).
    type_index = Case(
        *(When(type_code=code, then=Value(i)) for i, code in enumerate(TYPE_CODES[:-1])),
        default=Value(len(TYPE_CODES) - 1),
        output_field=IntegerField(),
    )
    return ExpressionWrapper(
        (lon_cell * Value(CELL_KEY_BASE) + lat_cell) * Value(TYPE_SLOTS) + type_index,
        output_field=IntegerField(),
    )


def in_box(queryset, bbox):
    """The rows of queryset inside bbox, without ordering (the filter's ordering is irrelevant here)."""
    return queryset.filter(bbox.q()).order_by()


def cell_sums(queryset, grid, bbox=None):
    """Per cell: [count, sum of lon, sum of lat, {type code: count}], keyed by (cx, cy).

    One GROUP BY query over (cell, type) packed in one integer; the type rows of a cell are merged here.
    """
    queryset = queryset.order_by() if bbox is None else in_box(queryset, bbox)
    rows = (
        queryset.annotate(key=_group_key(grid))
        .values("key")
        .annotate(n=Count("*"), sum_lon=Sum("lon"), sum_lat=Sum("lat"))
        .order_by()
        .values_list("key", "n", "sum_lon", "sum_lat")
    )
    cells = {}
    for key, n, sum_lon, sum_lat in rows:
        cell_key, type_index = divmod(int(key), TYPE_SLOTS)
        cx, cy = divmod(cell_key, CELL_KEY_BASE)
        cell = cells.get((cx, cy))
        if cell is None:
            cell = cells[(cx, cy)] = [0, 0.0, 0.0, {}]
        cell[0] += n
        cell[1] += sum_lon
        cell[2] += sum_lat
        code = TYPE_CODES[type_index]
        cell[3][code] = cell[3].get(code, 0) + n
    return cells


def clusters(cells, grid, bbox=None):
    """The answer's cluster dicts for the cells (those whose centre lies in bbox, when given), south first."""
    result = []
    for (cx, cy), (n, sum_lon, sum_lat, types) in cells.items():
        bounds = grid.cell_bounds(cx, cy)
        if bbox is not None and not bbox.contains((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2):
            continue
        result.append(
            {
                "lon": round(sum_lon / n, 6),
                "lat": round(sum_lat / n, 6),
                "count": n,
                "types": {code: types[code] for code in TYPE_CODES if types.get(code)},
                "bounds": [round(v, 9) for v in bounds],
            }
        )
    result.sort(key=lambda c: (c["bounds"][1], c["bounds"][0]))
    return result


def aggregate(queryset, grid, bbox):
    """Grid aggregates of the outfalls in bbox: one dict per non-empty cell (count, mean position, types)."""
    return clusters(cell_sums(queryset, grid, bbox), grid)


POINT_FIELDS = ("id", "lon", "lat", "type_code", "status", "name", "code")


def points(queryset, bbox, limit):
    """Up to limit + 1 outfalls in bbox as dicts (one more than limit tells the caller there are more)."""
    rows = in_box(queryset, bbox).values_list(*POINT_FIELDS)[: limit + 1]
    return [
        {"id": pk, "lon": lon, "lat": lat, "type": type_code, "status": status, "name": name, "code": code}
        for pk, lon, lat, type_code, status, name, code in rows
    ]


def box_query(queryset, bbox, zoom, *, point_limit, points_min_zoom, overview=None):
    """The answer to one box query: {"mode": "points"|"clusters", "total": n, ...}.

    At or above points_min_zoom the points are read first (at most point_limit + 1 rows); more than
    point_limit of them, or a lower zoom, gives the grid aggregates of the box widened to whole cells.
    Below points_min_zoom, overview(grid) may supply the cells of the whole queryset (cell_sums without a
    box, e.g. from a cache); the cells in the box are taken from it.
    """
    if zoom >= points_min_zoom:
        found = points(queryset, bbox, point_limit)
        if len(found) <= point_limit:
            return {"mode": "points", "zoom": zoom, "total": len(found), "points": found}
    grid = Grid.for_zoom(zoom, (bbox.min_lat + bbox.max_lat) / 2)
    widened = grid.widen(bbox)
    if overview is not None and zoom < points_min_zoom:
        cells = clusters(overview(grid), grid, widened)
    else:
        cells = aggregate(queryset, grid, widened)
    return {
        "mode": "clusters",
        "zoom": zoom,
        "total": sum(c["count"] for c in cells),
        "cell": [grid.lon_step, grid.lat_step],
        "bbox": [round(v, 9) for v in widened.as_tuple()],
        "clusters": cells,
    }
