"""The collections of the OGC API (maps/ogc.py): which rows a client gets, their geometry and attributes,
and the query parameters (filters) each collection takes. See docs/ogcapi.md.

Filters are named after the properties a client sees, and take the value it sees as well as the code
behind it: ``county=平城区`` and ``county=140213``, ``status=保留`` and ``status=kept``,
``water_body=御河`` and ``water_body=<id>``. GDAL's OAPIF driver turns a ``-where`` equality on such a
property into that query parameter, so ``-where "county='平城区'"`` is filtered by the server. A value that
is neither a code nor a label the client could see is a 400 (LabelChoiceField), never "no filter".
"""

from dataclasses import dataclass

import django_filters
import shapely
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Q
from shapely.geometry import box, shape

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.filters import YesNoFilter
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo.shapes import rfc7946
from outfalls.registry.choices import (
    LifecycleStatus,
    LinkRole,
    ProtectedAreaKind,
    RectificationMeasure,
    RectificationStatus,
    SectionLevel,
    UnitKind,
    WaterBodyKind,
)
from outfalls.registry.classification import Level2, TypeCode
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.models import (
    DischargeUnit,
    Outfall,
    OutfallUnitLink,
    ProtectedArea,
    Section,
    WaterBody,
)

from . import gis_features


# Filters on shown values -------------------------------------------------------------------------------------
class LabelChoiceField(forms.ChoiceField):
    """One choice, given by its value (a code, an id) or by its label (the name or label a client sees).

    Cleans to the list of values it stands for: a label that several choices share (two towns called
    城关镇 in two counties) stands for all of them; empty is no filter. Anything else is a form error.
    """

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return []
        values, by_label = set(), {}
        for key, label in self.choices:
            if key in ("", None):
                continue
            values.add(str(key))
            by_label.setdefault(str(label), []).append(str(key))
        if text in values:
            return [text]
        if text in by_label:
            return by_label[text]
        raise ValidationError(f"没有“{text[:30]}”这一项（可填代码或显示的名称）。", code="invalid_choice")

    def validate(self, value):
        pass


class LabelChoiceFilter(django_filters.Filter):
    field_class = LabelChoiceField

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs


def _water_choices():
    return [
        (str(pk), name) for pk, name in WaterBody.objects.order_by("name", "pk").values_list("pk", "name")
    ]


def _county_choices():
    rows = Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).order_by("code").values_list("code", "name")
    return list(rows)


class OgcOutfallFilter(OutfallFilter):
    """The ledger's filters (OutfallFilter), each on a property also by the value the property shows, and
    the properties rect_stat and rect_meas under their own names. Counties and towns are those of the
    user's scope (ScopedFilterSet), every town whatever the county (a town outside it finds no rows)."""

    county = LabelChoiceFilter(field_name="county__code", choices=[], label="县区")
    town = LabelChoiceFilter(field_name="town__code", choices=[], label="乡镇（街道）")
    water_body = LabelChoiceFilter(field_name="water_body_id", choices=_water_choices, label="受纳水体")
    type_code = LabelChoiceFilter(field_name="type_code", choices=TypeCode.choices, label="排污口类型代码")
    status = LabelChoiceFilter(field_name="status", choices=LifecycleStatus.choices, label="生命周期状态")
    rectification_status = LabelChoiceFilter(
        field_name="rectification_status", choices=RectificationStatus.choices, label="整治进展"
    )
    rect_stat = LabelChoiceFilter(
        field_name="rectification_status", choices=RectificationStatus.choices, label="整治进展"
    )
    rect_meas = LabelChoiceFilter(
        field_name="rectification_measure", choices=RectificationMeasure.choices, label="整治类型"
    )


class PublicOutfallFilter(django_filters.FilterSet):
    """The filters anonymous clients may use: only on public attributes (no search on unit names)."""

    county = LabelChoiceFilter(field_name="county__code", choices=_county_choices, label="县区")
    water_body = LabelChoiceFilter(field_name="water_body_id", choices=_water_choices, label="受纳水体")
    type_code = LabelChoiceFilter(field_name="type_code", choices=TypeCode.choices, label="排污口类型代码")
    type_level2 = django_filters.ChoiceFilter(choices=Level2.choices)


class WaterBodyOgcFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", label="名称")
    code = django_filters.CharFilter(field_name="code", label="水体编码")
    kind = LabelChoiceFilter(field_name="kind", choices=WaterBodyKind.choices, label="类型")
    basin = django_filters.CharFilter(field_name="basin", label="流域")


class SectionOgcFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", label="断面名称")
    level = LabelChoiceFilter(field_name="level", choices=SectionLevel.choices, label="级别")
    water_body = LabelChoiceFilter(field_name="water_body_id", choices=_water_choices, label="所在水体")
    county = LabelChoiceFilter(field_name="county__code", choices=_county_choices, label="所在县区")


class ProtectedAreaOgcFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", label="名称")
    kind = LabelChoiceFilter(field_name="kind", choices=ProtectedAreaKind.choices, label="类型代码")
    kind_label = LabelChoiceFilter(field_name="kind", choices=ProtectedAreaKind.choices, label="类型")


class UnitOgcFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", label="单位名称")
    credit_code = django_filters.CharFilter(field_name="credit_code", label="统一社会信用代码")
    kind = LabelChoiceFilter(field_name="kind", choices=UnitKind.choices, label="单位类型")
    county = LabelChoiceFilter(field_name="county__code", choices=_county_choices, label="县区")
    has_permit = YesNoFilter(method="filter_has_permit", label="有排污许可证")

    def filter_has_permit(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(permit_number="") if value else queryset.filter(permit_number="")


class ChainOgcFilter(django_filters.FilterSet):
    outfall_cd = django_filters.CharFilter(field_name="outfall__code", label="排污口编码")
    role = LabelChoiceFilter(field_name="role", choices=LinkRole.choices, label="关系")
    credit_cd = django_filters.CharFilter(field_name="unit__credit_code", label="统一社会信用代码")


# Collections -------------------------------------------------------------------------------------------------
def _label(obj, name):
    return getattr(obj, f"get_{name}_display")() if getattr(obj, name) else None


def _shape_or_none(geojson):
    try:
        return shape(geojson)
    except (ValueError, TypeError, AttributeError):
        return shapely.geometry.GeometryCollection()


def _bbox_geometry(bbox):
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return box(minx, miny, maxx, maxy)
    return shapely.union(box(minx, miny, 180, maxy), box(-180, miny, maxx, maxy))


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    points: bool  # lon/lat columns (bbox filtered in the database) or a GeoJSON column
    #: whether the collection has a style to download (maps/ogc_styles.py)
    styled: bool = False

    def objects(self, user):
        """(queryset, the attributes' definition: (key, label, getter) triples) for this client."""
        raise NotImplementedError

    def filterset_class(self, user):
        return None

    def geometry(self, obj):
        raise NotImplementedError

    def properties(self, obj, fields):
        return {key: getter(obj) for key, _, getter in fields}

    def feature(self, obj, fields):
        return {
            "type": "Feature",
            "id": obj.pk,
            "geometry": rfc7946(self.geometry(obj)),
            "properties": self.properties(obj, fields),
        }

    def extent(self, queryset):
        if self.points:
            found = queryset.aggregate(Min("lon"), Max("lon"), Min("lat"), Max("lat"))
            values = [found["lon__min"], found["lat__min"], found["lon__max"], found["lat__max"]]
            return None if None in values else values
        bounds = [shape(g).bounds for g in self.geometries(queryset).values() if g]
        if not bounds:
            return None
        return [
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        ]

    def geometries(self, queryset):
        """{pk: GeoJSON geometry dict or None} for the rows (collections that are not points)."""
        raise NotImplementedError

    def in_bbox(self, queryset, bbox):
        """The queryset (points) or the ordered list of ids (geometries) that intersect the bbox."""
        minx, miny, maxx, maxy = bbox
        if self.points:
            lon = Q(lon__gte=minx, lon__lte=maxx) if minx <= maxx else Q(lon__gte=minx) | Q(lon__lte=maxx)
            return queryset.filter(lon, lat__gte=miny, lat__lte=maxy)
        area = _bbox_geometry(bbox)
        shapely.prepare(area)
        geometries = self.geometries(self.candidates(queryset, bbox))
        return [pk for pk, g in geometries.items() if g and area.intersects(_shape_or_none(g))]

    def candidates(self, queryset, bbox):
        return queryset

    def queryables(self, user, queryset, fields):
        """{parameter: JSON Schema} for the query parameters that filter on a property (OGC API - Features
        Part 3 queryables): named as the property, titled with its Chinese label, and the values it shows
        as an enum where they are a fixed list (codes are accepted as well)."""
        filterset_class = self.filterset_class(user)
        if filterset_class is None:
            return {}
        labels = {key: label for key, label, _ in fields}
        filterset = filterset_class(queryset=queryset, request=_Request(user))
        form = filterset.form
        result = {}
        for name in filterset_class.base_filters:
            if name not in labels or name not in form.fields:
                continue
            field = form.fields[name]
            schema = {"title": labels[name], "type": "string"}
            if isinstance(field, forms.ChoiceField):
                shown = [str(label) for key, label in field.choices if key not in ("", None)]
                schema["enum"] = list(dict.fromkeys(shown))
            elif isinstance(field, forms.NullBooleanField):
                schema["enum"] = ["是", "否"]
            result[name] = schema
        return result


class _Request:
    """The bits of a request a ScopedFilterSet reads (the user), for building its form outside a view."""

    def __init__(self, user):
        self.user = user


class OutfallCollection(Collection):
    def objects(self, user):
        return gis_features.outfalls_for(user)

    def filterset_class(self, user):
        return PublicOutfallFilter if gis_features.is_public(user) else OgcOutfallFilter

    def geometry(self, obj):
        return gis_features.point(obj)

    def properties(self, obj, fields):
        return gis_features.properties(obj, fields)


def _water_fields():
    return (
        ("name", "名称", lambda w: w.name),
        ("code", "水体编码", lambda w: w.code),
        ("kind", "类型", lambda w: _label(w, "kind")),
        ("basin", "流域", lambda w: w.basin or None),
        ("parent", "汇入河流", lambda w: w.parent.name if w.parent_id else None),
        ("target", "水质目标", lambda w: _label(w, "target_class")),
        ("approx", "几何为示意", lambda w: w.geometry_approximate),
    )


class WaterBodyCollection(Collection):
    def objects(self, user):
        queryset = WaterBody.objects.select_related("parent").defer("parent__geometry").order_by("name", "pk")
        return queryset, _water_fields()

    def filterset_class(self, user):
        return WaterBodyOgcFilter

    def geometry(self, obj):
        return obj.geometry or None

    def geometries(self, queryset):
        return dict(queryset.values_list("pk", "geometry"))


def _section_fields():
    return (
        ("name", "断面名称", lambda s: s.name),
        ("level", "级别", lambda s: _label(s, "level")),
        ("water_body", "所在水体", lambda s: s.water_body.name),
        ("water_code", "水体编码", lambda s: s.water_body.code),
        ("county", "所在县区", lambda s: s.county.name if s.county_id else None),
        ("target", "水质目标", lambda s: _label(s, "target_class")),
        ("chainage", "沿程距离（公里）", lambda s: s.chainage_km),
        ("approx", "位置为示意", lambda s: s.location_approximate),
    )


class SectionCollection(Collection):
    def objects(self, user):
        queryset = Section.objects.select_related("water_body", "county").defer(
            "water_body__geometry", "county__boundary"
        )
        return queryset.order_by("water_body__name", "chainage_km", "pk"), _section_fields()

    def filterset_class(self, user):
        return SectionOgcFilter

    def geometry(self, obj):
        return {"type": "Point", "coordinates": [obj.lon, obj.lat]}


def _protected_fields():
    return (
        ("name", "名称", lambda a: a.name),
        ("kind", "类型代码", lambda a: a.kind),
        ("kind_label", "类型", lambda a: a.get_kind_display()),
        ("source", "来源", lambda a: a.source or None),
        ("approx", "范围为示意", lambda a: a.approximate),
    )


class ProtectedAreaCollection(Collection):
    def objects(self, user):
        return ProtectedArea.objects.order_by("kind", "name", "pk"), _protected_fields()

    def filterset_class(self, user):
        return ProtectedAreaOgcFilter

    def geometry(self, obj):
        return obj.geometry

    def geometries(self, queryset):
        return dict(queryset.values_list("pk", "geometry"))

    def extent(self, queryset):
        found = queryset.aggregate(Min("min_lon"), Min("min_lat"), Max("max_lon"), Max("max_lat"))
        values = [found["min_lon__min"], found["min_lat__min"], found["max_lon__max"], found["max_lat__max"]]
        return None if None in values else values

    def candidates(self, queryset, bbox):
        minx, miny, maxx, maxy = bbox
        lat = Q(max_lat__gte=miny, min_lat__lte=maxy)
        lon = (
            Q(max_lon__gte=minx, min_lon__lte=maxx)
            if minx <= maxx
            else Q(max_lon__gte=minx) | Q(min_lon__lte=maxx)
        )
        return queryset.filter(lat, lon)


def _unit_fields():
    return (
        ("name", "单位名称", lambda u: u.name),
        ("credit_code", "统一社会信用代码", lambda u: u.credit_code or None),
        ("kind", "单位类型", lambda u: _label(u, "kind")),
        ("industry", "行业", lambda u: u.industry or None),
        ("park", "所在园区", lambda u: u.park or None),
        ("county", "县区", lambda u: u.county.name if u.county_id else None),
        ("address", "地址", lambda u: u.address or None),
        ("permit_no", "排污许可证编号", lambda u: u.permit_number or None),
        ("lon", "经度", lambda u: u.lon),
        ("lat", "纬度", lambda u: u.lat),
    )


def _signed_in(user):
    return scope_of(user).authenticated


class UnitCollection(Collection):
    """Discharge units in the user's scope (DischargeUnit.visible_to); none for anonymous clients."""

    def objects(self, user):
        queryset = (
            DischargeUnit.objects.visible_to(user) if _signed_in(user) else DischargeUnit.objects.none()
        )
        queryset = queryset.select_related("county").defer("county__boundary").order_by("name", "pk")
        return queryset, _unit_fields()

    def filterset_class(self, user):
        return UnitOgcFilter

    def geometry(self, obj):
        if obj.lon is None or obj.lat is None:
            return None
        return {"type": "Point", "coordinates": [obj.lon, obj.lat]}


def _chain_fields():
    return (
        ("outfall_cd", "排污口编码", lambda link: link.outfall.code),
        ("outfall", "入河排污口名称", lambda link: link.outfall.name),
        ("unit", "排污单位", lambda link: link.unit.name),
        ("credit_cd", "统一社会信用代码", lambda link: link.unit.credit_code or None),
        ("role", "关系", lambda link: link.get_role_display()),
        ("share", "共用说明", lambda link: link.share_note or None),
        ("share_pct", "分担比例（%）", lambda link: link.share_percent),
    )


class ChainCollection(Collection):
    """Lines from each discharge unit to the outfall it is linked to (OutfallUnitLink), for outfalls and
    units that are both in the user's scope and both located; none for anonymous clients."""

    def objects(self, user):
        if _signed_in(user):
            queryset = OutfallUnitLink.objects.filter(
                outfall__in=Outfall.objects.visible_to(user),
                unit__in=DischargeUnit.objects.visible_to(user),
                unit__lon__isnull=False,
                unit__lat__isnull=False,
            )
        else:
            queryset = OutfallUnitLink.objects.none()
        queryset = queryset.select_related("outfall", "unit").only(
            "id",
            "role",
            "share_note",
            "share_percent",
            "outfall__code",
            "outfall__name",
            "outfall__lon",
            "outfall__lat",
            "unit__name",
            "unit__credit_code",
            "unit__lon",
            "unit__lat",
        )
        return queryset.order_by("outfall__code", "role", "unit__name", "pk"), _chain_fields()

    def filterset_class(self, user):
        return ChainOgcFilter

    def geometry(self, obj):
        return _chain_line(obj.unit.lon, obj.unit.lat, obj.outfall.lon, obj.outfall.lat)

    def geometries(self, queryset):
        rows = queryset.values_list("pk", "unit__lon", "unit__lat", "outfall__lon", "outfall__lat")
        return {pk: _chain_line(*coords) for pk, *coords in rows}


def _chain_line(unit_lon, unit_lat, outfall_lon, outfall_lat):
    return {"type": "LineString", "coordinates": [[unit_lon, unit_lat], [outfall_lon, outfall_lat]]}


COLLECTIONS = {
    c.id: c
    for c in (
        OutfallCollection(
            "outfalls",
            "入河排污口",
            "入河排污口（点）。未登录只含已公开的保留排口及其公开信息；凭令牌或账号访问为本人管辖范围内的全部排口。",
            points=True,
            styled=True,
        ),
        WaterBodyCollection("water-bodies", "受纳水体", "受纳水体（河流、湖库）的走向或范围。", points=False),
        SectionCollection("sections", "考核断面", "国考、省考、市考断面位置（点）。", points=True),
        ProtectedAreaCollection(
            "protected-areas",
            "特殊保护区域",
            "饮用水水源保护区、泉域重点保护区、自然保护区、生态保护红线等范围（面）。",
            points=False,
        ),
        UnitCollection(
            "discharge-units",
            "排污单位",
            "排污单位位置（点），为本人管辖范围内的单位；未登录时为空。",
            points=True,
        ),
        ChainCollection(
            "unit-chains",
            "排污链条",
            "排污单位 → 入河排污口的连线（线），单位与排口均在本人管辖范围内；未登录时为空。",
            points=False,
        ),
    )
}
