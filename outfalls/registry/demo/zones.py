"""Demo water-function zones, water works and the consultation flag for the setup review.

Every zone and every work here is APPROXIMATE and says so (``approximate=True``, a 示意 source, 示意 in the
name): zones are stretches of the demo's (also approximate) river lines by chainage, or a disc around a point
of one; works are points or stretches of those lines. The targets and latest assessments are plausible
figures for the demo, not the official zoning or monitoring results. They are placed so that the demo shows
a zone that misses its target (御河 through the city), works near which the water authority is consulted
(御河's city dykes, 册田水库) and a river marked for consultation (桑干河).
"""

from datetime import date

from shapely.geometry import LineString, mapping

from outfalls.geo.linref import LocalFrame, RiverLine

from ..choices import WaterClass, WaterWorksKind, ZoneKind
from ..models import WaterBody, WaterFunctionZone, WaterWorks
from .data import RIVERS

ZONE_SOURCE = "示意区划（演示数据：按示意河道沿程距离概略划分，目标与评价水质为演示值，非正式水功能区划）"
WORKS_SOURCE = "示意位置（演示数据：沿示意河道概略标注，非测绘成果）"
ASSESSED_ON = date(2024, 12, 31)
HAIHE = "水利部海河水利委员会"
WATER_BUREAU = "大同市水务局"

# (code, name, river code, from km, to km, target, latest assessed class). Chainages along data.RIVERS.
# fmt: off
ZONES = [
    ("SGH-01", "桑干河大同农业用水区（示意）", "SGH01", 0, 70, WaterClass.IV, WaterClass.IV),
    ("SGH-02", "桑干河册田水库饮用水源区（示意）", "SGH01", 70, 82, WaterClass.III, WaterClass.IV),
    ("SGH-03", "桑干河册田水库以下过渡区（示意）", "SGH01", 82, 108, WaterClass.IV, WaterClass.IV),
    ("YUH-01", "御河源头水保护区（示意）", "YUH01", 0, 11, WaterClass.II, WaterClass.II),
    ("YUH-02", "御河大同城区景观娱乐用水区（示意）", "YUH01", 11, 45, WaterClass.IV, WaterClass.V),
    ("YUH-03", "御河大同农业用水区（示意）", "YUH01", 45, 78.3, WaterClass.IV, WaterClass.IV),
    ("SLH-01", "十里河大同农业用水区（示意）", "SLH01", 0, 56.2, WaterClass.IV, WaterClass.V),
    ("YNH-01", "淤泥河大同农业用水区（示意）", "YNH01", 0, 39.6, WaterClass.V, WaterClass.WORSE_V),
    ("NYH-01", "南洋河天镇农业用水区（示意）", "NYH01", 0, 85.1, WaterClass.IV, WaterClass.IV),
    ("HLH-01", "壶流河广灵农业用水区（示意）", "HLH01", 0, 25, WaterClass.III, WaterClass.III),
    ("HLH-02", "壶流河水神堂饮用水源区（示意）", "HLH01", 25, 35, WaterClass.II, WaterClass.III),
    ("HLH-03", "壶流河广灵过渡区（示意）", "HLH01", 35, 47.2, WaterClass.III, WaterClass.III),
    ("TAH-01", "唐河灵丘源头水保护区（示意）", "TAH01", 0, 40, WaterClass.II, WaterClass.II),
    ("TAH-02", "唐河灵丘农业用水区（示意）", "TAH01", 40, 78.4, WaterClass.III, WaterClass.III),
    ("HUH-01", "浑河浑源农业用水区（示意）", "HUH01", 0, 44.3, WaterClass.IV, WaterClass.IV),
]
# A polygon zone: a disc (radius in metres) around a point of a river (km), a 水环境功能区.
POLYGON_ZONES = [
    ("CTSK-01", "册田水库水环境功能区（示意）", "SGH01", 75.6, 2500, WaterClass.III, WaterClass.IV),
]
# (name, kind, river code, from km, to km (equal: a point), authority)
WORKS = [
    ("御河城区段左岸堤防（示意）", WaterWorksKind.DYKE, "YUH01", 37, 45, WATER_BUREAU),
    ("御河城区段右岸堤防（示意）", WaterWorksKind.DYKE, "YUH01", 37, 45, WATER_BUREAU),
    ("御河兴云桥橡胶坝（示意）", WaterWorksKind.FLOOD_WORKS, "YUH01", 41, 41, WATER_BUREAU),
    ("册田水库大坝（示意）", WaterWorksKind.FLOOD_WORKS, "SGH01", 78, 78, HAIHE),
    ("水神堂泉取水口（示意）", WaterWorksKind.WATER_INTAKE, "HLH01", 29.5, 29.5, WATER_BUREAU),
    ("灵丘县城取水口（示意）", WaterWorksKind.WATER_INTAKE, "TAH01", 36, 36, WATER_BUREAU),
]
# Rivers marked: every outfall set up on them needs the water authority's opinion (河势、防洪).
CONSULTATION_RIVERS = ("SGH01",)
# fmt: on


def _round(geom, digits=6):
    def walk(value):
        if isinstance(value, tuple | list):
            if value and isinstance(value[0], float | int):
                return [round(float(v), digits) for v in value]
            return [walk(v) for v in value]
        return value

    data = mapping(geom)
    return {"type": data["type"], "coordinates": walk(data["coordinates"])}


def _lines():
    return {code: LineString(coords) for code, _, _, _, coords in RIVERS}


def _point_at(line, km):
    river = RiverLine(line)
    frame = river.frame
    line_m = frame.geometry(line)
    return frame, line_m.interpolate(min(km * 1000, line_m.length))


def works_geometries():
    """{name: shapely geometry in lon/lat} for WORKS (deterministic). The two banks' dykes are the river
    stretch moved 60 m to each side."""
    lines = _lines()
    result = {}
    for name, _, river, start, end, _ in WORKS:
        line = lines[river]
        if start == end:
            frame, point = _point_at(line, start)
            result[name] = frame.geometry_lonlat(point)
            continue
        stretch = RiverLine(line).stretch(start, end)
        frame = LocalFrame.for_geometry(line)
        side = "left" if "左岸" in name else "right"
        result[name] = frame.geometry_lonlat(
            frame.geometry(stretch).offset_curve(60 if side == "left" else -60)
        )
    return result


def load_zones(counter, waters):
    """Zones, works and the consultation flag (get_or_create by code or name: a second run changes nothing)."""
    lines = _lines()
    for code, name, river, start, end, target, assessed in ZONES:
        defaults = {
            "name": name,
            "kind": ZoneKind.WATER_FUNCTION,
            "water_body": waters[river],
            "start_km": start,
            "end_km": end,
            "target_class": target,
            "assessed_class": assessed,
            "assessed_on": ASSESSED_ON,
            "approximate": True,
            "source": ZONE_SOURCE,
        }
        counter.ensure("水功能区", WaterFunctionZone, defaults, code=code)
    for code, name, river, km, radius, target, assessed in POLYGON_ZONES:
        frame, point = _point_at(lines[river], km)
        disc = frame.geometry_lonlat(point.buffer(radius, quad_segs=8))
        defaults = {
            "name": name,
            "kind": ZoneKind.WATER_ENVIRONMENT,
            "water_body": waters[river],
            "geometry": _round(disc),
            "target_class": target,
            "assessed_class": assessed,
            "assessed_on": ASSESSED_ON,
            "approximate": True,
            "source": ZONE_SOURCE,
        }
        counter.ensure("水功能区", WaterFunctionZone, defaults, code=code)
    geometries = works_geometries()
    for name, kind, river, _, _, authority in WORKS:
        defaults = {
            "kind": kind,
            "water_body": waters[river],
            "geometry": _round(geometries[name]),
            "authority": authority,
            "approximate": True,
            "source": WORKS_SOURCE,
        }
        counter.ensure("涉水工程", WaterWorks, defaults, name=name)
    WaterBody.objects.filter(code__in=CONSULTATION_RIVERS, consultation_required=False).update(
        consultation_required=True
    )
