"""In a real Chromium: a county officer uploads a hand-filled table, reads the preview, confirms, and finds
the new outfall in the ledger with the import named in its history."""

import pytest
from django.conf import settings

from outfalls.registry.models import Outfall
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.test_ledger_import import new_row

from .browser import PHONE, browser_page, chromium_context, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_preview_and_confirm(demo_db, live_server, browser_page, tmp_path):  # noqa: F811
    rows = [new_row(1), new_row(2), new_row(3, county_code="140215", water_body="桑干河")]
    path = ledger_files.messy_xlsx(tmp_path, rows).path
    page = browser_page
    login(page, live_server.url, "pingcheng", settings.DEMO_PASSWORD)

    page.click("a.dropdown-toggle:has-text('台账')")
    page.click("a.dropdown-item:has-text('台账导入')")
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=crs]", "cgcs2000")
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=import-counts]")
    counts = page.inner_text("[data-testid=import-counts]")
    assert "新增 2" in counts and "错误 1" in counts
    table = page.inner_text("[data-testid=preview-table]")
    assert "云州区不在您的管辖范围（平城区）内" in table
    # A file with an error cannot be confirmed.
    assert page.locator("[data-testid=confirm-import]").count() == 0

    # Fix the file (drop the other county's row), upload again, confirm.
    path = ledger_files.messy_xlsx(tmp_path, rows[:2], name="平城区-修改后.xlsx").path
    page.goto(f"{live_server.url}/ledger/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=confirm-import]")
    assert "新增 2" in page.inner_text("[data-testid=import-counts]")
    page.click("[data-testid=confirm-import]")
    page.wait_for_selector("[data-testid=import-result]")
    assert "新增 2 个排口" in page.inner_text("[data-testid=import-result]")

    outfall = Outfall.objects.get(name="导入测试1号城镇雨洪排口")
    page.goto(f"{live_server.url}/ledger/outfalls/{outfall.pk}/")
    assert "台账导入 #" in page.inner_text("[data-testid=history]")


def test_duplicates_decided_together_on_a_phone(demo_db, live_server, tmp_path):
    """At 390 x 844: two rows next to 平城区 outfalls are possible duplicates; one is imported as new on its
    own row, the other takes 全部跳过 for the rest. The page does not scroll sideways."""
    existing = list(Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id")[:2])
    rows = [
        new_row(n + 1, lon=o.lon + 0.0001, lat=o.lat, name=f"手机上的疑似重复{n + 1}")
        for n, o in enumerate(existing)
    ]
    path = ledger_files.messy_xlsx(tmp_path, rows).path
    with chromium_context(**PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, live_server.url, "pingcheng", settings.DEMO_PASSWORD)
        page.goto(f"{live_server.url}/ledger/imports/")
        page.set_input_files("input[type=file]", str(path))
        page.click("[data-testid=upload-form] button[type=submit]")
        page.wait_for_selector("[data-testid=duplicates-rest]")
        assert "疑似重复 2" in page.inner_text("[data-testid=import-counts]")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first = page.locator("select[name^=decision-]").first
        first.select_option("new")
        page.select_option("[data-testid=duplicates-rest]", "skip")
        page.click("[data-testid=confirm-import]")
        page.wait_for_selector("[data-testid=import-result]")
        assert "新增 1 个排口" in page.inner_text("[data-testid=import-result]")
    assert Outfall.objects.filter(name="手机上的疑似重复1").exists()
    assert not Outfall.objects.filter(name="手机上的疑似重复2").exists()
