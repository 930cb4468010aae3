"""Builders of GIS files as they arrive from the field: GBK Shapefiles without .cpg in zips whose member
names are GBK, projected coordinates, GeoPackages with several layers, hand-written KML, GeoJSON."""

import io
import os
import tempfile
import zipfile

import numpy as np
import pyogrio.raw
import shapely
from pyproj import Transformer

# Around Datong: a small square near 御河 and a triangle further east (lon/lat, CGCS2000).
SQUARE = shapely.Polygon(
    [(113.30, 40.05), (113.34, 40.05), (113.34, 40.08), (113.30, 40.08), (113.30, 40.05)]
)
TRIANGLE = shapely.Polygon([(113.50, 40.10), (113.56, 40.10), (113.53, 40.14), (113.50, 40.10)])
LINE = shapely.LineString([(113.20, 40.20), (113.25, 40.15), (113.30, 40.10)])

CM114 = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E, the zone Datong's surveys use


def to_projected(geom, crs=CM114):
    transformer = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))


def _columns(rows, fields):
    out = []
    for name in fields:
        values = [row.get(name) for row in rows]
        if all(isinstance(v, float) for v in values):
            out.append(np.array(values, dtype=np.float64))
        else:
            out.append(np.array(values, dtype=object))
    return out


def write_shapefile(folder, stem, geoms, rows, *, crs="EPSG:4490", encoding="UTF-8", cpg=True, prj=True):
    """Write stem.shp and side files into folder; drop .cpg/.prj on request. Returns the .shp path."""
    fields = list(rows[0]) if rows else []
    path = os.path.join(folder, f"{stem}.shp")
    geometry_type = {
        "Polygon": "Polygon",
        "MultiPolygon": "MultiPolygon",
        "LineString": "LineString",
        "Point": "Point",
    }[geoms[0].geom_type]
    pyogrio.raw.write(
        path,
        shapely.to_wkb(np.array(geoms, dtype=object)),
        _columns(rows, fields),
        fields,
        driver="ESRI Shapefile",
        geometry_type=geometry_type,
        crs=crs,
        encoding=encoding,
        promote_to_multi=geometry_type.startswith("Multi") or None,
    )
    if not cpg and os.path.exists(os.path.join(folder, f"{stem}.cpg")):
        os.remove(os.path.join(folder, f"{stem}.cpg"))
    if not prj and os.path.exists(os.path.join(folder, f"{stem}.prj")):
        os.remove(os.path.join(folder, f"{stem}.prj"))
    return path


def zipped_shapefiles(layers, *, gbk_names=False):
    """Bytes of a zip holding shapefiles. layers: [(stem, geoms, rows, options)].

    gbk_names writes the member names as GBK bytes without the zip's UTF-8 flag, as Chinese Windows
    tools do (the names are patched in after writing: same byte length placeholders).
    """
    buffer = io.BytesIO()
    placeholders = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for index, (stem, geoms, rows, options) in enumerate(layers):
            local = f"layer{index}"
            write_shapefile(folder, local, geoms, rows, **options)
            if gbk_names:
                encoded = stem.encode("gbk")
                placeholder = (f"P{index}" + "x" * len(encoded))[: len(encoded)]
                assert len(placeholder.encode()) == len(encoded)
                placeholders[placeholder.encode()] = encoded
                member = placeholder
            else:
                member = stem
            for name in sorted(os.listdir(folder)):
                if name.startswith(local + "."):
                    archive.write(os.path.join(folder, name), member + os.path.splitext(name)[1])
    data = buffer.getvalue()
    for placeholder, encoded in placeholders.items():
        data = data.replace(placeholder, encoded)
    return data


def geopackage(layers, crs="EPSG:4490"):
    """Bytes of a GeoPackage with one or more layers: [(layer name, geoms, rows)]."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data.gpkg")
        for name, geoms, rows in layers:
            fields = list(rows[0])
            pyogrio.raw.write(
                path,
                shapely.to_wkb(np.array(geoms, dtype=object)),
                _columns(rows, fields),
                fields,
                layer=name,
                driver="GPKG",
                geometry_type=geoms[0].geom_type,
                crs=crs,
                append=os.path.exists(path),
            )
        with open(path, "rb") as handle:
            return handle.read()


def kml(placemarks, folder_name="考核断面"):
    """A KML document as Google Earth or 奥维 writes it: <name>, <description> and ExtendedData/Data."""
    marks = []
    for name, point, data in placemarks:
        extended = "".join(f'<Data name="{k}"><value>{v}</value></Data>' for k, v in data.items())
        marks.append(
            f"<Placemark><name>{name}</name><description>示例</description>"
            f"<ExtendedData>{extended}</ExtendedData>"
            f"<Point><coordinates>{point[0]},{point[1]},0</coordinates></Point></Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>导出</name>'
        f"<Folder><name>{folder_name}</name>{''.join(marks)}</Folder></Document></kml>"
    ).encode()


def kmz(kml_bytes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml_bytes)
    return buffer.getvalue()


def geojson(features, crs_name=None):
    import json

    document = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
            for geom, props in features
        ],
    }
    if crs_name:
        document["crs"] = {"type": "name", "properties": {"name": crs_name}}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
