"""A river chief on a phone (390×844) records a patrol with the GPX track the phone app exported, registers a
finding at an outfall with a photo, and sees the track and the finding on the patrol's map; the coverage page
shows the month walked. Nothing is fetched from outside the platform."""

import pytest
from django.conf import settings as django_settings
from PIL import Image

from outfalls.geo import tracks as tracks_geo
from outfalls.registry.models import Outfall, WaterBody
from outfalls.supervision.models import Patrol

from .browser import DESKTOP, PHONE, block_outside_requests, chromium_browser, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_river_chief_records_a_patrol_on_a_phone(demo_db, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    river = WaterBody.objects.get(code="YUH01")
    line = max(tracks_geo.track_lines(river.geometry), key=len)[:6]
    gpx = tmp_path / "巡河轨迹.gpx"
    points = "".join(f'<trkpt lat="{lat}" lon="{lon}"/>' for lon, lat in line)
    gpx.write_text(
        f'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'
    )
    photo = tmp_path / "排口.jpg"
    Image.new("RGB", (320, 240), (90, 80, 60)).save(photo, "JPEG")
    outfall = Outfall.objects.filter(water_body=river).order_by("code").first()
    base = live_server.url
    out = django_settings.BASE_DIR / "var" / "test-output"
    out.mkdir(parents=True, exist_ok=True)
    errors = []
    with chromium_browser() as browser:
        for name, screen in (("phone", PHONE), ("desktop", DESKTOP)):
            context = browser.new_context(locale="zh-CN", **screen)
            page = context.new_page()
            page.set_default_timeout(30000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            outside = block_outside_requests(page, base)
            login(page, base, "river_chief", django_settings.DEMO_PASSWORD)
            page.goto(f"{base}/supervision/patrols/new/")
            page.select_option("#id_water_body", str(river.pk))
            page.select_option("#id_county", label="平城区")
            page.fill("#id_participants", f"孙工（{name}）")
            page.set_input_files("#id_track_file", str(gpx))
            page.click("[data-testid=patrol-submit]")
            page.wait_for_selector("[data-testid=finding-form]")
            page.fill("#id_outfall_code", outfall.code)
            page.fill("#id_description", "排口出水浑浊，有异味。")
            page.set_input_files("#id_photos", str(photo))
            page.click("[data-testid=finding-submit]")
            page.wait_for_selector("text=已登记发现的问题")
            page.wait_for_function("() => document.getElementById('patrol-map').dataset.loaded")
            assert page.get_attribute("#patrol-map", "data-loaded") == "1+track"
            assert page.locator("[data-testid=findings] img").count() == 1
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= screen["viewport"]["width"], (name, width)
            page.screenshot(path=str(out / f"patrol-{name}.png"), full_page=True)
            page.goto(f"{base}/supervision/patrols/coverage/")
            assert "御河" in page.inner_text("[data-testid=coverage-table]")
            page.screenshot(path=str(out / f"patrol-coverage-{name}.png"), full_page=True)
            assert not outside, outside
            context.close()
    assert not errors, errors
    patrol = Patrol.objects.get(participants="孙工（phone）")
    assert patrol.track["coordinates"] == [[round(x, 7), round(y, 7)] for x, y in line]
    assert patrol.findings.get().outfall == outfall
