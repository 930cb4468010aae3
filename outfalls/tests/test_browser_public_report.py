"""A citizen reports from a phone (390×844) and a county officer handles it, in Chromium under the CSP: the
public map and list load from the platform alone; the report form takes a photo and the phone's position,
asks about the disclosed outfall nearby, and gives a tracking code; the officer finds the report routed to
平城区 (and 市城市管理局 for a storm outfall), merges a second report of the same problem into it, and replies;
the citizen sees the reply on the status page."""

import io

import pytest
from django.conf import settings as django_settings
from PIL import Image

from outfalls.portal import services
from outfalls.portal.choices import ReportStatus
from outfalls.portal.models import Report
from outfalls.registry.disclosure import public_outfalls

from .browser import PHONE, chromium_contexts, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_reports_handler_merges_and_replies(demo_db, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    outfall = (
        public_outfalls().filter(county__code="140213", type_level2="urban_storm").order_by("code").first()
    )
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (640, 480), (80, 110, 70)).save(photo, "JPEG")
    base = live_server.url
    out = django_settings.BASE_DIR / "var" / "test-output"
    out.mkdir(parents=True, exist_ok=True)
    phone = {
        "permissions": ["geolocation"],
        "geolocation": {"longitude": outfall.lon, "latitude": outfall.lat + 0.0002, "accuracy": 10},
    }
    external = []
    with chromium_contexts(2, **PHONE, **phone) as (context, staff_context):
        page = context.new_page()
        page.set_default_timeout(30000)
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(base) else None)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/public/")
        page.wait_for_function("() => document.getElementById('public-map').dataset.loaded")
        assert int(page.get_attribute("#public-map", "data-loaded")) == public_outfalls().count()
        assert page.locator("[data-testid=public-list] li").count() == 20
        page.wait_for_selector(".leaflet-basemap-pane path", state="attached")  # the city's own base map
        page.screenshot(path=str(out / "public-portal-phone.png"))

        page.click("text=我要举报")
        page.check("input[name=category][value=colour]")
        page.set_input_files("#id_photos", str(photo))
        page.click("#use-gps")
        page.wait_for_selector("[data-testid=nearby-0]")
        assert outfall.name in page.inner_text("[data-testid=nearby]")
        page.check("[data-testid=nearby-0]")
        page.fill("#id_description", "排口在排黄色的水，气味刺鼻。")
        page.check("input[name=anonymous][value=yes]")
        page.screenshot(path=str(out / "public-report-form-phone.png"), full_page=True)
        page.click("[data-testid=submit-report]")
        page.wait_for_selector("[data-testid=tracking-code]")
        code = page.inner_text("[data-testid=tracking-code]").strip()
        report = Report.objects.get(tracking_code=code)
        assert report.outfall == outfall and report.location_source == "gps"
        assert report.county.code == "140213" and report.department.name == "市城市管理局"
        assert page.inner_text("[data-testid=status]") == "已受理"

        # Someone else reports the same problem a few metres away.
        other = services.submit_report(
            {
                "category": "odour",
                "description": "桥下排口有臭味。",
                "anonymous": True,
                "lon": outfall.lon,
                "lat": outfall.lat + 0.0001,
            },
            [_jpeg()],
            client_key="someone-else",
        )

        # The county officer, on a phone too.
        staff = staff_context.new_page()
        staff.set_default_timeout(30000)
        staff.on("dialog", lambda d: d.accept())
        login(staff, base, "pingcheng", django_settings.DEMO_PASSWORD)
        staff.goto(f"{base}/reports/")
        assert code in staff.inner_text("[data-testid=report-list]")
        staff.click(f"text={other.tracking_code}")
        assert code in staff.inner_text("[data-testid=duplicates]")
        staff.click(f"[data-testid=merge-{code}]")
        staff.wait_for_selector("text=已保存")
        assert staff.inner_text("[data-testid=report-status]") == "已合并"
        staff.goto(f"{base}/reports/{report.pk}/")
        assert "平城区 / 市城市管理局" in staff.inner_text("[data-testid=routing]")
        staff.fill("#id_reply", "经现场核查，系雨水管网混接生活污水，已责令属地限期整改。")
        staff.click("[data-testid=reply]")
        staff.wait_for_selector("[data-testid=staff-reply]")

        page.reload()
        assert "已责令属地限期整改" in page.inner_text("[data-testid=reply]")
        assert page.inner_text("[data-testid=status]") == "已答复"
        page.screenshot(path=str(out / "public-report-status-phone.png"), full_page=True)
        assert not errors, errors
    assert not external, external
    other.refresh_from_db()
    assert other.status == ReportStatus.MERGED and other.merged_into == report


def _jpeg():
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = io.BytesIO()
    Image.new("RGB", (32, 32)).save(data, "JPEG")
    return SimpleUploadedFile("x.jpg", data.getvalue())
