"""Run by test_ogc_qgis.py in Debian's system Python with python3-qgis (QGIS's own OGC API - Features
provider, "OAPIF"), never imported by the platform. It follows docs/ogcapi.md's QGIS recipe against a live
server and prints what QGIS saw as JSON on stdout.

Usage: python3 qgis_client.py <ogcapi url> <user> <password> <qml file> <sld file>
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsVectorLayer,
)


def layer(url, typename, user=None, password=None):
    """The layer a QGIS user adds through 添加 WFS / OGC API - Features 图层 with Basic authentication."""
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", typename)
    uri.setParam("pagingEnabled", "true")
    if user:
        uri.setUsername(user)
        uri.setPassword(password)
    return QgsVectorLayer(uri.uri(False), typename, "OAPIF")


def main(url, user, password, qml, sld):
    app = QgsApplication([], False)
    app.initQgis()
    seen = {"qgis": Qgis.QGIS_VERSION}

    public = layer(url, "outfalls")
    seen["public_valid"] = public.isValid()
    seen["public_count"] = sum(1 for _ in public.getFeatures())
    seen["public_fields"] = public.fields().names()

    mine = layer(url, "outfalls", user, password)
    seen["mine_valid"] = mine.isValid()
    seen["mine_count"] = sum(1 for _ in mine.getFeatures())
    seen["mine_fields"] = mine.fields().names()
    # The query builder's filter (图层属性 → 源 → 查询构建器).
    mine.setSubsetString("\"status\" = '保留'")
    seen["mine_kept"] = sorted(f["code"] for f in mine.getFeatures())
    mine.setSubsetString("")
    request = QgsFeatureRequest().setFilterExpression("\"type_code\" = 'YH'")
    seen["mine_storm"] = sorted(f["code"] for f in mine.getFeatures(request))
    first = next(mine.getFeatures())
    seen["field_types"] = {field.name(): field.typeName() for field in mine.fields()}
    seen["first_geometry"] = first.geometry().asWkt(6)[:5]

    units = layer(url, "discharge-units", user, password)
    seen["units_count"] = sum(1 for _ in units.getFeatures())

    # 符号化 → 样式 → 加载样式: the downloaded QML, then the SLD.
    message, ok = mine.loadNamedStyle(qml)
    renderer = mine.renderer()
    seen["qml_loaded"] = bool(ok)
    seen["qml_renderer"] = renderer.type()
    seen["qml_rules"] = len(renderer.rootRule().descendants()) if renderer.type() == "RuleRenderer" else 0
    message, ok = mine.loadSldStyle(sld)
    seen["sld_loaded"] = bool(ok)
    seen["sld_renderer"] = mine.renderer().type()

    wrong = layer(url, "outfalls", user, "wrong-password")
    seen["wrong_valid"] = wrong.isValid()
    print(json.dumps(seen, ensure_ascii=False), flush=True)
    # QGIS 3.22 may crash while tearing down its network threads in exitQgis(); the answer is out.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:6])
