"""A case from a citizen's report to 结案, in Chromium: the citizen reports a hidden pipe from a phone (390×844);
the 平城区 officer opens an enforcement case from the report (its photo goes with it as evidence), records the
investigation and the notice; the investigation form keeps what was typed when refused; the city bureau
decides a fine, records its enforcement and closes the case. The case page is looked at on a phone too."""

import pytest
from django.conf import settings as django_settings
from PIL import Image

from outfalls.portal.models import Report
from outfalls.registry.disclosure import public_outfalls
from outfalls.supervision.choices import CaseSource, CaseStatus
from outfalls.supervision.models import EnforcementCase

from .browser import DESKTOP, PHONE, chromium_browser, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_report_becomes_a_case_and_is_closed(demo_db, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    outfall = public_outfalls().filter(county__code="140213").order_by("code").first()
    photo = tmp_path / "暗管.jpg"
    Image.new("RGB", (640, 480), (60, 60, 50)).save(photo, "JPEG")
    base = live_server.url
    out = django_settings.BASE_DIR / "var" / "test-output"
    out.mkdir(parents=True, exist_ok=True)
    phone = {
        "permissions": ["geolocation"],
        "geolocation": {"longitude": outfall.lon, "latitude": outfall.lat + 0.0002, "accuracy": 10},
    }
    errors = []
    with chromium_browser() as browser:
        citizen = browser.new_context(locale="zh-CN", **PHONE, **phone)
        county = browser.new_context(locale="zh-CN", **DESKTOP)
        city = browser.new_context(locale="zh-CN", **DESKTOP)
        page = citizen.new_page()
        page.set_default_timeout(30000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/public/")
        page.click("text=我要举报")
        page.check("input[name=category][value=illegal_pipe]")
        page.set_input_files("#id_photos", str(photo))
        page.click("#use-gps")
        page.wait_for_selector("[data-testid=nearby-0]")
        page.check("[data-testid=nearby-0]")
        page.fill("#id_description", "河堤下新埋了一根暗管，在往河里排黑水。")
        page.check("input[name=anonymous][value=yes]")
        page.click("[data-testid=submit-report]")
        page.wait_for_selector("[data-testid=tracking-code]")
        report = Report.objects.get(tracking_code=page.inner_text("[data-testid=tracking-code]").strip())

        # The county officer opens a case from the report.
        officer = county.new_page()
        officer.set_default_timeout(30000)
        officer.on("pageerror", lambda e: errors.append(str(e)))
        login(officer, base, "pingcheng", django_settings.DEMO_PASSWORD)
        officer.goto(f"{base}/reports/{report.pk}/")
        officer.click("[data-testid=open-enforcement-case]")
        officer.wait_for_selector("[data-testid=case-form]")
        assert report.tracking_code in officer.inner_text("[data-testid=case-source]")
        assert officer.input_value("#id_kind") == "hidden_pipe"
        assert officer.input_value("#id_outfall_codes") == outfall.code
        officer.click("[data-testid=case-submit]")
        officer.wait_for_selector("[data-testid=case-status]")
        case = EnforcementCase.objects.get(source=CaseSource.REPORT, source_id=report.pk)
        assert officer.inner_text("[data-testid=case-status]") == "已立案"
        assert (
            officer.locator("[data-testid=case-photos] img").count() == 1
        )  # the citizen's photo as evidence

        # 调查: a date before 立案 is refused and the text stays; then it is recorded.
        officer.fill("#id_investigated-on", "2000-01-01")
        officer.fill("#id_investigated-findings", "现场检查并采样，查明暗管接自上游洗车场。")
        officer.click("[data-testid=record-investigated]")
        officer.wait_for_selector("text=不能早于已立案的日期")
        assert officer.input_value("#id_investigated-findings") == "现场检查并采样，查明暗管接自上游洗车场。"
        officer.fill("#id_investigated-on", case.opened_on.isoformat())
        officer.click("[data-testid=record-investigated]")
        officer.wait_for_selector("text=已记录“调查”")
        officer.fill("#id_notified-notice", "拟处罚款，当事人享有陈述、申辩和要求听证的权利。")
        officer.click("[data-testid=record-notified]")
        officer.wait_for_selector("[data-testid=waits-for-bureau]")
        assert officer.inner_text("[data-testid=case-status]") == "已告知"
        assert officer.locator("[data-testid=step-decided]").count() == 0

        # The city bureau decides, records the enforcement and closes the case.
        bureau = city.new_page()
        bureau.set_default_timeout(30000)
        bureau.on("pageerror", lambda e: errors.append(str(e)))
        login(bureau, base, "bureau", django_settings.DEMO_PASSWORD)
        bureau.goto(f"{base}/supervision/cases/")
        bureau.click(f"text={case.number}")
        bureau.select_option("#id_decided-outcome", "penalty")
        bureau.fill("#id_decided-decision_number", "同环罚〔2026〕12号")
        bureau.fill("#id_decided-penalty_amount", "80000")
        bureau.fill("#id_decided-legal_basis", "《中华人民共和国水污染防治法》第八十四条第一款")
        bureau.click("[data-testid=record-decided]")
        bureau.wait_for_selector("[data-testid=case-decision]")
        assert "罚款 80,000.00 元" in bureau.inner_text("[data-testid=case-decision]")
        assert bureau.locator("[data-testid=step-closed]").count() == 0  # a fine is enforced first
        bureau.fill("#id_enforced-enforcement", "罚款已缴纳，暗管已拆除封堵。")
        bureau.click("[data-testid=record-enforced]")
        bureau.wait_for_selector("[data-testid=step-closed]")
        bureau.fill("#id_closed-closing_note", "处罚执行完毕，整改到位，结案。")
        bureau.click("[data-testid=record-closed]")
        bureau.wait_for_selector("text=已记录“结案”")
        assert bureau.inner_text("[data-testid=case-status]") == "已结案"
        history = bureau.inner_text("[data-testid=case-history]")
        for label in ("已立案", "已调查", "已告知", "已决定", "已执行", "已结案"):
            assert label in history
        bureau.screenshot(path=str(out / "enforcement-case-desktop.png"), full_page=True)

        # The report's page says it became a case; the case page reads on a phone.
        officer.goto(f"{base}/reports/{report.pk}/")
        assert f"已立案查处（案件 {case.number}）" in officer.inner_text("[data-testid=report-history]")
        phone_page = citizen.new_page()
        login(phone_page, base, "pingcheng", django_settings.DEMO_PASSWORD)
        phone_page.goto(f"{base}/supervision/cases/{case.pk}/")
        width = phone_page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
        phone_page.screenshot(path=str(out / "enforcement-case-phone.png"), full_page=True)
    assert not errors, errors
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == "penalty"
