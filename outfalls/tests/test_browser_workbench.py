"""The 工作台 in Chromium: signing in lands on it; on a desktop its lists sit side by side, on a phone (390×844)
they stack without sideways scrolling; a line of work opens its list with the same count."""

import re

import pytest
from django.conf import settings as django_settings

from .browser import DESKTOP, PHONE, chromium_browser, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_workbench_on_a_desktop_and_a_phone(demo_db, live_server):
    base = live_server.url
    out = django_settings.BASE_DIR / "var" / "test-output"
    out.mkdir(parents=True, exist_ok=True)
    errors = []
    with chromium_browser() as browser:
        for name, screen in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(locale="zh-CN", **screen)
            page = context.new_page()
            page.set_default_timeout(30000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            login(page, base, "bureau", django_settings.DEMO_PASSWORD)
            assert page.inner_text("h1") == "工作台"
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= screen["viewport"]["width"], (name, width)
            page.screenshot(path=str(out / f"workbench-{name}.png"), full_page=True)
            item = page.locator("[data-testid=item-plans_overdue]")
            count = int(item.get_attribute("data-count"))
            item.click()
            page.wait_for_url(re.compile(r".*/remediation/plans/\?due=overdue"))
            assert f"{count}" in page.inner_text("body")
            context.close()
    assert not errors, errors
