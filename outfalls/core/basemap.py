"""Map base layers (``MAP_BASE_LAYER``), for every page with a map (maps, survey).

"offline" (the default) is the platform's own base, drawn by the browser from ``/maps/api/basemap/``: the
jurisdictions the user may see (land, county and town areas with their names), the receiving waters with
their names, and the area outside the city greyed (maps/layers.py ``basemap``, static/maps/basemap.js). It
fetches nothing from outside. "tianditu" adds the Tianditu (天地图) vector and imagery layers in Web Mercator
with ``TIANDITU_KEY`` (a browser key: it is visible in the page, as Tianditu intends); "custom" adds one tile
layer from ``MAP_TILE_URL`` (an intranet tile server). Both keep the offline base as a further choice (the
internet or the tile server may be down). A base layer that is asked for but not configured falls back to
the offline base; "none" draws no base at all.

Each base is ``{"name", "tiles": [tile layer options...]}``; the offline base has no tiles and names its data
under ``"vector"`` (scripts that know only tiles draw nothing for it).
"""

from django.conf import settings
from django.urls import reverse

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


OFFLINE_NAME = "离线底图"


def offline_base():
    return {"name": OFFLINE_NAME, "tiles": [], "vector": reverse("maps:api_basemap")}


def base_layers():
    """The configured base layers: [{"name", "tiles": [tile layer options, ...]}, ...]; [] for none."""
    kind = (settings.MAP_BASE_LAYER or "offline").strip().lower()
    if kind == "none":
        return []
    if kind == "tianditu" and settings.TIANDITU_KEY:
        key = settings.TIANDITU_KEY
        return [
            {"name": "天地图矢量", "tiles": [_tianditu("vec", key), _tianditu("cva", key)]},
            {"name": "天地图影像", "tiles": [_tianditu("img", key), _tianditu("cia", key)]},
            offline_base(),
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
            },
            offline_base(),
        ]
    return [offline_base()]
