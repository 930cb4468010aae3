"""Walked tracks (no Django): a track's points checked and rounded, its lines read back from GeoJSON, and the
stretches of a river a set of tracks covers. The survey's 徒步排查轨迹 and the river chiefs' patrols share these.
"""

from shapely.errors import GEOSException

from . import intervals as iv
from .coords import CoordinateError, validate_lon_lat
from .shapes import shape_of

MAX_TRACK_POINTS = 20000


class TrackError(ValueError):
    """A track that cannot be stored, with a message in Chinese naming the point."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def clean_line(coordinates, *, max_points=MAX_TRACK_POINTS):
    """[[lon, lat], ...] checked (at least two points, at most max_points, each in range) and rounded to 7
    decimals; a TrackError names the first bad point."""
    if not isinstance(coordinates, list | tuple) or len(coordinates) < 2:
        raise TrackError("轨迹至少需要两个定位点。")
    if len(coordinates) > max_points:
        raise TrackError(f"一条轨迹最多 {max_points} 个定位点，请分段上传。")
    line = []
    for index, pair in enumerate(coordinates, start=1):
        try:
            lon, lat = float(pair[0]), float(pair[1])
            validate_lon_lat(lon, lat)
        except (TypeError, ValueError, IndexError, KeyError) as error:
            reason = error.message if isinstance(error, CoordinateError) else "格式错误"
            raise TrackError(f"第 {index} 个定位点：{reason}") from None
        line.append([round(lon, 7), round(lat, 7)])
    return line


def track_lines(geometry):
    """The LineStrings of a stored track (GeoJSON LineString or MultiLineString) as coordinate lists; nothing
    for a geometry that cannot be read."""
    try:
        geom = shape_of(geometry)
    except (ValueError, TypeError, AttributeError, GEOSException):
        return []
    parts = getattr(geom, "geoms", [geom])
    return [list(part.coords) for part in parts if part.geom_type == "LineString"]


def covered(river, geometries, *, buffer_m):
    """The chainage intervals (km) of river (a linref.RiverLine, or None) that the tracks cover."""
    if river is None:
        return []
    pieces = []
    for geometry in geometries:
        for coords in track_lines(geometry):
            pieces += iv.line_to_intervals(river, [(c[0], c[1]) for c in coords], buffer_m=buffer_m)
    return iv.union(pieces)


TRACK_FILE_MAX_BYTES = 5 * 1024 * 1024
TRACK_SUFFIXES = (".gpx", ".kml", ".geojson", ".json")


def read_track_file(name, data):
    """The lines ([[lon, lat], ...] each) of a walked track exported by a phone app: GPX (its track points,
    one line per segment), KML (each LineString) or GeoJSON (LineString, MultiLineString, or Features of
    them). XML with a DOCTYPE is refused (no entities are ever expanded); a TrackError says what is wrong."""
    import json

    from lxml import etree

    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in TRACK_SUFFIXES:
        raise TrackError(f"不支持的轨迹文件“{name}”，请上传 GPX、KML 或 GeoJSON 文件。")
    if len(data) > TRACK_FILE_MAX_BYTES:
        raise TrackError(f"轨迹文件超过 {TRACK_FILE_MAX_BYTES // (1024 * 1024)} MB。")
    lines = []
    if suffix in (".gpx", ".kml"):
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise TrackError("轨迹文件含有 XML 文档类型声明，已拒绝读取。")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            raise TrackError(f"无法读取轨迹文件“{name}”：不是有效的 {suffix[1:].upper()} 文件。") from None
        if suffix == ".gpx":
            for segment in root.iter("{*}trkseg"):
                lines.append([[p.get("lon"), p.get("lat")] for p in segment.iter("{*}trkpt")])
        else:
            for element in root.iter("{*}coordinates"):
                parent = element.getparent()
                if parent is None or etree.QName(parent).localname != "LineString":
                    continue
                lines.append([c.split(",")[:2] for c in (element.text or "").split()])
    else:
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise TrackError(f"无法读取轨迹文件“{name}”：不是有效的 GeoJSON。") from None
        features = document.get("features", [document]) if isinstance(document, dict) else []
        for feature in features:
            geometry = feature.get("geometry", feature) if isinstance(feature, dict) else None
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            if kind == "LineString":
                lines.append(geometry.get("coordinates"))
            elif kind == "MultiLineString":
                lines.extend(geometry.get("coordinates") or [])
    lines = [line for line in lines if line]
    if not lines:
        raise TrackError(f"轨迹文件“{name}”中没有找到轨迹线。")
    total = sum(len(line) for line in lines)
    if total > MAX_TRACK_POINTS:
        raise TrackError(f"一条轨迹最多 {MAX_TRACK_POINTS} 个定位点（文件中有 {total} 个），请分段上传。")
    return [clean_line(line) for line in lines]


def as_geometry(lines):
    """GeoJSON of a track's lines: a LineString for one, a MultiLineString for several."""
    if len(lines) == 1:
        return {"type": "LineString", "coordinates": lines[0]}
    return {"type": "MultiLineString", "coordinates": lines}
