"""GIS import of reference data: protected areas, receiving-water geometry, sections, jurisdiction boundaries.

``plan_import`` judges every feature of a file read by ``geo.gisio`` and says what it would do (create,
update, skip, or an error with the row and the reason in Chinese); it writes nothing. ``commit_import``
applies a plan without errors in one transaction: all or nothing. The import page, the ``gis_import``
command and the tests all go through these two functions.

What each kind matches and changes:

- protected areas (特殊保护区域): matched by name and kind; created or their polygon replaced. The kind
  comes from an attribute (its value may be the label, the stored value or a common short form such as
  一级保护区) or is one kind for the whole file. Rows with the same name and kind are merged.
- rivers (受纳水体几何): matched by water-body code, else by name; only the geometry changes. Rows for
  the same water body are merged (line parts joined where they meet). Water bodies the platform does not
  have are skipped (shown in the preview). The sections on a river whose new geometry is one line get
  their chainage (沿程距离) recomputed.
- sections (考核断面): matched by name within their water body (an attribute holding the water body's
  name or code); created or moved. The county is the county-level boundary containing the point.
- sewer coverage areas (污水管网覆盖范围): matched by name; created or their polygon replaced; the county is the
  county-level boundary containing the polygon's representative point. Rows with the same name are merged.
  Domestic-sewage outfalls inside one are proposed for merging into the network (remediation rules).
- boundaries (行政区划边界): matched by administrative code (12-digit codes padded with zeros are cut to
  9 or 6 digits), else by name; only the boundary changes. Jurisdictions the platform does not have are
  skipped.
- water-function zones (水功能区): matched by code, else by name; created or changed. A polygon is an area
  zone; a line is a stretch of its water body (an attribute naming it), kept as the chainages of the line's
  ends projected onto the river line. The target class is required, the latest assessed class and its date
  optional (Ⅲ, III, 3, 三类, Ⅲ类 and 劣Ⅴ are all read).
- water works (涉水工程: flood works, water intakes, dykes): points, lines or areas, matched by name and kind;
  the kind comes from an attribute or, without one, from the name (堤 → 堤防, 取水 → 取水口, else 防洪工程).

Reference data is city-wide: only city administrators and the city bureau may import it.
"""

import json
from collections import Counter
from dataclasses import dataclass, field

import shapely
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from shapely.geometry import LineString, MultiLineString, shape

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo import gisio, shapes
from outfalls.geo.linref import RiverLine
from outfalls.registry.choices import ProtectedAreaKind, SectionLevel, WaterClass, WaterWorksKind
from outfalls.registry.ledger_values import parse_date
from outfalls.registry.models import (
    ProtectedArea,
    Section,
    SewerCoverageArea,
    WaterBody,
    WaterFunctionZone,
    WaterWorks,
)

PREVIEW_ROWS = 500


class ImportKind(models.TextChoices):
    PROTECTED_AREAS = "protected_areas", "特殊保护区域"
    RIVERS = "rivers", "受纳水体几何（河流、湖库）"
    SECTIONS = "sections", "考核断面位置"
    BOUNDARIES = "boundaries", "行政区划边界"
    SEWER_COVERAGE = "sewer_coverage", "污水管网覆盖范围"
    WATER_ZONES = "water_zones", "水功能区（目标与评价水质）"
    WATER_WORKS = "water_works", "涉水工程（防洪工程、取水口、堤防）"


class GisImportError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Attribute names tried, in order, for each role (compared without case).
FIELD_CANDIDATES = {
    "name": (
        "名称",
        "name",
        "保护区名称",
        "河流名称",
        "水体名称",
        "断面名称",
        "区划名称",
        "行政区名称",
        "县区名称",
        "mc",
        "bhqmc",
        "hlmc",
        "dmmc",
        "xzqmc",
        "name_chn",
        "name_zh",
    ),
    "code": (
        "区划代码",
        "行政区划代码",
        "代码",
        "编码",
        "水体编码",
        "河流编码",
        "code",
        "xzqdm",
        "pac",
        "adcode",
        "gb",
        "hlbm",
        "dm",
    ),
    "kind": ("类型", "类别", "保护区类型", "保护级别", "级别", "kind", "type", "lx", "bhqlx", "jb"),
    "water": (
        "所在水体",
        "所在河流",
        "受纳水体",
        "水体",
        "河流",
        "water_body",
        "water",
        "river",
        "szst",
        "hlmc",
    ),
    "level": ("级别", "断面级别", "断面类型", "level", "jb", "dmjb"),
    "target": ("水质目标", "目标水质", "水质目标类别", "target_class", "target", "szmb", "mbsz"),
    "assessed": ("现状水质", "评价水质", "最新评价水质", "水质类别", "assessed_class", "assessed", "xzsz"),
    "date": ("评价日期", "评价时间", "监测日期", "assessed_on", "date", "pjrq"),
}
# Which roles each kind uses.
KIND_ROLES = {
    ImportKind.PROTECTED_AREAS: ("name", "kind"),
    ImportKind.RIVERS: ("name", "code"),
    ImportKind.SECTIONS: ("name", "water", "level"),
    ImportKind.BOUNDARIES: ("name", "code"),
    ImportKind.SEWER_COVERAGE: ("name",),
    ImportKind.WATER_ZONES: ("name", "code", "water", "target", "assessed", "date"),
    ImportKind.WATER_WORKS: ("name", "kind", "water"),
}

# Short forms seen in real protected-area files, tried after the labels and values.
PROTECTED_KIND_WORDS = (
    ("准保护区", ProtectedAreaKind.DRINKING_WATER_QUASI),
    ("一级", ProtectedAreaKind.DRINKING_WATER_1),
    ("二级", ProtectedAreaKind.DRINKING_WATER_2),
    ("泉域", ProtectedAreaKind.SPRING),
    ("泉源", ProtectedAreaKind.SPRING),
    ("自然保护区", ProtectedAreaKind.NATURE_RESERVE),
    ("红线", ProtectedAreaKind.ECO_REDLINE),
)
SECTION_LEVEL_WORDS = (
    ("国", SectionLevel.NATIONAL),
    ("省", SectionLevel.PROVINCIAL),
    ("市", SectionLevel.CITY),
)


@dataclass
class Mapping:
    """Which attribute holds what; empty means not used."""

    name_field: str = ""
    code_field: str = ""
    kind_field: str = ""
    fixed_kind: str = ""  # a ProtectedAreaKind value for the whole file
    water_field: str = ""
    level_field: str = ""
    target_field: str = ""
    assessed_field: str = ""
    date_field: str = ""
    source: str = ""  # written to the rows' source field; default "GIS 导入：<file name>"


ROLE_NAMES = tuple(f"{role}_field" for role in FIELD_CANDIDATES)


def guess_field(fields, role):
    lowered = {name.lower(): name for name in fields}
    for candidate in FIELD_CANDIDATES[role]:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return ""


def guess_mapping(kind, fields):
    """Defaults for the mapping form: the first attribute whose name looks right for each role."""
    roles = KIND_ROLES[ImportKind(kind)]
    mapping = Mapping()
    taken = set()
    for role in roles:
        found = guess_field([f for f in fields if f not in taken], role)
        if found:
            setattr(mapping, f"{role}_field", found)
            taken.add(found)
    return mapping


def protected_kind(value):
    """The ProtectedAreaKind for an attribute value, or None."""
    text = gisio.attribute_text(value)
    if not text:
        return None
    for choice in ProtectedAreaKind:
        if text in (choice.value, choice.label):
            return choice
    compact = text.replace(" ", "")
    for word, choice in PROTECTED_KIND_WORDS:
        if word in compact:
            return choice
    if compact.startswith("其他"):
        return ProtectedAreaKind.OTHER
    return None


def section_level(value):
    text = gisio.attribute_text(value)
    if not text:
        return None
    for choice in SectionLevel:
        if text in (choice.value, choice.label):
            return choice
    for word, choice in SECTION_LEVEL_WORDS:
        if text.startswith(word):
            return choice
    return None


def normalise_code(value):
    """Administrative code candidates: "140213", 140213.0 and "140213000000" all give 140213 first."""
    if value is None:
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text.isdigit():
        return [text] if text else []
    candidates = [text]
    if len(text) == 12 and text.endswith("000"):
        candidates.append(text[:9])
    if len(text) in (9, 12) and set(text[6:]) == {"0"}:
        candidates.append(text[:6])
    return candidates


# ---------------------------------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------------------------------

ACTION_LABELS = {"create": "新建", "update": "更新", "skip": "跳过", "error": "错误"}


@dataclass
class RowVerdict:
    label: str
    name: str = ""
    action: str = ""
    target: str = ""
    messages: list = field(default_factory=list)

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, "")

    def fail(self, message):
        self.action = "error"
        self.messages.append(message)


@dataclass
class Change:
    model: type
    pk: int | None
    values: dict
    rows: list
    target: str


@dataclass
class ImportPlan:
    kind: str
    filename: str
    dataset: gisio.Dataset
    mapping: Mapping
    rows: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # errors about the whole file or mapping
    notes: list = field(default_factory=list)

    @property
    def errors(self):
        return [row for row in self.rows if row.action == "error"]

    @property
    def counts(self):
        counts = Counter(row.action for row in self.rows)
        return {ACTION_LABELS[action]: counts.get(action, 0) for action in ACTION_LABELS}

    @property
    def ok(self):
        return not self.problems and not self.errors and bool(self.changes)

    @property
    def shown_rows(self):
        """The rows for the preview table: every error, then the others up to PREVIEW_ROWS."""
        errors = self.errors
        others = [row for row in self.rows if row.action != "error"]
        return errors + others[: max(0, PREVIEW_ROWS - len(errors))]

    @property
    def kind_label(self):
        return ImportKind(self.kind).label


def load_dataset(source, *, crs=None, encoding=None, layer=None, filename=None):
    """Read a GIS file for import (gisio.read); GisImportError with the reader's Chinese message."""
    try:
        return gisio.read(
            source, crs or None, layer=layer or None, encoding=encoding or None, filename=filename
        )
    except gisio.GisError as error:
        raise GisImportError(error.message)


def _row_label(feature, several_layers):
    if several_layers:
        return f"图层“{feature.layer}”第 {feature.row} 行"
    return f"第 {feature.row} 行"


def plan_import(dataset, kind, mapping, *, filename=""):
    kind = ImportKind(kind)
    plan = ImportPlan(kind=kind, filename=filename, dataset=dataset, mapping=mapping)
    if not mapping.source:
        mapping.source = f"GIS 导入：{filename}" if filename else "GIS 导入"
    if not dataset.features:
        plan.problems.append("文件中没有要素。")
        return plan
    for name in ROLE_NAMES:
        chosen = getattr(mapping, name)
        if chosen and chosen not in dataset.fields:
            plan.problems.append(f"文件中没有属性“{chosen}”。")
    if plan.problems:
        return plan
    several = len({f.layer for f in dataset.features}) > 1
    rows = [RowVerdict(label=_row_label(f, several)) for f in dataset.features]
    plan.rows = rows
    planner = {
        ImportKind.PROTECTED_AREAS: _plan_protected_areas,
        ImportKind.RIVERS: _plan_rivers,
        ImportKind.SECTIONS: _plan_sections,
        ImportKind.BOUNDARIES: _plan_boundaries,
        ImportKind.SEWER_COVERAGE: _plan_sewer_coverage,
        ImportKind.WATER_ZONES: _plan_water_zones,
        ImportKind.WATER_WORKS: _plan_water_works,
    }[kind]
    planner(plan, list(zip(dataset.features, rows, strict=True)))
    return plan


# Geometry checks ------------------------------------------------------------------------------------------
POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")


def _geometry(feature, row, allowed, what):
    """A valid shapely geometry of an allowed type, or None with the row failed."""
    if not feature.geometry:
        row.fail("没有几何。")
        return None
    try:
        geom = shape(feature.geometry)
    except (ValueError, TypeError, AttributeError) as error:
        row.fail(f"几何无法读取：{error}")
        return None
    if geom.is_empty:
        row.fail("几何为空。")
        return None
    if geom.geom_type == "GeometryCollection":
        # A collection of one kind (as some KML and GeoJSON writers produce) is taken as that kind.
        kinds = {p.geom_type for p in shapely.get_parts(geom)}
        if kinds and kinds <= set(POLYGONAL) and set(POLYGONAL) & set(allowed):
            geom = shapely.union_all(shapely.get_parts(geom))
        elif kinds and kinds <= set(LINEAR) and set(LINEAR) & set(allowed):
            geom = MultiLineString(_lines(shapely.get_parts(geom)))
    if geom.geom_type not in allowed:
        row.fail(f"几何类型为 {geom.geom_type}，{what}。")
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        parts = []
        if geom.geom_type in POLYGONAL:
            parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type in POLYGONAL]
        if not parts:
            row.fail(f"几何无效（{reason}）。")
            return None
        geom = shapely.union_all(parts)
        row.messages.append(f"几何无效（{reason}），已自动修复。")
    return geom


def _lines(parts):
    out = []
    for part in parts:
        out.extend(shapely.get_parts(part) if part.geom_type == "MultiLineString" else [part])
    return out


def _merge(geoms):
    if len(geoms) == 1:
        return geoms[0]
    kinds = {g.geom_type for g in geoms}
    if kinds <= set(POLYGONAL):
        return shapely.union_all(geoms)
    merged = shapely.line_merge(MultiLineString(_lines(geoms)), directed=True)
    return merged


def _geojson(geom):
    return json.loads(shapely.to_geojson(geom))


def _merge_note(rows):
    labels = "、".join(r.label for r in rows)
    return f"{labels} 合并为一个几何。"


def _group(plan, groups, model, pk_of, target_of, values_of):
    """Turn {key: (instance or None, [rows], [geoms])} into changes; rows already failed stay failed."""
    for key, (instance, rows, geoms) in groups.items():
        action = "update" if instance is not None else "create"
        for row in rows:
            if row.action != "error":
                row.action = action
                row.target = target_of(key, instance)
        if len(rows) > 1:
            for row in rows:
                row.messages.append(_merge_note(rows))
        if any(row.action == "error" for row in rows):
            continue
        merged = _merge(geoms)
        plan.changes.append(
            Change(model, pk_of(instance), values_of(key, instance, merged), rows, target_of(key, instance))
        )


# Protected areas --------------------------------------------------------------------------------------------
def _plan_protected_areas(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field:
        plan.problems.append("请选择保存名称的属性。")
        return
    if not mapping.kind_field and not mapping.fixed_kind:
        plan.problems.append("请选择保存类型的属性，或为整个文件指定一种类型。")
        return
    fixed = ProtectedAreaKind(mapping.fixed_kind) if mapping.fixed_kind else None
    existing = {}
    for area in ProtectedArea.objects.only("id", "name", "kind"):
        existing.setdefault((area.name, area.kind), []).append(area)
    groups = {}
    labels = "、".join(choice.label for choice in ProtectedAreaKind)
    for feature, row in pairs:
        name = gisio.attribute_text(feature.properties.get(mapping.name_field))
        row.name = name
        if not name:
            row.fail(f"名称（{mapping.name_field}）为空。")
        kind = fixed
        if mapping.kind_field:
            value = feature.properties.get(mapping.kind_field)
            kind = protected_kind(value) or (fixed if not gisio.attribute_text(value) else None)
            if kind is None:
                if gisio.attribute_text(value):
                    row.fail(f"类型“{gisio.attribute_text(value)}”无法识别，应为：{labels}。")
                else:
                    row.fail(f"类型（{mapping.kind_field}）为空。")
        geom = _geometry(feature, row, POLYGONAL, "特殊保护区域须为面")
        if row.action == "error":
            continue
        key = (name, kind.value)
        matches = existing.get(key, [])
        if len(matches) > 1:
            row.fail(f"平台中已有 {len(matches)} 个同名同类的区域，无法确定更新哪一个。")
            continue
        group = groups.setdefault(key, (matches[0] if matches else None, [], []))
        group[1].append(row)
        group[2].append(geom)

    def values(key, instance, merged):
        return {
            "name": key[0],
            "kind": key[1],
            "geometry": _geojson(merged),
            "source": mapping.source[:200],
            "approximate": False,
        }

    _group(
        plan,
        groups,
        ProtectedArea,
        lambda instance: instance.pk if instance else None,
        lambda key, instance: f"{key[0]}（{ProtectedAreaKind(key[1]).label}）",
        values,
    )


# Sewer coverage areas -------------------------------------------------------------------------------------
def _plan_sewer_coverage(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field:
        plan.problems.append("请选择保存名称的属性。")
        return
    existing = {}
    for area in SewerCoverageArea.objects.only("id", "name"):
        existing.setdefault(area.name, []).append(area)
    groups = {}
    for feature, row in pairs:
        name = gisio.attribute_text(feature.properties.get(mapping.name_field))
        row.name = name
        if not name:
            row.fail(f"名称（{mapping.name_field}）为空。")
        geom = _geometry(feature, row, POLYGONAL, "污水管网覆盖范围须为面")
        if row.action == "error":
            continue
        matches = existing.get(name, [])
        if len(matches) > 1:
            row.fail(f"平台中已有 {len(matches)} 个同名的覆盖范围，无法确定更新哪一个。")
            continue
        group = groups.setdefault(name, (matches[0] if matches else None, [], []))
        group[1].append(row)
        group[2].append(geom)
    counties = _counties_with_boundaries() if groups else []

    def values(name, instance, merged):
        point = merged.representative_point()
        county = next((c for c, g in counties if shapely.contains_xy(g, point.x, point.y)), None)
        return {
            "name": name,
            "geometry": _geojson(merged),
            "source": mapping.source[:200],
            "approximate": False,
            "county_id": county.pk if county else None,
        }

    _group(plan, groups, SewerCoverageArea, lambda a: a.pk if a else None, lambda name, a: name, values)


# Receiving waters ---------------------------------------------------------------------------------------
def _water_lookup():
    waters = list(WaterBody.objects.only("id", "name", "code").order_by("pk"))
    by_code = {w.code: w for w in waters}
    by_name = {}
    for w in waters:
        by_name.setdefault(w.name, []).append(w)
    return by_code, by_name


def _find_water(value, by_code, by_name, code=""):
    """(water body or None, error or None) from a code and/or a name."""
    if code and code in by_code:
        return by_code[code], None
    text = gisio.attribute_text(value)
    if text in by_code:
        return by_code[text], None
    matches = by_name.get(text, [])
    if len(matches) > 1:
        return None, f"名称“{text}”对应 {len(matches)} 个受纳水体，请改用水体编码匹配。"
    return (matches[0], None) if matches else (None, None)


def _plan_rivers(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field and not mapping.code_field:
        plan.problems.append("请选择保存水体名称或水体编码的属性。")
        return
    by_code, by_name = _water_lookup()
    groups = {}
    for feature, row in pairs:
        name = gisio.attribute_text(feature.properties.get(mapping.name_field)) if mapping.name_field else ""
        code = gisio.attribute_text(feature.properties.get(mapping.code_field)) if mapping.code_field else ""
        row.name = name or code
        if not name and not code:
            row.fail("水体名称和编码都为空。")
            continue
        water, error = _find_water(name, by_code, by_name, code=code)
        if error:
            row.fail(error)
            continue
        geom = _geometry(feature, row, LINEAR + POLYGONAL, "受纳水体须为线或面")
        if water is None:
            if row.action != "error":
                row.action = "skip"
                row.messages.append("平台中没有该受纳水体，跳过（须先在基础数据维护中建立）。")
            continue
        if row.action == "error":
            continue
        group = groups.setdefault(water.pk, (water, [], []))
        group[1].append(row)
        group[2].append(geom)
    for _, rows, geoms in groups.values():
        if len({g.geom_type in POLYGONAL for g in geoms}) > 1:
            for row in rows:
                row.fail("同一受纳水体的要素有线也有面，无法合并。")

    def values(key, instance, merged):
        return {
            "geometry": _geojson(merged),
            "geometry_approximate": False,
            "geometry_source": mapping.source[:200],
        }

    _group(plan, groups, WaterBody, lambda w: w.pk, lambda key, w: f"{w.name}（{w.code}）", values)
    # Sections along a river whose new geometry is one line are re-measured along it.
    lines = {c.pk: shape(c.values["geometry"]) for c in plan.changes}
    lines = {pk: g for pk, g in lines.items() if isinstance(g, LineString)}
    sections = Section.objects.filter(water_body_id__in=lines).only("id", "lon", "lat", "water_body_id")
    for section in sections:
        chainage = round(
            shapes.project_point_to_line(lines[section.water_body_id], section.lon, section.lat), 3
        )
        plan.changes.append(Change(Section, section.pk, {"chainage_km": chainage}, [], str(section.pk)))
    moved = sum(1 for c in plan.changes if c.model is Section)
    if moved:
        plan.notes.append(f"将按新的河道几何重算 {moved} 个考核断面的沿程距离。")


# Sections -------------------------------------------------------------------------------------------------
def _counties_with_boundaries():
    counties = []
    for county in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).exclude(boundary=None):
        try:
            geom = shape(county.boundary)
        except (ValueError, TypeError, AttributeError):
            continue
        shapely.prepare(geom)
        counties.append((county, geom))
    return counties


def _single_line(geojson):
    if not geojson:
        return None
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError):
        return None
    if isinstance(geom, MultiLineString):
        geom = shapely.line_merge(geom, directed=True)
    return geom if isinstance(geom, LineString) else None


def _plan_sections(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field or not mapping.water_field:
        plan.problems.append("请选择保存断面名称和所在水体（名称或编码）的属性。")
        return
    by_code, by_name = _water_lookup()
    lines = {w.pk: _single_line(w.geometry) for w in WaterBody.objects.only("id", "geometry")}
    counties = _counties_with_boundaries()
    existing = {(s.water_body_id, s.name): s for s in Section.objects.only("id", "name", "water_body_id")}
    seen = {}
    levels = "、".join(choice.label for choice in SectionLevel)
    for feature, row in pairs:
        name = gisio.attribute_text(feature.properties.get(mapping.name_field))
        row.name = name
        if not name:
            row.fail(f"断面名称（{mapping.name_field}）为空。")
        water_text = gisio.attribute_text(feature.properties.get(mapping.water_field))
        water, error = _find_water(water_text, by_code, by_name)
        if error:
            row.fail(error)
        elif water is None:
            row.fail(
                f"未找到所在水体“{water_text}”。"
                if water_text
                else f"所在水体（{mapping.water_field}）为空。"
            )
        level = None
        if mapping.level_field:
            value = feature.properties.get(mapping.level_field)
            level = section_level(value)
            if level is None and gisio.attribute_text(value):
                row.fail(f"断面级别“{gisio.attribute_text(value)}”无法识别，应为：{levels}。")
        geom = _geometry(feature, row, ("Point", "MultiPoint"), "考核断面须为点")
        if geom is not None and geom.geom_type == "MultiPoint":
            if len(geom.geoms) != 1:
                row.fail("考核断面须为一个点，该要素有多个点。")
            else:
                geom = geom.geoms[0]
        if row.action == "error":
            continue
        key = (water.pk, name)
        if key in seen:
            row.fail(f"与{seen[key].label}重复（同一水体同名断面）。")
            continue
        seen[key] = row
        instance = existing.get(key)
        row.action = "update" if instance else "create"
        row.target = f"{water.name}·{name}"
        values = {"lon": geom.x, "lat": geom.y, "location_approximate": False}
        if instance is None:
            values.update(
                name=name,
                water_body_id=water.pk,
                level=level or SectionLevel.PROVINCIAL,
                level_approximate=level is None,
            )
            if level is None:
                row.messages.append("未给出级别，按省考新建，并标记为级别待核实。")
        elif level is not None:
            values.update(level=level, level_approximate=False)
        county = next((c for c, g in counties if shapely.contains_xy(g, geom.x, geom.y)), None)
        if county is not None:
            values["county_id"] = county.pk
        line = lines.get(water.pk)
        if line is not None:
            values["chainage_km"] = round(shapes.project_point_to_line(line, geom.x, geom.y), 3)
        plan.changes.append(Change(Section, instance.pk if instance else None, values, [row], row.target))


# Boundaries -----------------------------------------------------------------------------------------------
def _plan_boundaries(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field and not mapping.code_field:
        plan.problems.append("请选择保存区划代码或名称的属性。")
        return
    places = list(Jurisdiction.objects.only("id", "code", "name", "level"))
    by_code = {j.code: j for j in places}
    by_name = {}
    for j in places:
        by_name.setdefault(j.name, []).append(j)
    groups = {}
    for feature, row in pairs:
        name = gisio.attribute_text(feature.properties.get(mapping.name_field)) if mapping.name_field else ""
        raw_code = feature.properties.get(mapping.code_field) if mapping.code_field else None
        codes = normalise_code(raw_code)
        row.name = " ".join(p for p in (codes[0] if codes else "", name) if p)
        if not name and not codes:
            row.fail("区划代码和名称都为空。")
            continue
        place = next((by_code[c] for c in codes if c in by_code), None)
        if place is None and name:
            matches = by_name.get(name, [])
            if len(matches) > 1:
                counties = [j for j in matches if j.level in COUNTY_LEVELS]
                if len(counties) == 1:
                    matches = counties
                else:
                    row.fail(f"名称“{name}”对应 {len(matches)} 个辖区，请用区划代码匹配。")
                    continue
            place = matches[0] if matches else None
        geom = _geometry(feature, row, POLYGONAL, "行政区划边界须为面")
        if place is None:
            if row.action != "error":
                row.action = "skip"
                row.messages.append("平台中没有该辖区，跳过。")
            continue
        if row.action == "error":
            continue
        group = groups.setdefault(place.pk, (place, [], []))
        group[1].append(row)
        group[2].append(geom)

    def values(key, place, merged):
        return {
            "boundary": _geojson(merged),
            "boundary_approximate": False,
            "boundary_source": mapping.source[:200],
        }

    _group(plan, groups, Jurisdiction, lambda j: j.pk, lambda key, j: f"{j.name}（{j.code}）", values)


# Water-function zones and water works ------------------------------------------------------------------------
_CLASS_WORDS = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "一": "I", "二": "II", "三": "III",
                "四": "IV", "五": "V", "Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V"}  # fmt: skip


def water_class(value):
    """The WaterClass for an attribute value (Ⅲ, III, 3, 三类, Ⅲ类, 劣Ⅴ类, worse_v), or None."""
    text = gisio.attribute_text(value).replace(" ", "").removesuffix("类").removesuffix("水")
    if not text:
        return None
    for choice in WaterClass:
        if text in (choice.value, choice.label, choice.label.removesuffix("类")):
            return choice
    worse = text.startswith("劣")
    text = text.removeprefix("劣").upper()
    roman = _CLASS_WORDS.get(text, text)
    if roman == "V" and worse:
        return WaterClass.WORSE_V
    return WaterClass(roman) if roman in WaterClass.values and not worse else None


WORKS_KIND_WORDS = (
    ("取水", WaterWorksKind.WATER_INTAKE),
    ("堤", WaterWorksKind.DYKE),
    ("防洪", WaterWorksKind.FLOOD_WORKS),
)


def works_kind(value):
    text = gisio.attribute_text(value)
    if not text:
        return None
    for choice in WaterWorksKind:
        if text in (choice.value, choice.label):
            return choice
    return next((choice for word, choice in WORKS_KIND_WORDS if word in text), None)


def _plan_water_zones(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field or not mapping.target_field:
        plan.problems.append("请选择保存水功能区名称和水质目标的属性。")
        return
    by_code, by_name = _water_lookup()
    lines = {w.pk: _single_line(w.geometry) for w in WaterBody.objects.only("id", "geometry")}
    zones = list(WaterFunctionZone.objects.only("id", "name", "code"))
    zone_by_code = {z.code: z for z in zones if z.code}
    zone_by_name = {}
    for z in zones:
        zone_by_name.setdefault(z.name, []).append(z)
    seen = {}
    classes = "、".join(c.label for c in WaterClass)
    for feature, row in pairs:
        props = feature.properties
        name = gisio.attribute_text(props.get(mapping.name_field))
        code = gisio.attribute_text(props.get(mapping.code_field)) if mapping.code_field else ""
        row.name = " ".join(p for p in (code, name) if p)
        if not name:
            row.fail(f"名称（{mapping.name_field}）为空。")
        target = water_class(props.get(mapping.target_field))
        if target is None or target == WaterClass.WORSE_V:
            row.fail(
                f"水质目标“{gisio.attribute_text(props.get(mapping.target_field))}”无法识别，应为 Ⅰ–Ⅴ 类。"
            )
        assessed = None
        if mapping.assessed_field and gisio.attribute_text(props.get(mapping.assessed_field)):
            assessed = water_class(props.get(mapping.assessed_field))
            if assessed is None:
                row.fail(
                    f"评价水质“{gisio.attribute_text(props.get(mapping.assessed_field))}”无法识别，应为：{classes}。"
                )
        assessed_on = None
        if mapping.date_field:
            assessed_on, problem = parse_date(props.get(mapping.date_field))
            if problem:
                row.fail(f"评价日期：{problem}")
        water = None
        if mapping.water_field:
            water_text = gisio.attribute_text(props.get(mapping.water_field))
            water, error = _find_water(water_text, by_code, by_name)
            if error:
                row.fail(error)
            elif water_text and water is None:
                row.fail(f"未找到所在水体“{water_text}”。")
        geom = _geometry(feature, row, POLYGONAL + LINEAR, "水功能区须为面（湖库、区域）或线（河段）")
        if row.action == "error":
            continue
        values = {"name": name, "code": code, "target_class": target, "water_body_id": water.pk if water else None,
                  "source": mapping.source[:200], "approximate": False}  # fmt: skip
        if assessed is not None:
            values.update(assessed_class=assessed, assessed_on=assessed_on)
        if geom.geom_type in LINEAR:
            line = lines.get(water.pk) if water else None
            if line is None:
                row.fail("河段须给出所在水体，且该水体已有河道线（先导入受纳水体几何）。")
                continue
            river = RiverLine(line)
            ends = [geom.coords[0], geom.coords[-1]] if geom.geom_type == "LineString" else [
                geom.geoms[0].coords[0], geom.geoms[-1].coords[-1]]  # fmt: skip
            start, end = sorted(round(river.chainage(x, y), 3) for x, y in ends)
            values.update(start_km=start, end_km=end, geometry=None)
        else:
            values.update(geometry=_geojson(geom), start_km=None, end_km=None)
        key = code or name
        if key in seen:
            row.fail(f"与{seen[key].label}重复（同一编码或名称）。")
            continue
        seen[key] = row
        instance = zone_by_code.get(code) if code else None
        if instance is None and len(zone_by_name.get(name, [])) == 1:
            instance = zone_by_name[name][0]
        row.action = "update" if instance else "create"
        row.target = name
        plan.changes.append(Change(WaterFunctionZone, instance.pk if instance else None, values, [row], name))


def _plan_water_works(plan, pairs):
    mapping = plan.mapping
    if not mapping.name_field:
        plan.problems.append("请选择保存名称的属性。")
        return
    by_code, by_name = _water_lookup()
    existing = {(w.name, w.kind): w for w in WaterWorks.objects.only("id", "name", "kind")}
    labels = "、".join(c.label for c in WaterWorksKind)
    seen = {}
    for feature, row in pairs:
        props = feature.properties
        name = gisio.attribute_text(props.get(mapping.name_field))
        row.name = name
        if not name:
            row.fail(f"名称（{mapping.name_field}）为空。")
        value = props.get(mapping.kind_field) if mapping.kind_field else None
        kind = (
            works_kind(value)
            if gisio.attribute_text(value)
            else works_kind(name) or WaterWorksKind.FLOOD_WORKS
        )
        if kind is None:
            row.fail(f"类型“{gisio.attribute_text(value)}”无法识别，应为：{labels}。")
        water = None
        if mapping.water_field:
            water, error = _find_water(props.get(mapping.water_field), by_code, by_name)
            if error:
                row.fail(error)
        geom = _geometry(feature, row, ("Point", "MultiPoint", *LINEAR, *POLYGONAL), "涉水工程须为点、线或面")
        if row.action == "error":
            continue
        key = (name, kind.value)
        if key in seen:
            row.fail(f"与{seen[key].label}重复（同名同类）。")
            continue
        seen[key] = row
        instance = existing.get(key)
        row.action = "update" if instance else "create"
        row.target = f"{name}（{kind.label}）"
        values = {"name": name, "kind": kind.value, "geometry": _geojson(geom), "approximate": False,
                  "source": mapping.source[:200], "water_body_id": water.pk if water else None}  # fmt: skip
        plan.changes.append(Change(WaterWorks, instance.pk if instance else None, values, [row], row.target))


# ---------------------------------------------------------------------------------------------------------
# Commit
# ---------------------------------------------------------------------------------------------------------


def can_import(user):
    return scope_of(user).can_import_gis


def check_can_import(user):
    """PermissionDenied unless the user may import GIS reference data (city administrators, the bureau)."""
    if not can_import(user):
        raise PermissionDenied("只有市级管理员和市生态环境局可以导入 GIS 基础数据。")


def commit_import(plan, user=None):
    """Apply a plan without errors in one transaction; return {"新建": n, "更新": m, "跳过": k}.

    user None is the system (the management command); a user must be a city administrator or bureau.
    """
    if user is not None:
        check_can_import(user)
    if plan.problems or plan.errors:
        raise GisImportError("有错误的文件不能导入，请修正后重新上传。")
    if not plan.changes:
        raise GisImportError("没有可导入的要素。")
    with transaction.atomic():
        for change in plan.changes:
            obj = change.model.objects.select_for_update().get(pk=change.pk) if change.pk else change.model()
            for name, value in change.values.items():
                setattr(obj, name, value)
            try:
                obj.full_clean()
            except ValidationError as error:
                where = "、".join(r.label for r in change.rows) or change.target
                raise GisImportError(
                    f"{where}（{change.target}）：{'；'.join(_messages(error, change.model))}"
                )
            if user is not None:
                obj._history_user = user
            obj.save()
    counts = plan.counts
    return {label: counts[label] for label in ("新建", "更新", "跳过")}


def _messages(error, model):
    """A model's ValidationError as Chinese lines, each naming its field by the field's verbose name."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    lines = []
    for name, messages in error.message_dict.items():
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            label = None  # NON_FIELD_ERRORS or a check across fields
        text = "，".join(messages)
        lines.append(f"{label}：{text}" if label else text)
    return lines
