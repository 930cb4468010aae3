"""Level-1 suspected points (UAV or remote-sensing interpretation) from CSV, GeoJSON or KML into a campaign.

All or nothing: every row is read and checked first; one bad row writes nothing and the messages name the
row (CSV line number, or the feature's position) and the field. A number (编号) already in the campaign is
skipped, so importing the same file again creates nothing new.

- CSV (UTF-8 with or without BOM, or GBK/GB18030): a number column (编号/点位编号/number/name/id), either
  longitude and latitude columns (经度/纬度, lon/lat, lng, x/y) in any form geo.coords parses (decimal,
  degrees-minutes-seconds, hemisphere letters) or one column holding both (坐标/经纬度); optional 说明
  (description) and 河流 (a river's name). ``crs`` says which system the coordinates are in: cgcs2000,
  wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu) (geo.coords.CRS); anything else is refused.
- GeoJSON and KML are read by geo.gisio (KML is WGS84; a GeoJSON's own CRS, else WGS84); point geometries
  only. The number comes from the same property names (KML: the placemark's name). A declared GCJ-02 or
  BD-09 is applied after reading.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from outfalls.core.services import record_status_change
from outfalls.geo import gisio
from outfalls.geo.coords import (
    CRS,
    CoordinateError,
    parse_lon_lat,
    parse_point,
    to_cgcs2000,
    validate_lon_lat,
)
from outfalls.geo.shapes import contains, shape_of
from outfalls.registry.models import WaterBody

from .choices import PointSource
from .models import PointImport, SuspectedPoint
from .services import check_campaign_editable

NUMBER_NAMES = ("编号", "点位编号", "疑似点编号", "序号", "number", "no", "code", "name", "id")
LON_NAMES = ("经度", "lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("纬度", "lat", "latitude", "y")
POINT_NAMES = ("坐标", "经纬度", "地理坐标", "coordinates", "coords")
DESCRIPTION_NAMES = ("说明", "描述", "解译说明", "备注", "description", "desc", "note")
RIVER_NAMES = ("河流", "受纳水体", "河流名称", "river")
SUFFIXES = {".csv": "csv", ".txt": "csv", ".geojson": "gis", ".json": "gis", ".kml": "gis", ".kmz": "gis"}
SHIFTED_CRS = (CRS.GCJ02.value, CRS.BD09.value)
MAX_ROWS = 5000


@dataclass
class Row:
    label: str  # "第 3 行" or "第 2 个要素"
    number: str
    lon: float
    lat: float
    description: str = ""
    river: str = ""


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # numbers already in the campaign
    errors: list = field(default_factory=list)
    record: PointImport | None = None

    @property
    def ok(self):
        return not self.errors


def _pick(names, wanted):
    lowered = {str(n).strip().lower(): n for n in names if n is not None}
    for candidate in wanted:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _decode(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。")


def _convert(lon, lat, crs):
    """Typed/read coordinates in crs to CGCS2000; crs is a geo.coords CRS value or blank."""
    if crs in SHIFTED_CRS:
        lon, lat = to_cgcs2000(lon, lat, crs)
    return round(lon, 7), round(lat, 7)


def read_csv(data, crs):
    text = _decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("文件为空。")
    header = [h.strip() for h in header]
    number_col = _pick(header, NUMBER_NAMES)
    lon_col, lat_col = _pick(header, LON_NAMES), _pick(header, LAT_NAMES)
    point_col = _pick(header, POINT_NAMES)
    missing = []
    if number_col is None:
        missing.append("编号")
    if (lon_col is None or lat_col is None) and point_col is None:
        missing.append("经度、纬度（或“坐标”）")
    if missing:
        raise ValidationError(
            f"表头缺少列：{'；'.join(missing)}。第 1 行须为表头，如：编号,经度,纬度,说明（现有列：{'、'.join(header)}）。"
        )
    index = {name: i for i, name in enumerate(header)}
    description_col, river_col = _pick(header, DESCRIPTION_NAMES), _pick(header, RIVER_NAMES)
    rows, errors = [], []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        values = values + [""] * (len(header) - len(values))

        def cell(col, values=values):
            return values[index[col]].strip() if col is not None else ""

        label = f"第 {line} 行"
        number = cell(number_col)
        if not number:
            errors.append(f"{label}：“{number_col}”为空，每个疑似点须有编号。")
            continue
        try:
            if lon_col is not None and lat_col is not None and (cell(lon_col) or cell(lat_col)):
                lon, lat = parse_lon_lat(cell(lon_col), cell(lat_col))
            else:
                lon, lat = parse_point(cell(point_col))
        except CoordinateError as error:
            which = {"lon": lon_col, "lat": lat_col}.get(error.field) or (
                f"{lon_col}/{lat_col}" if lon_col else point_col
            )
            errors.append(f"{label}（编号 {number}）“{which}”：{error.message}")
            continue
        lon, lat = _convert(lon, lat, crs)
        rows.append(Row(label, number, lon, lat, cell(description_col)[:300], cell(river_col)))
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"一次最多导入 {MAX_ROWS} 个疑似点。")
    return rows, errors


def read_gis(upload, filename, crs):
    # The file's own CRS when it has one; a file without one is taken as WGS84 longitude/latitude (a
    # declared GCJ-02 or BD-09 shift is applied to the numbers afterwards, in _convert).
    try:
        try:
            dataset = gisio.read(upload, filename=filename)
        except gisio.GisError as error:
            if "没有坐标系" not in error.message:
                raise
            dataset = gisio.read(upload, "EPSG:4326", filename=filename)
    except gisio.GisError as error:
        raise ValidationError(error.message)
    rows, errors = [], []
    for position, feature in enumerate(dataset.features, start=1):
        label = f"第 {position} 个要素"
        props = feature.properties
        number = gisio.attribute_text(props.get(_pick(props.keys(), NUMBER_NAMES)))
        if not number:
            errors.append(f"{label}：缺少编号（属性 编号/number/name）。")
            continue
        geometry = feature.geometry
        coords = None
        if geometry and geometry.get("type") == "Point":
            coords = geometry["coordinates"]
        elif geometry and geometry.get("type") == "MultiPoint" and len(geometry["coordinates"]) == 1:
            coords = geometry["coordinates"][0]
        if coords is None:
            kind = geometry.get("type") if geometry else "无"
            errors.append(f"{label}（编号 {number}）“几何”：须为点，实际为 {kind}。")
            continue
        lon, lat = float(coords[0]), float(coords[1])
        try:
            validate_lon_lat(lon, lat)
        except CoordinateError as error:
            errors.append(f"{label}（编号 {number}）“坐标”：{error.message}")
            continue
        lon, lat = _convert(lon, lat, crs)
        description = gisio.attribute_text(props.get(_pick(props.keys(), DESCRIPTION_NAMES)))[:300]
        river = gisio.attribute_text(props.get(_pick(props.keys(), RIVER_NAMES)))
        rows.append(Row(label, number, lon, lat, description, river))
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"一次最多导入 {MAX_ROWS} 个疑似点。")
    return rows, errors


def read_rows(upload, filename, crs):
    suffix = Path(filename).suffix.lower()
    kind = SUFFIXES.get(suffix)
    if kind is None:
        raise ValidationError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}，请上传 CSV、GeoJSON 或 KML 文件。"
        )
    if kind == "csv":
        upload.seek(0)
        return read_csv(upload.read(), crs)
    upload.seek(0)
    return read_gis(upload, filename, crs)


def check_rows(campaign, rows):
    """Errors for rows outside the county, repeated numbers and unknown rivers; the rivers found."""
    errors = []
    boundary = None
    if campaign.county.boundary:
        try:
            boundary = shape_of(campaign.county.boundary)
        except ValueError:
            boundary = None
    rivers = {wb.name: wb for wb in WaterBody.objects.only("id", "name")}
    seen = {}
    for row in rows:
        if row.number in seen:
            errors.append(f"{row.label}：编号 {row.number} 与{seen[row.number]}重复。")
        seen.setdefault(row.number, row.label)
        if boundary is not None and not contains(boundary, row.lon, row.lat):
            errors.append(
                f"{row.label}（编号 {row.number}）“坐标”：{row.lon:.6f}, {row.lat:.6f} 不在{campaign.county.name}范围内。"
            )
        if row.river and row.river not in rivers:
            errors.append(f"{row.label}（编号 {row.number}）“河流”：没有名为“{row.river}”的河流。")
    return errors, rivers


def import_points(campaign, upload, *, user, filename=None, crs="", source=PointSource.UAV):
    """Read, check and (when every row is good) create the points; returns an ImportResult."""
    check_campaign_editable(campaign, user)
    filename = filename or getattr(upload, "name", "points.csv")
    result = ImportResult()
    if source not in (PointSource.UAV, PointSource.REMOTE_SENSING, PointSource.REPORT):
        result.errors.append("来源须为无人机航测、卫星遥感解译或群众举报。")
        return result
    crs = (crs or "").strip().lower()
    if crs and crs not in {c.value for c in CRS}:
        result.errors.append(f"坐标系“{crs}”无效，须为 {'、'.join(c.label for c in CRS)} 之一。")
        return result
    try:
        rows, errors = read_rows(upload, filename, crs)
    except ValidationError as error:
        result.errors.extend(error.messages)
        return result
    result.errors.extend(errors)
    if not rows and not errors:
        result.errors.append("文件中没有疑似点。")
    more, rivers = check_rows(campaign, rows)
    result.errors.extend(more)
    if result.errors:
        return result
    # A campaign on a single river: points without a 河流 column belong to it.
    rivers_of_campaign = list(campaign.water_bodies.only("id", "name")[:2])
    only_river = rivers_of_campaign[0] if len(rivers_of_campaign) == 1 else None
    for row in rows:
        if not row.river and only_river is not None:
            row.river = only_river.name
            rivers.setdefault(only_river.name, only_river)
    existing = set(campaign.points.values_list("number", flat=True))
    new_rows = [row for row in rows if row.number not in existing]
    result.skipped = [row.number for row in rows if row.number in existing]
    try:
        result.record = _write(campaign, upload, filename, crs, source, user, new_rows, rivers, result)
    except ValidationError as error:
        result.created = []
        result.errors.extend(error.messages)
    return result


def _write(campaign, upload, filename, crs, source, user, new_rows, rivers, result):
    with transaction.atomic():
        upload.seek(0)
        record = PointImport(
            campaign=campaign,
            filename=filename[:200],
            crs=crs[:32],
            source=source,
            points_created=len(new_rows),
            created_by=user if user is not None and user.is_authenticated else None,
        )
        record.file.save(Path(filename).name, ContentFile(upload.read()), save=False)
        record.save()
        for row in new_rows:
            point = SuspectedPoint(
                campaign=campaign,
                number=row.number,
                source=source,
                imported_in=record,
                lon=row.lon,
                lat=row.lat,
                water_body=rivers.get(row.river) if row.river else None,
                description=row.description,
            )
            try:
                point.full_clean()
            except ValidationError as error:
                raise ValidationError(f"{row.label}（编号 {row.number}）：{'；'.join(error.messages)}")
            point.save()
            record_status_change(
                point,
                user=user,
                from_value="",
                to_value=point.outcome,
                reason=f"导入 {filename}",
                field="outcome",
            )
            result.created.append(point)
    return record
