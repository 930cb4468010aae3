"""Demo special protection areas (特殊保护区域) for the spatial checks.

Every polygon here is APPROXIMATE and says so (``approximate=True``, a 示意 source, 示意 in the name): it is
a corridor of a given half-width along a stretch of one of the demo's (also approximate) river lines, or a
disc around a point on one, built from data.RIVERS with the same metric frame as geo/linref.py. None of
them is the officially designated zone. They are placed so that a few demo outfalls fall inside and the
应依法取缔 finding shows in the demo; the geometry depends only on the river table, so it is the same on
every load.
"""

from shapely.geometry import LineString, mapping
from shapely.ops import substring

from outfalls.geo.linref import LocalFrame

from ..choices import ProtectedAreaKind
from ..models import ProtectedArea
from .data import RIVERS

PROTECTED_SOURCE = "示意范围（演示数据：沿示意河道概略勾绘，非依法划定的保护区范围）"

# (name, kind, river code, from fraction, to fraction, half-width or radius in metres, name of an area cut
# out of this one). from == to: a disc around that point of the river.
# fmt: off
AREAS = [
    ("御河上游饮用水水源地一级保护区（示意）", ProtectedAreaKind.DRINKING_WATER_1, "YUH01", 0.080, 0.094, 350, None),
    ("御河上游饮用水水源地二级保护区（示意）", ProtectedAreaKind.DRINKING_WATER_2, "YUH01", 0.070, 0.100, 900,
     "御河上游饮用水水源地一级保护区（示意）"),
    ("水神堂泉域重点保护区（示意）", ProtectedAreaKind.SPRING, "HLH01", 0.62, 0.62, 1200, None),
    ("灵丘黑鹳省级自然保护区（示意范围）", ProtectedAreaKind.NATURE_RESERVE, "TAH01", 0.470, 0.500, 1800, None),
    ("桑干河生态保护红线（示意）", ProtectedAreaKind.ECO_REDLINE, "SGH01", 0.600, 0.615, 600, None),
]
# fmt: on


def _round(geom, digits=6):
    """GeoJSON with coordinates rounded (lists, as JSONField stores them)."""

    def walk(value):
        if isinstance(value, tuple | list):
            if value and isinstance(value[0], float | int):
                return [round(float(v), digits) for v in value]
            return [walk(v) for v in value]
        return value

    data = mapping(geom)
    return {"type": data["type"], "coordinates": walk(data["coordinates"])}


def area_geometries():
    """{name: shapely polygon in lon/lat} for AREAS (computed, deterministic)."""
    lines = {code: LineString(coords) for code, _, _, _, coords in RIVERS}
    result = {}
    for name, _, river, start, end, metres, cut in AREAS:
        line = lines[river]
        frame = LocalFrame.for_geometry(line)
        line_m = frame.geometry(line)
        if start == end:
            core = line_m.interpolate(start, normalized=True)
        else:
            core = substring(line_m, start, end, normalized=True)
        polygon = frame.geometry_lonlat(core.buffer(metres, quad_segs=6))
        if cut:
            polygon = polygon.difference(result[cut])
        result[name] = polygon.simplify(0.00002)
    return result


def load_protected_areas(counter):
    """get_or_create each demo area by name (a second run creates nothing and changes nothing)."""
    geometries = area_geometries()
    for name, kind, *_ in AREAS:
        defaults = {
            "kind": kind,
            "geometry": _round(geometries[name]),
            "source": PROTECTED_SOURCE,
            "approximate": True,
        }
        counter.ensure("特殊保护区域", ProtectedArea, defaults, name=name)
