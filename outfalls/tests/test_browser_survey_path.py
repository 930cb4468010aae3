"""The whole 排查 → 溯源 path in Chromium at a phone's viewport (390×844), as a county officer: import
suspected points, check one in the field with a photo and the phone's position, confirm it, trace it to two
units (the owner and one borrowing the outfall), conclude, and find it in the ledger with its name, code
and responsible entity."""

import datetime

import pytest

from outfalls.core.models import Jurisdiction
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody
from outfalls.survey.choices import PointOutcome
from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint, TracingCase

from .browser import PHONE, chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def phone(live_server):
    options = {
        "permissions": ["geolocation"],
        "geolocation": {"longitude": 113.3, "latitude": 40.1, "accuracy": 8},
    }
    with chromium_context(**PHONE, **options) as context:
        page = context.new_page()
        page.set_default_timeout(30000)
        yield context, page


def test_import_check_confirm_trace_conclude(demo_db, live_server, phone, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    context, page = phone
    base = live_server.url
    county = Jurisdiction.objects.get(code="140213")
    river = WaterBody.objects.get(name="御河")
    anchor = Outfall.objects.filter(county=county, water_body=river).order_by("code").first()
    # Two suspected points ~400 m north of a known outfall (beyond the 100 m duplicate radius), 250 m apart.
    lon, lat = anchor.lon, anchor.lat + 0.0036
    campaign = Campaign.objects.create(
        name="浏览器测试排查任务", county=county, deadline=datetime.date(2030, 12, 31)
    )
    campaign.water_bodies.add(river)
    csv_path = tmp_path / "无人机解译成果.csv"
    csv_path.write_text(
        f"编号,经度,纬度,说明,河流\nUAV-001,{lon:.6f},{lat:.6f},岸边疑似管口,御河\n"
        f"UAV-002,{lon:.6f},{lat + 0.00225:.6f},疑似明渠,御河\n",
        encoding="utf-8",
    )
    owner = DischargeUnit.objects.filter(county=county, kind="industrial").order_by("credit_code").first()

    # Log in (the phone's viewport: the navigation is collapsed).
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "pingcheng")
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # 1. Import the points.
    page.goto(f"{base}/survey/campaigns/{campaign.pk}/import/")
    page.set_input_files("input[type=file]", str(csv_path))
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_url(f"{base}/survey/campaigns/{campaign.pk}/")
    assert SuspectedPoint.objects.filter(campaign=campaign).count() == 2

    # 2. Check UAV-001 in the field: the phone's position, a photo, confirmed as an outfall.
    context.set_geolocation({"longitude": lon + 0.00002, "latitude": lat + 0.00001, "accuracy": 6})
    page.goto(f"{base}/survey/field/{campaign.pk}/")
    page.click("[data-testid=point-item]:has-text('UAV-001')")
    page.click("#locate")
    page.wait_for_function("() => document.getElementById('lon').value !== ''")
    photo = tmp_path / "近景.png"
    photo.write_bytes(PNG)
    page.set_input_files("#photo_close", str(photo))
    page.select_option("#flow", "flowing")
    page.select_option("#colour", "grey")
    page.fill("#staff", "王建国、李娜")
    page.check("#outcome-confirmed")
    page.select_option("#water_body", str(river.pk))
    page.fill("#landmark", "浏览器测试化工厂")
    page.click("[data-testid=save-record]")
    # Wait in the page, not on the database: the test database is shared with the live server's thread, and
    # reading while the server writes can fail with "table is locked" on SQLite.
    page.wait_for_function(
        "() => Number(document.getElementById('sent-count').dataset.count) >= 1", timeout=40000
    )
    point = SuspectedPoint.objects.get(campaign=campaign, number="UAV-001")
    assert point.outcome == PointOutcome.CONFIRMED
    outfall = point.outfall
    assert outfall.status == LifecycleStatus.VERIFIED
    check = FieldCheck.objects.get(point=point)
    assert check.position_source == "gps"
    assert abs(check.lon - (lon + 0.00002)) < 1e-6
    assert check.staff == ["王建国", "李娜"]

    # 3. Trace it: open a case from the awaiting list.
    page.goto(f"{base}/survey/cases/awaiting/?q={outfall.code}")
    page.click("[data-testid=open-case]")
    page.wait_for_selector("[data-testid=case-status]")
    case = TracingCase.objects.get(outfall=outfall)
    assert page.url == f"{base}/survey/cases/{case.pk}/"

    page.click("[data-testid=step-form] >> xpath=.. >> summary")
    page.select_option("[data-testid=step-form] select[name=kind]", "dye_test")
    page.fill("[data-testid=step-form] textarea[name=findings]", "在化工厂污水井投放示踪剂，排口出水变色")
    page.set_input_files("[data-testid=step-form] input[name=files]", str(photo))
    page.click("[data-testid=step-form] button[type=submit]")
    page.wait_for_selector("[data-testid=steps] li:has-text('示踪')")

    # The owner, picked from the county's units.
    page.click("[data-testid=link-form] >> xpath=.. >> summary")
    page.select_option("[data-testid=link-form] select[name=unit]", str(owner.pk))
    page.select_option("[data-testid=link-form] select[name=role]", LinkRole.OWNER)
    page.click("[data-testid=link-form] button[type=submit]")
    page.wait_for_selector(f"[data-testid=case-links] tr:has-text('{owner.name}')")

    # A unit borrowing the outfall, created on the spot; first without its channel (kept, with an error).
    page.click("[data-testid=link-form] >> xpath=.. >> summary")
    page.fill("[data-testid=link-form] input[name=new_name]", "浏览器测试洗车店")
    page.select_option("[data-testid=link-form] select[name=new_kind]", "commercial")
    page.select_option("[data-testid=link-form] select[name=role]", LinkRole.BORROWS)
    page.click("[data-testid=link-form] button[type=submit]")
    error = page.wait_for_selector("[data-testid=link-form] [data-field=via_channel]")
    assert "经由的通道" in error.inner_text()
    assert page.input_value("[data-testid=link-form] input[name=new_name]") == "浏览器测试洗车店"
    page.fill("[data-testid=link-form] input[name=via_channel]", "御河东路雨水管网")
    page.click("[data-testid=link-form] button[type=submit]")
    page.wait_for_selector("[data-testid=case-links] tr:has-text('浏览器测试洗车店')")
    assert page.is_visible("[data-testid=borrowed-flag]")

    # 4. Conclude: traced to the owner.
    page.select_option("[data-testid=conclude-form] select[name=basis]", ResponsibilityBasis.TRACED)
    page.select_option("[data-testid=conclude-form] select[name=entity]", str(owner.pk))
    page.fill("[data-testid=conclude-form] textarea[name=note]", "示踪试验确认")
    page.click("[data-testid=conclude-form] button[type=submit]")
    page.wait_for_selector("[data-testid=conclusion]")
    assert page.inner_text("[data-testid=case-entity]") == owner.name

    # 5. In the ledger: name, code and responsible entity.
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.TRACED
    assert outfall.responsible_entity == owner
    assert outfall.responsibility_basis == ResponsibilityBasis.TRACED
    assert "浏览器测试化工厂" in outfall.name and outfall.name.startswith("大同市平城区")
    borrower = OutfallUnitLink.objects.get(outfall=outfall, unit__name="浏览器测试洗车店")
    assert (borrower.role, borrower.via_channel) == (LinkRole.BORROWS, "御河东路雨水管网")
    page.goto(f"{base}/ledger/outfalls/?q={outfall.code}")
    page.click(f"a:has-text('{outfall.code}')")
    assert page.inner_text("[data-testid=outfall-name]") == outfall.name
    body = page.inner_text("body")
    assert outfall.code in body and owner.name in body and "浏览器测试洗车店" in body
    page.goto(f"{base}/survey/borrowed/?q={outfall.code}")
    assert "浏览器测试洗车店" in page.inner_text("[data-testid=borrowed-table]")
