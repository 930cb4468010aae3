"""Outfalls as GIS features: which outfalls a client gets and which attributes, for the GIS export and
the OGC API (one definition for both).

- Signed-in users (session or token) get ``Outfall.objects.visible_to(user)`` with every field below.
- Anonymous clients get only the disclosed (已向社会公开) outfalls (``registry.disclosure.public_outfalls``),
  with the attributes whose every source field is on the one public-field list
  (``registry.disclosure.PUBLIC_FIELD_NAMES``; ``SOURCES`` below names what each attribute reads).

Each field has a short ASCII key (at most 10 bytes: the Shapefile field name and the OGC API property
name) and a Chinese label (the field name in GeoJSON, GeoPackage and KML files).
"""

from outfalls.core.scopes import scope_of
from outfalls.geo import gisio
from outfalls.registry.disclosure import PUBLIC_FIELD_NAMES, public_outfalls
from outfalls.registry.models import Outfall


def _label(obj, name):
    value = getattr(obj, name)
    return getattr(obj, f"get_{name}_display")() if value else None


def _name(related):
    return related.name if related is not None else None


def _yes_no(value):
    return "是" if value else "否"


# (key, label, getter). Keys are unique, ASCII and at most 10 bytes.
OUTFALL_FIELDS = (
    ("code", "排污口编码", lambda o: o.code),
    ("nat_code", "国家统一编码", lambda o: o.national_code),
    ("name", "入河排污口名称", lambda o: o.name),
    ("type_code", "排污口类型代码", lambda o: o.type_code),
    ("type", "排污口类型", lambda o: o.type_label),
    ("county", "县区", lambda o: _name(o.county)),
    ("town", "乡镇（街道）", lambda o: _name(o.town)),
    ("village", "村（社区）", lambda o: _name(o.village)),
    ("water_body", "受纳水体", lambda o: _name(o.water_body)),
    ("sect_intvl", "断面区间", lambda o: o.section_interval or None),
    ("entry_mode", "入河方式", lambda o: _label(o, "entry_mode")),
    ("outlet", "口门形态及位置", lambda o: o.outlet_text or None),
    ("conveyance", "引流方式", lambda o: _label(o, "conveyance")),
    ("entity", "排污责任主体", lambda o: _name(o.responsible_entity) or o.responsibility_note or None),
    ("resp_basis", "责任主体确定方式", lambda o: _label(o, "responsibility_basis")),
    ("status", "生命周期状态", lambda o: _label(o, "status")),
    ("rect_meas", "整治类型", lambda o: _label(o, "rectification_measure")),
    ("rect_stat", "整治进展", lambda o: _label(o, "rectification_status")),
    ("registered", "已完成登记建档", lambda o: _yes_no(o.registered)),
    # A date (a Date field in GeoPackage and Shapefile, YYYY-MM-DD in GeoJSON, KML and the OGC API).
    ("appr_date", "设置审批或排污许可批准时间", lambda o: o.approval_date),
    ("appr_no", "审批或登记文号", lambda o: o.approval_number or None),
    ("permit_no", "排污许可证编号", lambda o: o.permit_number or None),
    ("sign", "已设置标识牌", lambda o: _yes_no(o.sign_installed)),
    ("disclosed", "已向社会公开", lambda o: _yes_no(o.disclosed)),
    ("lon", "经度", lambda o: o.lon),
    ("lat", "纬度", lambda o: o.lat),
)
# The model fields each attribute reads: an attribute is public when all of them are on the public list.
SOURCES = {
    "code": ("code",),
    "nat_code": ("national_code",),
    "name": ("name",),
    "type_code": ("type_code",),
    "type": ("type_code", "type_level2", "type_level3"),
    "county": ("county",),
    "town": ("town",),
    "village": ("village",),
    "water_body": ("water_body",),
    "sect_intvl": ("section_interval",),
    "entry_mode": ("entry_mode",),
    "outlet": ("outlet_position", "outlet_description"),
    "conveyance": ("conveyance",),
    "entity": ("responsible_entity", "responsibility_note"),
    "resp_basis": ("responsibility_basis",),
    "status": ("status",),
    "rect_meas": ("rectification_measure",),
    "rect_stat": ("rectification_status",),
    "registered": ("registered",),
    "appr_date": ("approval_date",),
    "appr_no": ("approval_number",),
    "permit_no": ("permit_number",),
    "sign": ("sign_installed",),
    "disclosed": ("disclosed",),
    "lon": ("lon",),
    "lat": ("lat",),
}
assert set(SOURCES) == {key for key, _, _ in OUTFALL_FIELDS}
PUBLIC_KEYS = tuple(key for key, _, _ in OUTFALL_FIELDS if set(SOURCES[key]) <= PUBLIC_FIELD_NAMES)
PUBLIC_FIELDS = tuple(f for f in OUTFALL_FIELDS if f[0] in PUBLIC_KEYS)
LABELS = {key: label for key, label, _ in OUTFALL_FIELDS}


def is_public(user):
    """True for clients that get the public view (not signed in)."""
    return not scope_of(user).authenticated


def outfalls_for(user):
    """(queryset, fields) for a client: its scope with every field, or the public outfalls and fields."""
    if is_public(user):
        queryset = (
            public_outfalls()
            .select_related("county", "town", "water_body")
            .defer("county__boundary", "town__boundary", "water_body__geometry")
        )
        return queryset, PUBLIC_FIELDS
    return Outfall.objects.for_list().visible_to(user), OUTFALL_FIELDS


def properties(outfall, fields, *, labels=False):
    """The outfall's attributes, keyed by the short key (labels=False) or the Chinese label."""
    return {(label if labels else key): getter(outfall) for key, label, getter in fields}


def point(outfall):
    return {"type": "Point", "coordinates": [outfall.lon, outfall.lat]}


def write_outfalls(queryset, fields, target, fmt):
    """Write the outfalls as a GIS file (fmt: a key of gisio.FORMATS) with the fields' Chinese labels as
    attribute names and the short keys as Shapefile names. Returns how many were written."""
    features = [(point(o), properties(o, fields, labels=True)) for o in queryset.iterator(chunk_size=2000)]
    gisio.write(
        features,
        target,
        fmt,
        fields=[label for _, label, _ in fields],
        layer="outfalls",
        name_field=LABELS["name"],
        shapefile_names={label: key for key, label, _ in fields},
    )
    return len(features)
