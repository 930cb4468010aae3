"""The 账户 page in Chromium, on a desktop and on a phone (390×844): reach it from the navigation, make an API
token and see it once, revoke it, be told in Chinese why a new password is refused; and the login page's
Chinese lockout message after repeated wrong passwords."""

import pytest
from django.conf import settings

from outfalls.core.models import ApiToken

from .browser import DESKTOP, PHONE, chromium_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_account_page(demo_db, live_server, screen):
    base = live_server.url
    with chromium_context(**(PHONE if screen == "phone" else DESKTOP)) as context:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, base, "pingcheng", settings.DEMO_PASSWORD)
        if screen == "phone":
            page.click(".navbar-toggler")
            page.wait_for_selector("#mainnav.show")  # the menu has finished opening
        page.click("[data-testid=current-user]")
        page.wait_for_url(f"{base}/accounts/")
        assert "平城区" in page.inner_text("[data-testid=account-roles]")
        assert "成功" in page.inner_text("[data-testid=login-table]")
        assert fits_the_screen(page)

        # A token, shown once, then revoked.
        page.fill("#id_name", "QGIS 办公室")
        page.click("[data-testid=token-form] button[type=submit]")
        key = page.inner_text("[data-testid=new-token-key]").strip()
        assert ApiToken.objects.get(user__username="pingcheng", name="QGIS 办公室").prefix == key[:6]
        assert "QGIS 办公室" in page.inner_text("[data-testid=token-table]")
        assert fits_the_screen(page)
        page.locator("[data-testid=token-row]", has_text="QGIS 办公室").locator("button").click()
        page.wait_for_selector("text=已撤销")
        assert "QGIS 办公室" not in page.inner_text("[data-testid=token-table]")
        assert ApiToken.objects.get(name="QGIS 办公室").revoked_at is not None

        # A new password like the city's name and a year is refused, saying why, on the field.
        page.fill("#id_old_password", settings.DEMO_PASSWORD)
        page.fill("#id_new_password1", "datong2023")
        page.fill("#id_new_password2", "datong2023")
        page.click("[data-testid=password-form] button[type=submit]")
        error = page.inner_text("[data-field=new_password2]")
        assert "至少 3 类" in error
        assert fits_the_screen(page)


def test_the_login_page_says_it_is_locked(demo_db, live_server):
    base = live_server.url
    with chromium_context(**PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{base}/accounts/login/")
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            page.fill("#id_username", "yunzhou")
            page.fill("#id_password", "wrong-password")
            page.click("button[type=submit]")
            page.wait_for_load_state()
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("button[type=submit]")
        message = page.inner_text("[data-testid=lockout-message]")
        assert "登录失败次数过多" in message and "市级管理员" in message
        assert page.url.endswith("/accounts/login/")
