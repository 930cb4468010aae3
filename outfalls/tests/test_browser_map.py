"""In a real Chromium: open the map, filter it, toggle layers, click an outfall through to its file.

Every request to anything but the test server is aborted and recorded: without a base layer the map
must not try to fetch anything from outside.
"""

import os

import pytest
from django.conf import settings

from outfalls.registry.demo import load_demo
from outfalls.registry.models import DischargeUnit, Outfall

from .browser import block_outside_requests, browser_page, isolated_outfall, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_layers_filters_and_click_through(live_server, browser_page):  # noqa: F811
    load_demo(stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert settings.MAP_BASE_LAYER == "none"
    page = browser_page
    outside = block_outside_requests(page, live_server.url)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    login(page, live_server.url, "bureau", settings.DEMO_PASSWORD)

    # The nav link opens the map: all outfalls, aggregated at the city's zoom.
    page.click("[data-testid=nav-map]")
    page.wait_for_url("**/maps/**")
    page.wait_for_selector("[data-testid=outfall-cluster]")
    page.wait_for_function("() => document.getElementById('map-status').dataset.mode === 'clusters'")
    total = Outfall.objects.count()
    assert page.get_attribute("#map-status", "data-total") == str(total)
    # Rivers and boundaries come in their own requests, which may finish after the outfalls.
    page.locator(".leaflet-rivers-pane path").first.wait_for()
    page.locator(".leaflet-boundaries-pane path").first.wait_for()

    # The ledger's filter narrows the map.
    page.select_option("#id_type_code", "GY")
    gy = Outfall.objects.filter(type_code="GY").count()
    page.wait_for_function(f"() => document.getElementById('map-status').dataset.total === '{gy}'")
    assert "type_code=GY" in page.get_attribute("#map-ledger-link", "href")

    # Toggle layers in the layer control: units on, rivers off.
    control = page.locator(".leaflet-control-layers")
    control.locator("label", has_text="排污单位").click()
    page.wait_for_selector(".unit-marker")
    assert page.locator(".unit-marker").count() == DischargeUnit.objects.exclude(lon=None).count()
    control.locator("label", has_text="河流").click()
    page.wait_for_function("() => document.querySelectorAll('.leaflet-rivers-pane path').length === 0")

    # A cluster zooms in when clicked.
    zoom = page.evaluate("mapPage.map.getZoom()")
    page.locator("[data-testid=outfall-cluster]").first.click()
    # (and the zoom animation is over: Leaflet ignores a new view while it runs)
    page.wait_for_function(
        f"() => mapPage.map.getZoom() > {zoom} && !document.querySelector('.leaflet-zoom-anim')"
    )

    # Close in on one outfall: its marker, its popup, its file.
    outfall = isolated_outfall(Outfall.objects.filter(type_code="GY"))
    page.evaluate("([lat, lon]) => mapPage.map.setView([lat, lon], 17)", [outfall.lat, outfall.lon])
    page.wait_for_function("() => document.getElementById('map-status').dataset.mode === 'points'")
    marker = page.locator(f'path[data-outfall-id="{outfall.pk}"]')
    marker.wait_for()
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert outfall.name in text and outfall.code in text and "工业排污口" in text
    popup.locator("[data-testid=popup-detail-link]").click()
    page.wait_for_url(f"**/ledger/outfalls/{outfall.pk}/")
    assert page.inner_text("[data-testid=outfall-name]").strip() == outfall.name

    assert outside == [], outside
    assert errors == [], errors
