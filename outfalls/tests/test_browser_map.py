"""In a real Chromium: open the map, filter it, toggle layers, click an outfall through to its file.

Every request to anything but the test server is aborted and recorded: with the default (offline) base
the map must not try to fetch anything from outside. The offline base is drawn with the counties' and the
rivers' names, on a desktop and on a 390×844 phone screen (screenshots in var/test-output/ for review).
"""

import os

import pytest
from django.conf import settings

from outfalls.core.models import Jurisdiction
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

from .browser import PHONE, block_outside_requests, browser_page, isolated_outfall, login  # noqa: F401

SCREENSHOTS = os.path.join(settings.BASE_DIR, "var", "test-output")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_layers_filters_and_click_through(demo_db, live_server, browser_page):  # noqa: F811
    assert settings.MAP_BASE_LAYER == "offline"
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

    # The offline base: the city's land and counties drawn below the data, each county (not the zone, whose
    # name waits for a closer view) named once; the overlay's own county names give way to it.
    page.locator(".leaflet-basemap-pane path").first.wait_for()
    counties = Jurisdiction.objects.filter(level="county").count()
    page.wait_for_function(f"() => document.querySelectorAll('.basemap-label-county').length === {counties}")
    names = page.locator(".basemap-label-county").all_inner_texts()
    assert set(names) == set(Jurisdiction.objects.filter(level="county").values_list("name", flat=True))
    assert page.locator(".boundary-label").first.is_hidden()
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, "map-offline-base-desktop.png"))
    # Closer in, the rivers are named along their lines and the zone is named.
    page.evaluate("() => mapPage.map.setView([40.05, 113.35], 10)")
    page.wait_for_selector(".basemap-label-river")
    rivers = set(page.locator(".basemap-label-river").all_inner_texts())
    assert rivers <= set(WaterBody.objects.values_list("name", flat=True)) and "御河" in rivers
    page.wait_for_selector(".basemap-label-zone")
    page.evaluate("() => mapPage.map.setView([40.08, 113.3], 9)")

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

    # On a phone: the same base, with its names, nothing fetched from outside.
    context = page.context.browser.new_context(locale="zh-CN", **PHONE)
    try:
        phone = context.new_page()
        phone.set_default_timeout(15000)
        outside = block_outside_requests(phone, live_server.url)
        phone.on("pageerror", lambda error: errors.append(str(error)))
        login(phone, live_server.url, "pingcheng", settings.DEMO_PASSWORD)
        phone.goto(f"{live_server.url}/maps/#10/40.08/113.3")
        phone.locator(".leaflet-basemap-pane path").first.wait_for()
        # A county officer's base shows their county only (Jurisdiction.visible_to), and the city outline.
        phone.wait_for_selector(".basemap-label-county")
        assert phone.locator(".basemap-label-county").all_inner_texts() == ["平城区"]
        phone.locator("#map").scroll_into_view_if_needed()
        phone.screenshot(path=os.path.join(SCREENSHOTS, "map-offline-base-phone.png"))
        assert outside == [] and errors == [], (outside, errors)
    finally:
        context.close()
