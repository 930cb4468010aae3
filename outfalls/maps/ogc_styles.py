"""Style files for the outfalls layer, so that QGIS (.qml) and any SLD reader (QGIS, ArcGIS Pro, GeoServer:
.sld, OGC Styled Layer Descriptor 1.0) draw the OGC API's or a GIS export's outfalls as the one-map page
does: the fill colour by type code (``type_code``), the rim, size and paleness by lifecycle status
(``status``, the Chinese label the features carry). One definition: maps/config.py (TYPE_COLOURS,
STATUS_STYLES), which the map page and its legend use too.

Both files key on the attribute names of the OGC API and the Shapefile export (``type_code``, ``status``).
Features without a status (the anonymous, public view) are drawn by type alone.
"""

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import TypeCode

from .config import STATUS_STYLES, TYPE_COLOURS

#: Leaflet draws in CSS pixels; QGIS sizes these styles in millimetres (1 px = 0.2646 mm at 96 dpi).
MM_PER_PX = 0.2646
PUBLIC_STYLE = {"radius": 7, "weight": 1.5, "fillOpacity": 0.9, "stroke": "#ffffff"}


def _rgb(colour):
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _symbol(type_code, style):
    """(fill colour, fill opacity, stroke colour, stroke width px, diameter px, dashed)."""
    fill = TYPE_COLOURS[type_code]
    stroke = fill if style["stroke"] == "type" else style["stroke"]
    return fill, style["fillOpacity"], stroke, style["weight"], 2 * style["radius"], "dashArray" in style


def rules():
    """[(title, type code, status or None, symbol)]: one rule per type and status, then one per type for
    features without a status."""
    found = []
    for code in TypeCode:
        for status in LifecycleStatus:
            found.append(
                (f"{code.label} · {status.label}", code, status, _symbol(code, STATUS_STYLES[status]))
            )
        found.append((f"{code.label}（无状态，公开视图）", code, None, _symbol(code, PUBLIC_STYLE)))
    return found


# SLD 1.0 -----------------------------------------------------------------------------------------------------
def _sld_equal(name, value):
    return (
        f"<ogc:PropertyIsEqualTo><ogc:PropertyName>{name}</ogc:PropertyName>"
        f"<ogc:Literal>{escape(str(value))}</ogc:Literal></ogc:PropertyIsEqualTo>"
    )


def _sld_rule(title, code, status, symbol):
    fill, opacity, stroke, width, size, dashed = symbol
    second = (
        _sld_equal("status", status.label)
        if status is not None
        else "<ogc:PropertyIsNull><ogc:PropertyName>status</ogc:PropertyName></ogc:PropertyIsNull>"
    )
    dash = '<CssParameter name="stroke-dasharray">3 2</CssParameter>' if dashed else ""
    return f"""      <Rule>
        <Name>{escape(code.value)}{"-" + status.value if status is not None else ""}</Name>
        <Title>{escape(title)}</Title>
        <ogc:Filter><ogc:And>{_sld_equal("type_code", code.value)}{second}</ogc:And></ogc:Filter>
        <PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName>
          <Fill><CssParameter name="fill">{fill}</CssParameter><CssParameter name="fill-opacity">{opacity}</CssParameter></Fill>
          <Stroke><CssParameter name="stroke">{stroke}</CssParameter><CssParameter name="stroke-width">{width}</CssParameter>{dash}</Stroke>
        </Mark><Size>{size}</Size></Graphic></PointSymbolizer>
      </Rule>
"""


def sld():
    body = "".join(_sld_rule(*rule) for rule in rules())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc"
  xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>outfalls</Name>
    <UserStyle>
      <Name>outfalls-by-type-and-status</Name>
      <Title>入河排污口（按类型和状态）</Title>
      <Abstract>填充色为排污口类型（type_code），边线、大小和深浅为生命周期状态（status）；与平台“一张图”一致。</Abstract>
      <FeatureTypeStyle>
{body}      </FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
"""


# QGIS QML ----------------------------------------------------------------------------------------------------
def _qml_symbol(index, symbol):
    fill, opacity, stroke, width, size, dashed = symbol
    r, g, b = _rgb(fill)
    sr, sg, sb = _rgb(stroke)
    values = {
        "name": "circle",
        "color": f"{r},{g},{b},{round(opacity * 255)}",
        "outline_color": f"{sr},{sg},{sb},255",
        "outline_style": "dash" if dashed else "solid",
        "outline_width": f"{width * MM_PER_PX:.3f}",
        "outline_width_unit": "MM",
        "size": f"{size * MM_PER_PX:.3f}",
        "size_unit": "MM",
        "joinstyle": "bevel",
        "scale_method": "diameter",
    }
    options = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in values.items())
    props = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in values.items())
    return (
        f'      <symbol type="marker" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
        f'        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">'
        f'<Option type="Map">{options}</Option>{props}</layer>\n'
        f"      </symbol>\n"
    )


def qml():
    """A QGIS rule-based renderer: one rule per type (type_code), under it one per status and an ELSE rule
    for features without a status."""
    rule_xml, symbol_xml = [], []
    by_type = {}
    for title, code, status, symbol in rules():
        by_type.setdefault(code, []).append((title, status, symbol))
    index = 0
    for code, children in by_type.items():
        inner = []
        for title, status, symbol in children:
            condition = f"\"status\" = '{status.label}'" if status is not None else "ELSE"
            key = f"{code.value}-{status.value if status is not None else 'else'}"
            inner.append(
                f"        <rule key={quoteattr(key)} filter={quoteattr(condition)}"
                f' symbol="{index}" label={quoteattr(title)}/>\n'
            )
            symbol_xml.append(_qml_symbol(index, symbol))
            index += 1
        condition = f"\"type_code\" = '{code.value}'"
        rule_xml.append(
            f"      <rule key={quoteattr(code.value)} filter={quoteattr(condition)}"
            f" label={quoteattr(code.label)}>\n{''.join(inner)}      </rule>\n"
        )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">
    <rules key="root">
{"".join(rule_xml)}    </rules>
    <symbols>
{"".join(symbol_xml)}    </symbols>
  </renderer-v2>
  <layerGeometryType>0</layerGeometryType>
</qgis>
"""


@dataclass(frozen=True)
class Style:
    suffix: str
    media_type: str
    title: str
    render: object


STYLES = {
    "qml": Style("qml", "application/vnd.qgis.qml", "QGIS 样式（.qml，按类型和状态）", qml),
    "sld": Style("sld", "application/vnd.ogc.sld+xml", "SLD 样式（.sld，按类型和状态）", sld),
}
