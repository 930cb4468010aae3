"""The field-check page on a phone (390×844, touch) in Chromium: GPS, a photo, offline queue, sending when the
network returns, the page reopening offline from the service worker, and no duplicate on a second send."""

import json
import os

import pytest
from django.conf import settings

from outfalls.core.models import Attachment
from outfalls.core.tests.test_photos import jpeg_with_exif
from outfalls.survey.models import Campaign, FieldCheck, Track
from outfalls.tests.browser import PHONE, block_outside_requests, browser_page, chromium_context, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_count(page, selector, value):
    page.wait_for_function(
        "([s, v]) => document.querySelector(s) && document.querySelector(s).dataset.count === v",
        arg=[selector, str(value)],
        timeout=20000,
    )


def test_field_check_offline_queue_then_sent_once(demo_db, live_server):
    campaign = Campaign.objects.filter(county__code="140213").order_by("pk").first()
    point = campaign.points.filter(outcome="pending").order_by("number").first()

    with chromium_context(**PHONE) as context:
        context.grant_permissions(["geolocation"], origin=live_server.url)
        context.set_geolocation({"latitude": point.lat, "longitude": point.lon, "accuracy": 8})
        page = context.new_page()
        page.set_default_timeout(20000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, live_server.url, "pingcheng", settings.DEMO_PASSWORD)
        page.goto(f"{live_server.url}/survey/field/{campaign.pk}/")

        # The list sorted by distance from the phone: the point we stand on comes first.
        page.click("#locate-list")
        page.wait_for_function(
            "() => document.getElementById('list-position').textContent.includes('当前位置')"
        )
        first = page.locator("#point-list button").first
        assert first.get_attribute("data-point-id") == str(point.pk)
        first.click()

        page.click("#locate")
        page.wait_for_function("() => document.getElementById('accuracy').textContent.includes('8 米')")
        assert abs(float(page.input_value("#lat")) - point.lat) < 1e-5
        page.set_input_files(
            "#photo_close",
            files=[
                {
                    "name": "close.jpg",
                    "mimeType": "image/jpeg",
                    "buffer": jpeg_with_exif(lon=point.lon, lat=point.lat).read(),
                }
            ],
        )
        # The photo's EXIF time and position are shown before upload, with the distance to the GPS fix.
        exif = page.wait_for_selector("#photo-summary [data-testid=photo-exif]").inner_text()
        assert "拍摄时间 2023-04-10 09:15:30" in exif and f"{point.lat:.6f}" in exif and "约 0 米" in exif
        page.select_option("#flow", "dry")
        page.fill("#staff", "王建国")
        page.check("#outcome-not_outfall")
        page.fill("#decision_note", "废弃灌溉渠口")

        # One name is not enough: the phone says so and keeps the form.
        page.click("#save-record")
        page.wait_for_selector("#form-errors:not(.d-none)")
        assert "至少填写两人" in page.text_content("#form-errors")
        page.fill("#staff", "王建国、李娜")

        # The page is cached by the service worker before the signal goes.
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        for _ in range(50):
            if page.evaluate("caches.match(location.pathname).then(r => !!r)"):
                break
            page.wait_for_timeout(200)
        else:
            raise AssertionError("the field page was not cached")

        context.set_offline(True)
        page.click("#save-record")
        wait_count(page, "#queue-count", 1)
        assert page.text_content("#queue-count") == "待上传 1 条"
        assert page.get_attribute("#net-status", "data-online") == "0"
        assert not FieldCheck.objects.filter(point=point).exists()
        # The point in the list says its record is still on the phone.
        item = page.locator(f"#point-list [data-point-id='{point.pk}']")
        assert item.locator("[data-testid=point-queued]").inner_text() == "待上传"
        others = page.locator("#point-list [data-testid=point-queued]")
        assert others.count() == 1
        os.makedirs(os.path.join(settings.BASE_DIR, "var", "test-output"), exist_ok=True)
        page.screenshot(
            path=os.path.join(settings.BASE_DIR, "var", "test-output", "field-point-queued-phone.png")
        )

        # Reopened without signal: the page comes from the service worker, the record from IndexedDB.
        page.reload()
        wait_count(page, "#queue-count", 1)
        item.locator("[data-testid=point-queued]").wait_for()

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_count(page, "#queue-count", 0)
        wait_count(page, "#sent-count", 1)
        assert page.locator("#point-list [data-testid=point-queued]").count() == 0
        checks = FieldCheck.objects.filter(point=point)
        assert checks.count() == 1
        check = checks.get()
        assert check.staff == ["王建国", "李娜"] and check.position_source == "gps" and check.accuracy_m == 8
        photo = Attachment.objects.get(content_type__model="fieldcheck", object_id=check.pk)
        assert photo.kind == "photo_close" and abs(photo.exif_lat - point.lat) < 1e-5
        point.refresh_from_db()
        assert point.outcome == "not_outfall"

        # The page reloaded, so send the same record again straight from the browser, as a retry would.
        resent = page.evaluate(
            """([url, record]) => {
                const data = new FormData();
                data.append("record", record);
                const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
                return fetch(url, {method: "POST", body: data, credentials: "same-origin",
                                   headers: {"X-CSRFToken": token}})
                    .then(r => r.json().then(body => ({status: r.status, body})));
            }""",
            [f"/survey/field/{campaign.pk}/submit/", json.dumps({"client_uuid": str(check.client_uuid)})],
        )
        assert resent["status"] == 200 and resent["body"]["id"] == check.pk
        assert FieldCheck.objects.filter(point=point).count() == 1
        assert errors == []


def test_campaign_page_map_on_the_offline_base(demo_db, live_server, browser_page):  # noqa: F811
    campaign = Campaign.objects.filter(county__code="140215").order_by("pk").first()
    page = browser_page
    outside = block_outside_requests(page, live_server.url)
    login(page, live_server.url, "yunzhou", settings.DEMO_PASSWORD)
    page.click("[data-testid=nav-survey]")
    page.click("[data-testid=nav-campaigns]")
    page.click(f"text={campaign.name}")
    page.wait_for_function(
        f"() => document.getElementById('campaign-map').dataset.points === '{campaign.points.count()}'"
    )
    escalated = campaign.points.filter(outcome="escalated").count()
    assert page.locator("path.outcome-escalated").count() == escalated
    # The offline base (nothing fetched from outside) names the officer's county under the points.
    page.locator("#campaign-map .leaflet-basemap-pane path").first.wait_for()
    page.wait_for_selector("#campaign-map .basemap-label-county")
    assert page.locator("#campaign-map .basemap-label-county").all_inner_texts() == ["云州区"]
    page.wait_for_function(
        f"() => document.getElementById('campaign-map').dataset.reaches === '{campaign.reaches.count()}'"
    )
    assert outside == []


def test_walked_track_recorded_and_sent(demo_db, live_server):
    campaign = Campaign.objects.filter(county__code="140213").order_by("pk").first()
    river = campaign.water_bodies.get(name="御河")

    walk = [(113.3001, 40.0801), (113.3003, 40.0806), (113.3006, 40.0812), (113.3010, 40.0818)]
    with chromium_context(**PHONE) as context:
        context.grant_permissions(["geolocation"], origin=live_server.url)
        context.set_geolocation({"longitude": walk[0][0], "latitude": walk[0][1], "accuracy": 5})
        page = context.new_page()
        page.set_default_timeout(20000)
        login(page, live_server.url, "pingcheng", settings.DEMO_PASSWORD)
        page.goto(f"{live_server.url}/survey/field/{campaign.pk}/")
        # The offline base is drawn (the map may sit on a tab the phone has not opened yet).
        page.locator("#field-map .leaflet-basemap-pane path").first.wait_for(state="attached")
        page.select_option("#track-river", str(river.pk))
        page.select_option("#track-bank", "right")
        page.click("[data-testid=track-toggle]")
        page.wait_for_function("() => document.getElementById('track-status').dataset.points === '1'")
        for n, (lon, lat) in enumerate(walk[1:], start=2):
            context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
            page.wait_for_function(f"() => document.getElementById('track-status').dataset.points === '{n}'")
        page.click("[data-testid=track-toggle]")
        wait_count(page, "#sent-count", 1)
        wait_count(page, "#queue-count", 0)
        track = Track.objects.get(campaign=campaign, recorded_by__username="pingcheng")
        assert track.bank == "right" and track.water_body == river
        assert track.geometry["coordinates"] == [[lon, lat] for lon, lat in walk]
