"""The map's reference and context layers as GeoJSON: boundaries, rivers, sections, protected areas, units,
and the chain lines unit → outfall → river.

Every layer starts from the model's ``visible_to(user)``. Lines and polygons are simplified for the zoom
(about ¾ of a screen pixel) and rounded, and the result is cached under a digest of the stored GeoJSON
text and the zoom: an edited boundary has a new digest, so the cache never serves a stale shape, whichever
process changed it. Features are assembled as text around the cached geometry strings, which keeps a
boundary request a database read plus string joins.
"""

import hashlib
import json
import math

import shapely
import shapely.ops
from django.conf import settings
from django.core.cache import caches
from django.db.models import Max, Min, TextField
from django.db.models.functions import Cast
from shapely.geometry import Point

from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
from outfalls.core.models import Jurisdiction
from outfalls.geo.shapes import metres_per_degree, reference_latitude, shape_of, to_metres
from outfalls.registry.choices import LinkRole, ProtectedAreaKind, SectionLevel, UnitKind
from outfalls.registry.models import (
    DischargeUnit,
    Outfall,
    OutfallUnitLink,
    ProtectedArea,
    Section,
    SewerCoverageArea,
    WaterBody,
)

#: From this zoom on, geometries are sent as stored (no simplification).
FULL_DETAIL_ZOOM = 14
CACHE_PREFIX = "maps:geom:v1"


def map_cache():
    """The cache the map keeps its shapes and aggregates in: CACHES["maps"] when configured, else the default."""
    return caches["maps" if "maps" in settings.CACHES else "default"]


# Geometry: simplified per zoom, cached by content -----------------------------------------------------
def tolerance_for(zoom):
    """Simplification tolerance in degrees at a zoom: about ¾ of a screen pixel; 0 at full detail."""
    if zoom is None or zoom >= FULL_DETAIL_ZOOM:
        return 0.0
    return 0.75 * 360.0 / (256 * 2**zoom)


def _decimals_for(tolerance):
    # 6 decimals (~0.1 m) at full detail; at lower zooms a tenth of the tolerance is enough.
    if not tolerance:
        return 6
    return min(6, max(3, math.ceil(-math.log10(tolerance)) + 1))


def _prepare(raw, tolerance):
    geom = shape_of(json.loads(raw))
    bounds = geom.bounds
    if tolerance:
        simpler = geom.simplify(tolerance, preserve_topology=True)
        if not simpler.is_empty:
            geom = simpler
    decimals = _decimals_for(tolerance)
    geom = shapely.transform(geom, lambda coords: coords.round(decimals))
    return {"geometry": shapely.to_geojson(geom), "bounds": bounds}


def prepared_geometries(raws, zoom):
    """For each stored GeoJSON text (None for none), {"geometry": GeoJSON text, "bounds": (...)} or None.

    Simplified for the zoom and cached by a digest of the text, so an unchanged geometry is parsed once.
    """
    tolerance = tolerance_for(zoom)
    keys = []
    for raw in raws:
        if raw is None:
            keys.append(None)
            continue
        digest = hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
        keys.append(f"{CACHE_PREFIX}:{digest}:{tolerance:.3e}")
    cache = map_cache()
    found = cache.get_many([k for k in keys if k])
    missing = {}
    results = []
    for raw, key in zip(raws, keys, strict=True):
        if key is None:
            results.append(None)
            continue
        prepared = found.get(key)
        if prepared is None:
            try:
                prepared = _prepare(raw, tolerance)
            except (ValueError, TypeError, shapely.errors.GEOSException):
                prepared = {"geometry": None, "bounds": None}  # unreadable geometry: no feature
            missing[key] = prepared
            found[key] = prepared
        results.append(prepared if prepared["geometry"] else None)
    if missing:
        cache.set_many(missing, timeout=settings.MAP_CACHE_SECONDS)
    return results


def _raw(queryset, field):
    """The queryset with the GeoJSON column read as text (no JSON decoding; digested and cached above)."""
    return queryset.filter(**{f"{field}__isnull": False}).annotate(raw=Cast(field, TextField()))


def feature_collection(features, **extra):
    """A GeoJSON FeatureCollection as text; features are (geometry text, properties dict) pairs."""
    parts = [
        f'{{"type":"Feature","geometry":{geometry},"properties":{json.dumps(props, ensure_ascii=False)}}}'
        for geometry, props in features
    ]
    head = "".join(f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}," for k, v in extra.items())
    return f'{{"type":"FeatureCollection",{head}"features":[{",".join(parts)}]}}'


def _point(lon, lat):
    return f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}'


def _line(coords):
    inner = ",".join(f"[{round(lon, 6)!r},{round(lat, 6)!r}]" for lon, lat in coords)
    return f'{{"type":"LineString","coordinates":[{inner}]}}'


# Boundaries, rivers, protected areas ------------------------------------------------------------------
BOUNDARY_LEVELS = [JurisdictionLevel.CITY, *COUNTY_LEVELS]


def _shapes(rows, zoom, bbox):
    """(row, prepared) for rows whose geometry lies in bbox (None: everywhere)."""
    prepared = prepared_geometries([row["raw"] for row in rows], zoom)
    for row, geom in zip(rows, prepared, strict=True):
        if geom is None or (bbox is not None and not bbox.intersects(geom["bounds"])):
            continue
        yield row, geom


def boundaries(user, bbox, zoom):
    """The city and county-level boundaries the user may see (Jurisdiction.visible_to)."""
    rows = list(
        _raw(Jurisdiction.objects.visible_to(user).filter(level__in=BOUNDARY_LEVELS), "boundary")
        .order_by("code")
        .values("code", "name", "level", "boundary_approximate", "raw")
    )
    features = [
        (
            geom["geometry"],
            {
                "code": row["code"],
                "name": row["name"],
                "level": row["level"],
                "approximate": row["boundary_approximate"],
            },
        )
        for row, geom in _shapes(rows, zoom, bbox)
    ]
    return feature_collection(features)


def rivers(user, bbox, zoom):
    """Receiving waters with a geometry (lines, or polygons for lakes); ``approximate`` marks 示意 lines."""
    rows = list(
        _raw(WaterBody.objects.visible_to(user), "geometry")
        .order_by("name")
        .values("id", "code", "name", "kind", "basin", "target_class", "geometry_approximate", "raw")
    )
    features = [
        (
            geom["geometry"],
            {
                "id": row["id"],
                "code": row["code"],
                "name": row["name"],
                "kind": row["kind"],
                "basin": row["basin"],
                "target_class": row["target_class"],
                "approximate": row["geometry_approximate"],
            },
        )
        for row, geom in _shapes(rows, zoom, bbox)
    ]
    return feature_collection(features)


def _overlapping(queryset, bbox):
    """Rows whose stored bounding box (min_lon … max_lat) overlaps bbox; all rows when bbox is None."""
    if bbox is None:
        return queryset
    return queryset.filter(
        max_lon__gte=bbox.min_lon,
        min_lon__lte=bbox.max_lon,
        max_lat__gte=bbox.min_lat,
        min_lat__lte=bbox.max_lat,
    )


def protected_areas(user, bbox, zoom):
    """Special protection areas overlapping bbox, found by their stored bounding boxes first."""
    queryset = _overlapping(ProtectedArea.objects.visible_to(user), bbox)
    labels = dict(ProtectedAreaKind.choices)
    rows = list(
        _raw(queryset, "geometry").order_by("kind", "name").values("id", "name", "kind", "approximate", "raw")
    )
    features = [
        (
            geom["geometry"],
            {
                "id": row["id"],
                "name": row["name"],
                "kind": row["kind"],
                "kind_label": labels.get(row["kind"], row["kind"]),
                "approximate": row["approximate"],
            },
        )
        for row, geom in _shapes(rows, zoom, None)
    ]
    return feature_collection(features)


def sewer_coverage_areas(user, bbox, zoom):
    """Sewer coverage areas (污水管网覆盖范围) overlapping bbox, found by their stored bounding boxes first."""
    queryset = _overlapping(SewerCoverageArea.objects.visible_to(user), bbox)
    rows = list(
        _raw(queryset, "geometry").order_by("name").values("id", "name", "source", "approximate", "raw")
    )
    features = [
        (
            geom["geometry"],
            {
                "id": row["id"],
                "name": row["name"],
                "source": row["source"],
                "approximate": row["approximate"],
            },
        )
        for row, geom in _shapes(rows, zoom, None)
    ]
    return feature_collection(features)


def extent(user):
    """(min_lon, min_lat, max_lon, max_lat) to open the map on: the user's visible boundaries, else their
    outfalls, else None."""
    rows = list(
        _raw(Jurisdiction.objects.visible_to(user).filter(level__in=COUNTY_LEVELS), "boundary").values("raw")
    )
    if not rows:
        rows = list(
            _raw(
                Jurisdiction.objects.visible_to(user).filter(level=JurisdictionLevel.CITY), "boundary"
            ).values("raw")
        )
    bounds = [geom["bounds"] for _row, geom in _shapes(rows, 8, None)]
    if bounds:
        return (
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        )
    box = (
        Outfall.objects.visible_to(user).order_by().aggregate(Min("lon"), Min("lat"), Max("lon"), Max("lat"))
    )
    if box["lon__min"] is None:
        return None
    return (box["lon__min"], box["lat__min"], box["lon__max"], box["lat__max"])


# Points: sections and discharge units -----------------------------------------------------------------
def sections(user, bbox):
    queryset = Section.objects.visible_to(user)
    if bbox is not None:
        queryset = queryset.filter(bbox.q())
    levels = dict(SectionLevel.choices)
    rows = queryset.order_by("water_body__name", "chainage_km").values_list(
        "id",
        "name",
        "level",
        "level_approximate",
        "lon",
        "lat",
        "location_approximate",
        "target_class",
        "water_body__name",
    )
    features = [
        (
            _point(lon, lat),
            {
                "id": pk,
                "name": name,
                "level": level,
                "level_label": levels.get(level, level) + ("（待核实）" if level_approx else ""),
                "approximate": approx,
                "target_class": target,
                "water_body": water,
            },
        )
        for pk, name, level, level_approx, lon, lat, approx, target, water in rows
    ]
    return feature_collection(features)


def units(user, bbox, limit):
    """Discharge units with a location in bbox, at most limit of them (else none, with the total)."""
    queryset = DischargeUnit.objects.visible_to(user).filter(lon__isnull=False, lat__isnull=False)
    if bbox is not None:
        queryset = queryset.filter(bbox.q())
    rows = list(
        queryset.order_by().values_list("id", "name", "credit_code", "kind", "lon", "lat")[: limit + 1]
    )
    if len(rows) > limit:
        total = queryset.order_by().count()
        return feature_collection(
            [], total=total, truncated=True, hint=f"视野内有 {total} 个排污单位，请放大地图查看"
        )
    kinds = dict(UnitKind.choices)
    features = [
        (
            _point(lon, lat),
            {"id": pk, "name": name, "credit_code": credit or "", "kind_label": kinds.get(kind, kind)},
        )
        for pk, name, credit, kind, lon, lat in rows
    ]
    return feature_collection(features, total=len(features), truncated=False)


# Chain lines: unit → outfall → river ------------------------------------------------------------------
class RiverIndex:
    """Receiving-water lines in metres (scaled at each line's middle latitude), to find nearest points."""

    def __init__(self, water_body_ids):
        self.lines = {}
        rows = WaterBody.objects.filter(pk__in=water_body_ids, geometry__isnull=False).values_list(
            "pk", "geometry"
        )
        for pk, geometry in rows:
            try:
                geom = shape_of(geometry)
            except (ValueError, TypeError, shapely.errors.GEOSException):
                continue
            ref = reference_latitude(geom)
            # Lakes and reservoirs: the nearest point of their shore.
            outline = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
            self.lines[pk] = (to_metres(outline, ref), ref)

    def nearest(self, water_body_id, lon, lat):
        """(lon, lat, distance in metres) of the point of the water nearest to (lon, lat), or None."""
        entry = self.lines.get(water_body_id)
        if entry is None:
            return None
        line, ref = entry
        per_lon, per_lat = metres_per_degree(ref)
        point = Point(lon * per_lon, lat * per_lat)
        nearest = line.interpolate(line.project(point))
        return nearest.x / per_lon, nearest.y / per_lat, nearest.distance(point)


def chains(user, outfalls, limit):
    """Chain lines for the outfalls queryset (already scoped, filtered and boxed by the caller).

    For each outfall: a line from each linked discharge unit the user may see (and from the responsible
    entity when it has no link) to the outfall, and a line from the outfall to the nearest point of its
    receiving water. At most limit outfalls; more gives no lines and a hint to zoom in.
    """
    rows = list(
        outfalls.values_list(
            "id", "lon", "lat", "water_body_id", "responsible_entity_id", "water_body__name"
        )[: limit + 1]
    )
    if len(rows) > limit:
        return feature_collection([], truncated=True, hint="视野内排污口过多，请放大地图查看排污链条")
    ids = [row[0] for row in rows]
    visible_units = DischargeUnit.objects.visible_to(user)
    links = {}
    for outfall_id, unit_id, name, lon, lat, role in (
        OutfallUnitLink.objects.filter(outfall_id__in=ids, unit__in=visible_units, unit__lon__isnull=False)
        .order_by("outfall_id", "role", "unit__name")
        .values_list("outfall_id", "unit_id", "unit__name", "unit__lon", "unit__lat", "role")
    ):
        links.setdefault(outfall_id, []).append((unit_id, name, lon, lat, role))
    entity_ids = {row[4] for row in rows if row[4]}
    entities = {
        pk: (name, lon, lat)
        for pk, name, lon, lat in visible_units.filter(pk__in=entity_ids, lon__isnull=False).values_list(
            "pk", "name", "lon", "lat"
        )
    }
    roles = dict(LinkRole.choices)
    river_index = RiverIndex({row[3] for row in rows})
    features = []
    for outfall_id, lon, lat, water_id, entity_id, water_name in rows:
        linked = links.get(outfall_id, [])
        if entity_id in entities and all(unit_id != entity_id for unit_id, *_ in linked):
            name, unit_lon, unit_lat = entities[entity_id]
            linked.append((entity_id, name, unit_lon, unit_lat, "responsible"))
        for unit_id, name, unit_lon, unit_lat, role in linked:
            features.append(
                (
                    _line([(unit_lon, unit_lat), (lon, lat)]),
                    {
                        "segment": "unit",
                        "outfall_id": outfall_id,
                        "unit_id": unit_id,
                        "unit": name,
                        "role": role,
                        "role_label": roles.get(role, "责任主体"),
                    },
                )
            )
        nearest = river_index.nearest(water_id, lon, lat)
        if nearest is not None:
            river_lon, river_lat, distance = nearest
            features.append(
                (
                    _line([(lon, lat), (river_lon, river_lat)]),
                    {
                        "segment": "river",
                        "outfall_id": outfall_id,
                        "water_body": water_name,
                        "distance_m": round(distance),
                    },
                )
            )
    return feature_collection(features, truncated=False)


# The offline base map (MAP_BASE_LAYER=offline) -------------------------------------------------------------
#: The base is sent once at this detail (about 30 m: a county line on a city-wide or street view) and kept
#: by the browser; the data layers on top are drawn at full detail.
BASEMAP_ZOOM = 12
BASEMAP_LEVELS = [JurisdictionLevel.CITY, *COUNTY_LEVELS, JurisdictionLevel.TOWN]
#: How far the grey mask around the city reaches, degrees.
BASEMAP_MASK_MARGIN = 4.0


#: A river's name is repeated along its longest line at these fractions of its length.
RIVER_LABEL_FRACTIONS = (0.2, 0.5, 0.8)


def _label_points(geom):
    """Where a water's name goes: along its longest line (several times), or inside its area."""
    if geom.geom_type in ("LineString", "MultiLineString"):
        longest = max(getattr(geom, "geoms", [geom]), key=lambda part: part.length)
        points = [longest.interpolate(f, normalized=True) for f in RIVER_LABEL_FRACTIONS]
        return [[round(p.x, 5), round(p.y, 5)] for p in points]
    return [_label_point(geom)]


def _label_point(geom):
    """Where a polygon's name goes: the pole of inaccessibility of its largest part (inside, away from the
    edges); a line's name: its middle."""
    if geom.geom_type in ("LineString", "MultiLineString"):
        longest = max(getattr(geom, "geoms", [geom]), key=lambda part: part.length)
        point = longest.interpolate(0.5, normalized=True)
    else:
        largest = max(getattr(geom, "geoms", [geom]), key=lambda part: part.area)
        try:
            point = shapely.ops.polylabel(largest, tolerance=0.002)
        except (ValueError, shapely.errors.GEOSException):
            point = largest.representative_point()
    return [round(point.x, 5), round(point.y, 5)]


def basemap(user):
    """The offline base for the user: the jurisdictions they may see (city, counties, towns that have a
    boundary) with a label point each, the receiving waters with a label point, and a mask that greys
    everything outside the city. One JSON document; geometry as in boundaries() at BASEMAP_ZOOM."""
    places = list(
        _raw(Jurisdiction.objects.visible_to(user).filter(level__in=BASEMAP_LEVELS), "boundary")
        .order_by("level", "code")
        .values("code", "name", "level", "boundary_approximate", "raw")
    )
    waters = list(
        _raw(WaterBody.objects.visible_to(user), "geometry")
        .order_by("name")
        .values("name", "kind", "geometry_approximate", "raw")
    )
    areas, rivers, city = [], [], []
    for row, geom in _shapes(places, BASEMAP_ZOOM, None):
        shape = shapely.from_geojson(geom["geometry"])
        if row["level"] == JurisdictionLevel.CITY:
            city.append(shape)
        props = {
            "name": row["name"] + ("（示意）" if row["boundary_approximate"] else ""),
            "level": row["level"],
            "label": _label_point(shape),
        }
        areas.append((geom["geometry"], props))
    for row, geom in _shapes(waters, BASEMAP_ZOOM, None):
        shape = shapely.from_geojson(geom["geometry"])
        props = {"name": row["name"], "kind": row["kind"], "labels": _label_points(shape)}
        rivers.append((geom["geometry"], props))
    if not city:  # no city boundary: the counties' outline
        city = [shapely.from_geojson(g) for g, props in areas if props["level"] in COUNTY_LEVELS]
    mask = None
    if city:
        outline = shapely.union_all(city)
        minx, miny, maxx, maxy = outline.bounds
        m = BASEMAP_MASK_MARGIN
        mask = shapely.to_geojson(
            shapely.box(minx - m, miny - m, maxx + m, maxy + m).difference(outline.buffer(0)).simplify(0.0003)
        )
    parts = [
        f'"areas":{feature_collection(areas)}',
        f'"rivers":{feature_collection(rivers)}',
        f'"mask":{mask or "null"}',
    ]
    return "{" + ",".join(parts) + "}"
