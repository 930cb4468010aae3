"""What the map pages hand to their scripts: base layers, API addresses, the legend's colours and styles.

Base layers come from ``outfalls.core.basemap`` (shared with the survey's maps).
"""

from django.conf import settings
from django.urls import reverse

from outfalls.core.basemap import base_layers
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import TypeCode

from .layers import extent

# Outfall colour by type code (HJ 1312 level 1); the legend and the markers use the same values.
TYPE_COLOURS = {
    TypeCode.GY: "#d62728",
    TypeCode.SH: "#9467bd",
    TypeCode.NY: "#2ca02c",
    TypeCode.YH: "#1f77b4",
    TypeCode.QT: "#ff7f0e",
    TypeCode.UNDETERMINED: "#7f7f7f",
}
TYPE_SHORT = {
    TypeCode.GY: "工业",
    TypeCode.SH: "污水处理厂",
    TypeCode.NY: "农业",
    TypeCode.YH: "雨洪",
    TypeCode.QT: "其他",
    TypeCode.UNDETERMINED: "待定",
}

# Outfall marker by lifecycle status: Leaflet path options on top of the type colour.
_OPEN = {"radius": 7, "weight": 2, "fillOpacity": 0.9, "stroke": "#ffffff"}
STATUS_STYLES = {
    LifecycleStatus.SUSPECTED: {
        "radius": 7,
        "weight": 2,
        "fillOpacity": 0.15,
        "stroke": "type",
        "dashArray": "3 2",
    },
    LifecycleStatus.VERIFIED: _OPEN,
    LifecycleStatus.TRACED: _OPEN,
    LifecycleStatus.CLASSIFIED: _OPEN,
    LifecycleStatus.RECTIFYING: {
        "radius": 7,
        "weight": 3,
        "fillOpacity": 0.9,
        "stroke": "#000000",
        "dashArray": "2 2",
    },
    LifecycleStatus.KEPT: {"radius": 7, "weight": 2.5, "fillOpacity": 0.9, "stroke": "#000000"},
    LifecycleStatus.MERGED: {"radius": 5, "weight": 1.5, "fillOpacity": 0.35, "stroke": "#555555"},
    LifecycleStatus.REMOVED: {"radius": 5, "weight": 1.5, "fillOpacity": 0.35, "stroke": "#555555"},
    LifecycleStatus.CLOSED: {"radius": 5, "weight": 1.5, "fillOpacity": 0.35, "stroke": "#555555"},
}
# Status groups as the legend shows them (statuses with the same marker share a line).
STATUS_LEGEND = [
    ([LifecycleStatus.SUSPECTED], "疑似（空心虚线）"),
    (
        [LifecycleStatus.VERIFIED, LifecycleStatus.TRACED, LifecycleStatus.CLASSIFIED],
        "已核实 / 已溯源 / 已分类",
    ),
    ([LifecycleStatus.RECTIFYING], "整治中（黑色虚线边）"),
    ([LifecycleStatus.KEPT], "保留（黑边）"),
    (
        [LifecycleStatus.MERGED, LifecycleStatus.REMOVED, LifecycleStatus.CLOSED],
        "合并 / 取缔 / 已销号（淡色小点）",
    ),
]


def legend():
    """Legend entries for the template: type colours and status marker styles."""
    types = [
        {
            "code": code.value,
            "badge": "?" if code == TypeCode.UNDETERMINED else code.value,
            "label": code.label,
            "colour": TYPE_COLOURS[code],
        }
        for code in TypeCode
    ]
    statuses = []
    for members, label in STATUS_LEGEND:
        style = STATUS_STYLES[members[0]]
        statuses.append(
            {
                "label": label,
                "radius": style["radius"],
                "weight": style["weight"],
                "fill_opacity": style["fillOpacity"],
                "stroke": "#7f7f7f" if style["stroke"] == "type" else style["stroke"],
                "dash": style.get("dashArray", ""),
            }
        )
    return {"types": types, "statuses": statuses}


def _url_pattern(name):
    # A detail URL with a placeholder id the script replaces.
    return reverse(name, args=[987654321]).replace("987654321", "{id}")


def api_urls():
    return {
        "outfalls": reverse("maps:api_outfalls"),
        "rivers": reverse("maps:api_rivers"),
        "sections": reverse("maps:api_sections"),
        "protected_areas": reverse("maps:api_protected_areas"),
        "sewer_coverage": reverse("maps:api_sewer_coverage"),
        "boundaries": reverse("maps:api_boundaries"),
        "units": reverse("maps:api_units"),
        "chains": reverse("maps:api_chains"),
        "coords": reverse("maps:api_coords"),
    }


def script_config(user):
    """The JSON the map scripts read (json_script): everything they need, nothing fetched from outside."""
    box = extent(user)
    return {
        "api": api_urls(),
        "outfallUrl": _url_pattern("registry:outfall_detail"),
        "unitUrl": _url_pattern("registry:unit_detail"),
        "ledgerUrl": reverse("registry:outfall_list"),
        "baseLayers": base_layers(),
        "bounds": [[box[1], box[0]], [box[3], box[2]]] if box else None,
        "types": {
            code.value: {"label": code.label, "short": TYPE_SHORT[code], "colour": TYPE_COLOURS[code]}
            for code in TypeCode
        },
        "statuses": {
            status.value: {"label": status.label, **STATUS_STYLES[status]} for status in LifecycleStatus
        },
        "pointsMinZoom": settings.MAP_POINTS_MIN_ZOOM,
        "chainMinZoom": settings.MAP_CHAIN_MIN_ZOOM,
    }
