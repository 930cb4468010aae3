"""The map page: filters, legend, configuration for its script, base layers, navigation."""

import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"(?:https?:)?//(?!127\.0\.0\.1|localhost|testserver)[a-z0-9.-]+\.[a-z]{2,}", re.I)


def page(client, params=None):
    response = client.get(reverse("maps:map"), params or {})
    assert response.status_code == 200
    html = response.content.decode()
    config = json.loads(
        re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    return html, config


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("maps:map"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_has_the_ledger_filters_legend_and_layers(client_for):
    html, config = page(client_for("pingcheng"), {"type_code": "YH"})
    form = re.search(r'<form method="get" id="map-filter".*?</form>', html, re.S)[0]
    for name in (
        "q",
        "county",
        "town",
        "water_body",
        "type_code",
        "type_level2",
        "status",
        "rectification_status",
        "registered",
    ):
        assert f'name="{name}"' in form, name
    assert 'name="ordering"' not in form
    assert '<option value="YH" selected>' in form
    # A county officer chooses among their own county only.
    assert "平城区" in form and "云州区" not in form
    for label in ("工业排污口", "城镇雨洪排口", "暂无法确定", "疑似", "整治中", "保留", "示意"):
        assert label in html, label
    assert config["api"]["outfalls"] == reverse("maps:api_outfalls")
    assert config["outfallUrl"] == "/ledger/outfalls/{id}/"
    assert set(config["types"]) == {"GY", "SH", "NY", "YH", "QT", "UNDETERMINED"}
    assert config["statuses"]["suspected"]["dashArray"]
    # The view opens on the officer's county.
    (south, west), (north, east) = config["bounds"]
    assert 39.5 < south < north < 40.5 and 113 < west < east < 113.6


def test_without_a_base_layer_no_external_address_appears(client_for, settings):
    settings.MAP_BASE_LAYER = "none"
    html, config = page(client_for("bureau"))
    assert config["baseLayers"] == []
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "未配置底图" in html
    # Nor in the page's own script and style.
    from django.contrib.staticfiles import finders

    for name in ("maps/map.js", "maps/map.css", "maps/picker.js"):
        text = open(finders.find(name), encoding="utf-8").read()
        assert not EXTERNAL.search(text), (name, EXTERNAL.search(text))


def test_tianditu_with_a_key(client_for, settings):
    settings.MAP_BASE_LAYER = "tianditu"
    settings.TIANDITU_KEY = "abc123key"
    html, config = page(client_for("bureau"))
    names = [layer["name"] for layer in config["baseLayers"]]
    assert names == ["天地图矢量", "天地图影像", "离线底图"]
    urls = [tile["url"] for layer in config["baseLayers"] for tile in layer["tiles"]]
    assert all(
        url.startswith("https://t{s}.tianditu.gov.cn/") and url.endswith("tk=abc123key") for url in urls
    )
    assert "LAYER=vec" in urls[0] and "LAYER=cva" in urls[1]
    assert "未配置底图" not in html


def test_tianditu_without_a_key_falls_back_to_the_offline_base(client_for, settings):
    settings.MAP_BASE_LAYER = "tianditu"
    settings.TIANDITU_KEY = ""
    html, config = page(client_for("bureau"))
    assert config["baseLayers"] == [{"name": "离线底图", "tiles": [], "vector": "/maps/api/basemap/"}]
    assert not EXTERNAL.search(html)


def test_a_custom_tile_server(client_for, settings):
    settings.MAP_BASE_LAYER = "custom"
    settings.MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "市测绘院"
    _html, config = page(client_for("bureau"))
    assert config["baseLayers"] == [
        {
            "name": "底图",
            "tiles": [{"url": "/tiles/{z}/{x}/{y}.png", "maxZoom": 18, "attribution": "市测绘院"}],
        },
        {"name": "离线底图", "tiles": [], "vector": "/maps/api/basemap/"},
    ]


def test_the_navigation_links_the_map(client_for):
    html = client_for("enterprise").get(reverse("registry:outfall_list")).content.decode()
    assert f'href="{reverse("maps:map")}" data-testid="nav-map">一张图</a>' in html
    assert "nav-link disabled" not in html and "建设中" not in html  # no greyed-out items in the menu
