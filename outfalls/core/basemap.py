"""Map base layers (``MAP_BASE_LAYER``), for every page with a map (maps, survey).

"none" (the default) adds no tile layer, so the page fetches nothing from outside and the boundaries and
rivers give the context; "tianditu" adds the Tianditu (天地图) vector and imagery layers in Web Mercator with
``TIANDITU_KEY`` (a browser key: it is visible in the page, as Tianditu intends); "custom" adds one tile layer
from ``MAP_TILE_URL`` (an intranet tile server). A base layer that is asked for but not configured falls back
to none.
"""

from django.conf import settings

TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=%(layer)s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
    "&tk=%(key)s"
)
TIANDITU_ATTRIBUTION = "天地图 · 国家地理信息公共服务平台"


def _tianditu(layer, key):
    return {
        "url": TIANDITU_URL % {"layer": layer, "key": key},
        "subdomains": "01234567",
        "maxZoom": 18,
        "attribution": TIANDITU_ATTRIBUTION,
    }


def base_layers():
    """The configured base layers: [{"name", "tiles": [tile layer options, ...]}, ...]; [] for none."""
    kind = (settings.MAP_BASE_LAYER or "none").strip().lower()
    if kind == "tianditu" and settings.TIANDITU_KEY:
        key = settings.TIANDITU_KEY
        return [
            {"name": "天地图矢量", "tiles": [_tianditu("vec", key), _tianditu("cva", key)]},
            {"name": "天地图影像", "tiles": [_tianditu("img", key), _tianditu("cia", key)]},
        ]
    if kind == "custom" and settings.MAP_TILE_URL:
        return [
            {
                "name": "底图",
                "tiles": [
                    {
                        "url": settings.MAP_TILE_URL,
                        "maxZoom": 18,
                        "attribution": settings.MAP_TILE_ATTRIBUTION,
                    }
                ],
            }
        ]
    return []
