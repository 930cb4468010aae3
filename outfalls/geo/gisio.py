"""GIS files in and out: zipped Shapefile, GeoPackage, KML/KMZ and GeoJSON (no Django).

Reading
-------
``read(source, declared_crs=None, ...)`` returns a ``Dataset``: every feature's geometry as a GeoJSON
dict in longitude/latitude (CGCS2000, EPSG:4490, treated as equal to WGS84 at this scale) and its
attributes as a plain dict, plus what was learnt on the way (layers, the file's coordinate system, the
attribute encoding, warnings). Files are read with pyogrio (GDAL inside its wheel); no geopandas.

- Formats: ``.zip`` holding one or more Shapefiles (each ``.shp`` is a layer; ``.shx`` and ``.dbf`` are
  required, ``.prj`` and ``.cpg`` are read when present) or one GeoPackage/KML/GeoJSON file; ``.shp``
  on disk with its side files; ``.gpkg``; ``.kml`` and ``.kmz``; ``.geojson`` and ``.json``.
- Zip files are unpacked into a temporary folder under ASCII names rather than read through
  ``/vsizip/``: member names written by Chinese Windows are GBK without the zip's UTF-8 flag, and GDAL
  would read them as CP437. The real (decoded) names are kept as the layer names.
- Coordinate system: the file's own (``.prj``, the GeoPackage's SRS, KML's WGS84). A file without one
  needs ``declared_crs``, else ``GisError``. A declared CRS takes precedence over the file's (a wrong
  ``.prj`` is a common fault), with a warning when they differ. Geographic WGS84/CGCS2000 data is taken
  as it is; anything else (CGCS2000 Gauss-Krüger zones, Xi'an 1980, Beijing 1954, Web Mercator...) is
  reprojected with pyproj, coordinates rounded to 1e-7 degree (about 1 cm). Coordinates that do not
  land in China (longitude 73–136, latitude 3–54) are an error naming the likely cause.
- Attribute encoding of Shapefiles: a ``.cpg`` file is obeyed. Without one, the ``.dbf`` bytes decide:
  valid UTF-8 is read as UTF-8, anything else with non-ASCII bytes as GB18030 (a superset of GBK and
  GB2312). ``encoding=`` overrides both. GeoPackage, GeoJSON and KML are UTF-8 by definition.

Writing
-------
``write(features, target, fmt, ...)`` writes GeoJSON (RFC 7946, written here), GeoPackage, a zipped
Shapefile (UTF-8 ``.dbf`` with a ``.cpg`` and a ``.prj``, field names cut to 10 bytes with a
``fields.csv`` mapping) or KML (LIBKML, WGS84; the ``name_field`` becomes each placemark's name).
"""

import csv
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from . import archives
from .shapes import rfc7946

#: The stored coordinate system: CGCS2000 geographic.
TARGET_CRS = "EPSG:4490"
#: Longitude/latitude box the platform accepts (the model validators use the same numbers).
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)

READ_SUFFIXES = (".zip", ".shp", ".gpkg", ".kml", ".kmz", ".geojson", ".json")
# Inside a zip, besides shapefiles, one file of these kinds may be read.
_ZIPPED_SINGLE = (".gpkg", ".kml", ".geojson", ".json")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
# Unpacking limits: a zip bomb must not fill the disk.
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000

#: Output formats: key -> (GDAL driver, file suffix, content type, label).
FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json", "GeoJSON"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3", "GeoPackage"),
    "shp": ("ESRI Shapefile", ".zip", "application/zip", "Shapefile（zip）"),
    "kml": ("LIBKML", ".kml", "application/vnd.google-earth.kml+xml", "KML"),
}

# Columns LIBKML adds to every KML layer; dropped when they carry nothing.
_KML_STANDARD_FIELDS = (
    "id",
    "Name",
    "description",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
)
_KML_DEFAULTS = {"tessellate": -1, "extrude": 0, "visibility": -1}

_GEOGRAPHIC_SAME = {4326, 4490, 4979, 4480}

# LIBKML turns every non-ASCII character of an ExtendedData <Data name="所在水体"> into "_" unless told not
# to; Chinese KML attribute names must survive. (A process-wide GDAL setting, harmless elsewhere.)
pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})


class GisError(ValueError):
    """A file that cannot be read or written as asked; the message is for the user, in Chinese."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Feature:
    geometry: dict | None
    properties: dict
    layer: str = ""
    row: int = 0  # 1-based position within its layer


@dataclass
class LayerInfo:
    name: str
    count: int
    geometry_type: str
    crs: str | None = None
    encoding: str | None = None
    encoding_source: str = ""  # "cpg", "detected", "declared", or "" (the format's own)


@dataclass
class Dataset:
    features: list
    fields: list
    layers: list
    crs: str | None  # the coordinate system the coordinates were read in (file or declared)
    crs_name: str
    crs_source: str  # "file" or "declared"
    file_crs: str | None  # what the file itself said, or None
    driver: str
    warnings: list = field(default_factory=list)
    available_layers: list = field(default_factory=list)  # every layer's name, also when one was chosen

    @property
    def encoding(self):
        found = {layer.encoding for layer in self.layers if layer.encoding}
        return "、".join(sorted(found)) if found else ""


# ---------------------------------------------------------------------------------------------------------
# Coordinate systems
# ---------------------------------------------------------------------------------------------------------


def parse_crs(value):
    """A pyproj CRS from what a person typed: 4547, "EPSG:4547", "epsg 4547", WKT or a PROJ string."""
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if not text:
        raise GisError("坐标系为空。")
    compact = text.replace(" ", "").upper()
    if compact.isdigit():
        text = f"EPSG:{compact}"
    elif compact.startswith("EPSG") and compact[4:].lstrip(":").isdigit():
        text = f"EPSG:{compact[4:].lstrip(':')}"
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise GisError(
            f"无法识别的坐标系“{str(value)[:60]}”。请填写 EPSG 代码，如 4490（CGCS2000 经纬度）、4547（CGCS2000 3 度带中央经线 114°E）。"
        )


def crs_label(crs):
    """ "EPSG:4547 CGCS2000 / 3-degree Gauss-Kruger CM 114E" or the CRS name."""
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code} {crs.name}" if code else crs.name


def same_as_target(crs):
    """True for geographic WGS84/CGCS2000 longitude/latitude: no reprojection needed."""
    code = crs.to_epsg(min_confidence=90)
    if code in _GEOGRAPHIC_SAME:
        return True
    if not crs.is_geographic:
        return False
    datum = (crs.datum.name if crs.datum else "").lower()
    return any(word in datum for word in ("world geodetic system 1984", "wgs84", "wgs 84", "china 2000"))


def _crs_text(crs):
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else crs.to_wkt()


# ---------------------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------------------


def dbf_text_bytes(dbf):
    """The bytes of a .dbf that hold text: field names and records (not the binary header numbers)."""
    if len(dbf) < 32:
        return b""
    header_length = int.from_bytes(dbf[8:10], "little")
    names = []
    for start in range(32, max(32, header_length - 1), 32):
        descriptor = dbf[start : start + 32]
        if not descriptor or descriptor[0] == 0x0D:
            break
        names.append(descriptor[:11].split(b"\x00")[0])
    return b"\n".join(names) + b"\n" + dbf[header_length:]


def detect_dbf_encoding(dbf):
    """ "UTF-8", "GB18030" or None (plain ASCII: any encoding reads it) from a .dbf's bytes."""
    text = dbf_text_bytes(dbf)
    if text.isascii():
        return None
    try:
        text.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text.decode("gb18030")
    except UnicodeDecodeError:
        raise GisError(
            "无法识别 .dbf 属性表的编码（既不是 UTF-8 也不是 GBK）。请在上传时选择编码，或补充 .cpg 文件。"
        )
    return "GB18030"


# ---------------------------------------------------------------------------------------------------------
# Sources: paths, uploads and zip files
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Layer:
    path: str
    name: str | None  # the GDAL layer name, None for single-layer files
    display: str
    cpg: str | None = None  # a shapefile's .cpg text
    dbf: str | None = None  # a shapefile's .dbf path


def _read_cpg(path):
    try:
        text = Path(path).read_bytes().decode("ascii", "replace").strip()
    except OSError:
        return None
    return text or None


def _shapefile_layer(shp, display):
    base = os.path.splitext(shp)[0]
    found = {}
    for suffix in (".shx", ".dbf", ".prj", ".cpg"):
        for candidate in (base + suffix, base + suffix.upper()):
            if os.path.exists(candidate):
                found[suffix] = candidate
                break
    missing = [suffix for suffix in (".shx", ".dbf") if suffix not in found]
    if missing:
        raise GisError(
            f"Shapefile“{display}”缺少 {'、'.join(missing)} 文件：请把 .shp、.shx、.dbf（及 .prj、.cpg）一起打包上传。"
        )
    cpg = _read_cpg(found[".cpg"]) if ".cpg" in found else None
    return _Layer(shp, None, display, cpg=cpg, dbf=found[".dbf"])


def _unzip(path, folder, display="压缩包"):
    """Unpack a zip into folder under ASCII names; return the layers (shapefiles) or the single file."""
    try:
        archive = archives.open_zip(path, display)
        with archive:
            return _unpack(archive, folder, display)
    except archives.ArchiveRefused as error:
        raise GisError(error.message)


def _unpack(archive, folder, display):
    members = [
        info
        for info in archives.check_zip(
            archive, display, max_members=MAX_ZIP_MEMBERS, max_total_bytes=MAX_UNZIPPED_BYTES
        )
        if not info.filename.startswith("__MACOSX/")
    ]
    groups = {}  # stem (lower case, decoded) -> {suffix: info}
    displays = {}
    others = []
    for info in members:
        name = PurePosixPath(archives.member_name(info).replace("\\", "/"))
        suffix = name.suffix.lower()
        if suffix in _SHAPEFILE_PARTS:
            stem = str(name.with_suffix("")).lower()
            groups.setdefault(stem, {})[suffix] = info
            displays.setdefault(stem, name.stem)
        elif suffix in _ZIPPED_SINGLE or suffix == ".kmz":
            others.append((name, info))
    layers = []
    for index, (stem, parts) in enumerate(sorted(groups.items())):
        if ".shp" not in parts:
            continue
        base = os.path.join(folder, f"layer{index}")
        for suffix, info in parts.items():
            with open(base + suffix, "wb") as target:
                archives.read_member(archive, info, target, display)
        layers.append(_shapefile_layer(base + ".shp", displays[stem]))
    if layers:
        return layers
    if len(others) == 1:
        name, info = others[0]
        target_path = os.path.join(folder, "data" + name.suffix.lower())
        with open(target_path, "wb") as target:
            archives.read_member(archive, info, target, display)
        return target_path
    if others:
        raise GisError("压缩包中有多个 GIS 文件，请每次只上传一个（多个 Shapefile 可放在同一压缩包中）。")
    raise GisError("压缩包中没有找到 Shapefile（.shp）、GeoPackage、KML 或 GeoJSON 文件。")


def _materialise(source, filename, folder):
    """A path on disk for source: a path as it is, an uploaded file copied into folder."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise GisError(f"文件不存在：{os.path.basename(path)}")
        return path, filename or os.path.basename(path)
    name = filename or getattr(source, "name", "") or "upload"
    suffix = os.path.splitext(name)[1].lower()
    path = os.path.join(folder, "upload" + suffix)
    with open(path, "wb") as target:
        if hasattr(source, "chunks"):
            for chunk in source.chunks():
                target.write(chunk)
        else:
            if hasattr(source, "seek"):
                source.seek(0)
            shutil.copyfileobj(source, target)
    return path, os.path.basename(name)


def _layers_of(path, display, folder):
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in READ_SUFFIXES:
        raise GisError(
            f"不支持的文件类型“{display}”。请上传 .zip（压缩的 Shapefile）、.gpkg、.kml/.kmz 或 .geojson 文件。"
        )
    if suffix == ".zip":
        unpacked = _unzip(path, folder, display)
        if isinstance(unpacked, list):
            return unpacked
        return _layers_of(unpacked, display, folder)
    if suffix == ".shp":
        return [_shapefile_layer(path, os.path.splitext(display)[0])]
    try:
        listed = pyogrio.list_layers(path)
    except Exception as error:  # noqa: BLE001 - GDAL's many error classes
        raise GisError(f"无法读取文件“{display}”：{_gdal_message(error, display)}")
    layers = []
    for name, geometry_type in listed:
        if geometry_type is None and suffix == ".gpkg":
            continue  # an attribute table without geometry
        layers.append(_Layer(path, str(name), str(name)))
    if not layers:
        raise GisError(f"文件“{display}”中没有含几何的图层。")
    return layers


# An absolute file path inside a reader's message (GDAL names the file it failed on): never shown to users.
_PATH_IN_TEXT = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[\\/][^\\/\s'\"“”:：,，;；()（）]+)+")


def without_paths(text, name="文件"):
    """text with every absolute path replaced by name (the file's name as the user knows it)."""
    return _PATH_IN_TEXT.sub(name, text)


def _gdal_message(error, name="文件"):
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return without_paths(text, name)[:200]


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------


def _python_value(value):
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _empty(value, name):
    if value is None or value == "":
        return True
    return _KML_DEFAULTS.get(name, object()) == value


def _read_layer(layer, encoding):
    kwargs = {"force_2d": True, "datetime_as_string": True}
    if layer.name is not None:
        kwargs["layer"] = layer.name
    if encoding:
        kwargs["encoding"] = encoding
    try:
        meta, _, geometry, field_data = pyogrio.raw.read(layer.path, **kwargs)
    except UnicodeDecodeError:
        raise GisError(
            f"图层“{layer.display}”的属性无法按 {encoding or 'UTF-8'} 编码读取，请改选其他编码（如 GBK）。"
        )
    except Exception as error:  # noqa: BLE001
        raise GisError(f"无法读取图层“{layer.display}”：{_gdal_message(error, layer.display)}")
    try:
        meta["driver"] = pyogrio.read_info(layer.path, layer=layer.name)["driver"]
    except Exception:  # noqa: BLE001 - only used to tidy KML columns
        meta["driver"] = ""
    return meta, geometry, field_data


def _layer_encoding(layer, encoding):
    """(encoding to pass to GDAL, encoding to report, its source) for one layer."""
    if layer.dbf is None:
        return None, None, ""
    if encoding:
        return encoding, encoding.upper(), "declared"
    if layer.cpg:
        return None, layer.cpg, "cpg"
    detected = detect_dbf_encoding(Path(layer.dbf).read_bytes())
    return detected, detected, "detected" if detected else ""


def read(source, declared_crs=None, *, layer=None, encoding=None, filename=None, check_bounds=True):
    """Read a GIS file into a Dataset in EPSG:4490 longitude/latitude.

    source is a path or a file object (an upload, with ``name`` or ``filename=``). layer picks one layer
    by name (see ``Dataset.layers``); by default every layer with features is read, one after the
    other. declared_crs (EPSG code, "EPSG:xxxx", WKT) is required when the file carries no CRS.
    encoding overrides the detected attribute encoding of Shapefiles.
    """
    declared = parse_crs(declared_crs) if declared_crs not in (None, "") else None
    with tempfile.TemporaryDirectory(prefix="gisio-") as folder:
        path, display = _materialise(source, filename, folder)
        available = _layers_of(path, display, folder)
        if layer:
            chosen = [candidate for candidate in available if candidate.display == layer]
            if not chosen:
                names = "、".join(candidate.display for candidate in available)
                raise GisError(f"文件中没有图层“{layer}”。可选图层：{names}。")
        else:
            chosen = available
        dataset = _read_layers(chosen, declared, encoding, check_bounds)
        dataset.available_layers = [candidate.display for candidate in available]
        return dataset


def _read_layers(chosen, declared, encoding, check_bounds):
    features, fields, infos, warnings = [], [], [], []
    file_crs_values = set()
    driver = ""
    transformers = {}
    used_crs = None
    for candidate in chosen:
        gdal_encoding, shown_encoding, encoding_source = _layer_encoding(candidate, encoding)
        meta, geometry, field_data = _read_layer(candidate, gdal_encoding)
        driver = driver or meta.get("driver", "")
        names = [str(name) for name in meta["fields"]]
        columns = [[_python_value(v) for v in column] for column in field_data]
        if meta.get("driver") in ("LIBKML", "KML"):
            keep = [
                i
                for i, name in enumerate(names)
                if name not in _KML_STANDARD_FIELDS
                or (name in ("Name", "description") and any(not _empty(v, name) for v in columns[i]))
            ]
            names = [names[i] for i in keep]
            columns = [columns[i] for i in keep]
        count = len(geometry) if geometry is not None else (len(columns[0]) if columns else 0)
        file_crs = meta.get("crs")
        infos.append(
            LayerInfo(
                name=candidate.display,
                count=count,
                geometry_type=str(meta.get("geometry_type") or ""),
                crs=file_crs,
                encoding=shown_encoding,
                encoding_source=encoding_source,
            )
        )
        if count == 0:
            continue
        if file_crs:
            file_crs_values.add(file_crs)
        source_crs = _source_crs(candidate, file_crs, declared, warnings)
        used_crs = used_crs or source_crs
        geoms = shapely.from_wkb(geometry) if geometry is not None else np.full(count, None)
        if not same_as_target(source_crs):
            key = source_crs.to_wkt()
            if key not in transformers:
                transformers[key] = Transformer.from_crs(source_crs, TARGET_CRS, always_xy=True)
            geoms = _reproject(geoms, transformers[key])
        for name in names:
            if name not in fields:
                fields.append(name)
        geojson = shapely.to_geojson(geoms)
        for index in range(count):
            text = geojson[index]
            features.append(
                Feature(
                    geometry=json.loads(text) if text is not None else None,
                    properties={name: columns[i][index] for i, name in enumerate(names)},
                    layer=candidate.display,
                    row=index + 1,
                )
            )
            geojson[index] = None  # free the text as we go
        if check_bounds:
            _check_bounds(geoms, candidate.display, source_crs, len(chosen) > 1)
    if used_crs is None:
        used_crs = declared or CRS.from_user_input(TARGET_CRS)
    file_crs = next(iter(file_crs_values)) if len(file_crs_values) == 1 else None
    return Dataset(
        features=features,
        fields=fields,
        layers=infos,
        crs=_crs_text(used_crs),
        crs_name=crs_label(used_crs),
        crs_source="declared" if declared else "file",
        file_crs=file_crs,
        driver=driver,
        warnings=warnings,
    )


def _source_crs(layer, file_crs, declared, warnings):
    if declared is not None:
        if file_crs:
            in_file = parse_crs(file_crs)
            if not in_file.equals(declared, ignore_axis_order=True):
                warnings.append(
                    f"图层“{layer.display}”自带坐标系 {crs_label(in_file)}，已按声明的 {crs_label(declared)} 读取。"
                )
        return declared
    if not file_crs:
        hint = "（Shapefile 缺少 .prj 文件）" if layer.dbf else ""
        raise GisError(
            f"图层“{layer.display}”没有坐标系{hint}。请声明文件的坐标系，"
            "如 4490（CGCS2000 经纬度）、4547（CGCS2000 3 度带中央经线 114°E）、4326（WGS84）。"
        )
    return parse_crs(file_crs)


def _reproject(geoms, transformer):
    def transform(coords):
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), 7)

    try:
        return shapely.transform(geoms, transform)
    except Exception as error:  # noqa: BLE001 - pyproj and shapely raise several kinds
        raise GisError(f"坐标转换失败：{error}")


def _check_bounds(geoms, display, source_crs, several):
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    inside = (
        (bounds[:, 0] >= min_lon)
        & (bounds[:, 2] <= max_lon)
        & (bounds[:, 1] >= min_lat)
        & (bounds[:, 3] <= max_lat)
    )
    finite = np.isfinite(bounds).all(axis=1)
    if (inside & finite).all():
        return
    rows = (np.flatnonzero(present)[~(inside & finite)] + 1)[:5]
    where = f"图层“{display}”" if several else ""
    sample = bounds[~(inside & finite)][0]
    values = "，".join(f"{v:.6g}" for v in sample)
    hint = ""
    if abs(sample[0]) > 180 or abs(sample[1]) > 90:
        hint = "坐标值像是投影坐标（米），请声明文件实际的投影坐标系（如 CGCS2000 3 度带 4547）。"
    elif not np.isfinite(sample).all():
        hint = "坐标转换失败，请检查声明的坐标系。"
    else:
        hint = f"请检查文件的坐标系（当前按 {crs_label(source_crs)} 读取）。"
    raise GisError(
        f"{where}第 {'、'.join(str(r) for r in rows)} 个要素的坐标不在中国范围内（经度 73–136，纬度 3–54），"
        f"范围为 {values}。{hint}"
    )


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def shapefile_field_names(fields, preferred=None):
    """Field names for a .dbf: at most 10 bytes, ASCII, unique. preferred maps a field to its short name."""
    preferred = preferred or {}
    used, names = set(), {}
    for index, name in enumerate(fields, start=1):
        short = preferred.get(name) or name
        if not short.isascii() or len(short.encode()) > 10 or not short:
            short = (short if short.isascii() else "")[:10] or f"field{index}"
        base, n = short, 1
        while short.lower() in used:
            n += 1
            short = f"{base[: 10 - len(str(n)) - 1]}_{n}"
        used.add(short.lower())
        names[name] = short
    return names


def _column(values):
    """(numpy column, null mask or None) for pyogrio: bool, int, float, date or text; None is null.

    Dates (datetime.date, not datetime) become a datetime64[D] column, which GDAL writes as a Date field
    (GeoPackage DATE, Shapefile D), with NaT for a missing date."""
    present = [v for v in values if v is not None]
    mask = np.array([v is None for v in values], dtype=bool) if len(present) < len(values) else None
    if present and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in present):
        return np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in values]), None
    if present and all(isinstance(v, bool | np.bool_) for v in present):
        return np.array([bool(v) for v in values], dtype=bool), mask
    if present and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present):
        return np.array([0 if v is None else int(v) for v in values], dtype=np.int64), mask
    if present and all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64), None
    return np.array([None if v is None else str(v) for v in values], dtype=object), None


def _truncate_bytes(text, limit=254):
    if text is None:
        return None
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _geometry_type(geoms):
    kinds = {shapely.get_type_id(g) for g in geoms if g is not None}
    names = {
        0: "Point",
        1: "LineString",
        3: "Polygon",
        4: "MultiPoint",
        5: "MultiLineString",
        6: "MultiPolygon",
    }
    found = {names.get(k, "Unknown") for k in kinds}
    if not found:
        return "Unknown", False
    if len(found) == 1:
        return found.pop(), False
    for single in ("Point", "LineString", "Polygon"):
        if found <= {single, "Multi" + single}:
            return "Multi" + single, True
    return "Unknown", False


def _as_features(features):
    for item in features:
        if isinstance(item, Feature):
            yield item
        else:
            geometry, properties = item
            yield Feature(geometry=geometry, properties=properties)


def write(features, target, fmt, *, fields=None, layer="features", name_field=None, shapefile_names=None):
    """Write features (Feature objects or (geometry dict, properties) pairs) in lon/lat EPSG:4490.

    fmt is a key of FORMATS. target is a path or a binary file object. fields gives the attribute names
    and their order (default: the first feature's keys). Returns a dict with the Shapefile field-name
    mapping under "shapefile_names" when fmt is "shp".
    """
    if fmt not in FORMATS:
        raise GisError(f"不支持的格式“{fmt}”，可选 {'、'.join(FORMATS)}。")
    features = list(_as_features(features))
    if fields is None:
        fields = list(features[0].properties) if features else []
    if fmt == "geojson":
        data = _geojson_bytes(features, fields, layer)
        _deliver_bytes(data, target)
        return {}
    with tempfile.TemporaryDirectory(prefix="gisio-") as folder:
        result = {}
        if fmt == "shp":
            result["shapefile_names"] = names = shapefile_field_names(fields, shapefile_names)
            base = os.path.join(folder, layer)
            _ogr_write(base + ".shp", features, fields, "ESRI Shapefile", layer, names, encoding="UTF-8")
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    if os.path.exists(base + suffix):
                        archive.write(base + suffix, layer + suffix)
                archive.writestr("fields.csv", _mapping_csv(names))
            _deliver_bytes(buffer.getvalue(), target)
            return result
        driver, suffix = FORMATS[fmt][0], FORMATS[fmt][1]
        path = os.path.join(folder, layer + suffix)
        names = {name: name for name in fields}
        if fmt == "kml" and name_field in names:
            names[name_field] = "Name"  # LIBKML writes a field called Name as the placemark's <name>
        _ogr_write(path, features, fields, driver, layer, names)
        with open(path, "rb") as handle:
            _deliver_bytes(handle.read(), target)
        return result


def _mapping_csv(names):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["dbf_field", "field"])
    for name, short in names.items():
        writer.writerow([short, name])
    return "\ufeff" + out.getvalue()


def _ogr_write(path, features, fields, driver, layer, names, encoding=None):
    geoms = np.array(
        [shapely.geometry.shape(f.geometry) if f.geometry else None for f in features], dtype=object
    )
    geometry_type, promote = _geometry_type(geoms)
    if driver == "ESRI Shapefile" and geometry_type == "Unknown" and len(features):
        raise GisError("Shapefile 不能在同一文件中混合点、线、面几何。")
    columns, masks = [], []
    for name in fields:
        column, mask = _column([f.properties.get(name) for f in features])
        if driver == "ESRI Shapefile" and column.dtype == object:
            column = np.array([_truncate_bytes(v) for v in column], dtype=object)
        columns.append(column)
        masks.append(mask if mask is not None else np.zeros(len(features), dtype=bool))
    kwargs = {}
    if any(mask.any() for mask in masks):
        kwargs["field_mask"] = masks
    if encoding:
        kwargs["encoding"] = encoding
    crs = "EPSG:4326" if driver in ("LIBKML", "KML") else TARGET_CRS
    if driver == "GPKG":
        kwargs["layer_options"] = {"IDENTIFIER": layer}
    try:
        pyogrio.raw.write(
            path,
            shapely.to_wkb(geoms),
            columns,
            [names[name] for name in fields],
            layer=layer,
            driver=driver,
            geometry_type=geometry_type,
            promote_to_multi=promote or None,
            crs=crs,
            **kwargs,
        )
    except Exception as error:  # noqa: BLE001
        raise GisError(f"写出 {driver} 文件失败：{_gdal_message(error)}")


def _geojson_bytes(features, fields, layer):
    out = {
        "type": "FeatureCollection",
        "name": layer,
        "features": [
            {
                "type": "Feature",
                "properties": {name: _json_value(f.properties.get(name)) for name in fields},
                "geometry": rfc7946(f.geometry),
            }
            for f in features
        ],
    }
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _deliver_bytes(data, target):
    if isinstance(target, str | os.PathLike):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def attribute_text(value):
    """An attribute value as the text a person typed: None is empty, 3.0 is "3", spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
