"""In a real Chromium: log in as pingcheng, filter the ledger, open a file, edit a field, see the history."""

import pytest
from django.conf import settings

from outfalls.registry.models import Outfall

from .browser import browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_county_officer_filters_edits_and_sees_history(demo_db, live_server, browser_page):  # noqa: F811
    page = browser_page
    login(page, live_server.url, "pingcheng", settings.DEMO_PASSWORD)
    page.click("[data-testid=loop-1]")  # the 工作台's 在册排口 opens the ledger

    # Only 平城区 in the ledger, before and after filtering.
    total = Outfall.objects.filter(county__code="140213").count()
    assert f"共 {total} 个入河排污口" in page.inner_text("[data-testid=result-count]").replace(",", "")
    page.select_option("#id_type_code", "YH")
    page.click("[data-testid=filter-form] button[type=submit]")
    page.wait_for_url("**type_code=YH**")
    expected = Outfall.objects.filter(county__code="140213", type_code="YH").count()
    assert f"共 {expected} 个" in page.inner_text("[data-testid=result-count]")
    counties = page.locator("[data-testid=ledger-table] tbody tr td:nth-child(3)").all_inner_texts()
    assert counties and set(counties) == {"平城区"}

    # Open the first file, edit 断面区间, and find the change in the history.
    page.locator("[data-testid=ledger-table] tbody tr td.name a").first.click()
    page.wait_for_selector("[data-testid=outfall-name]")
    page.click("text=编辑")
    # The form's location map draws the offline base under the point (the officer's county, named).
    page.locator("#location-picker-map .leaflet-basemap-pane path").first.wait_for()
    page.wait_for_selector("#location-picker-map .basemap-label-county")
    assert page.locator("#location-picker-map .basemap-label-county").all_inner_texts() == ["平城区"]
    page.fill("#id_section_interval", "孤山—艾庄（浏览器测试）")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已保存")
    history = page.inner_text("[data-testid=history]")
    assert "断面区间" in history
    assert "孤山—艾庄（浏览器测试）" in history
    assert "平城区" in history or "pingcheng" in history
    fields = page.inner_text("[data-testid=ledger-fields]")
    assert "孤山—艾庄（浏览器测试）" in fields
