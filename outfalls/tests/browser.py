"""Playwright on Debian's Chromium: shared set-up for browser tests.

Pages are served with the platform's Content-Security-Policy (no eval): give `page.wait_for_function` a
function ("() => ..."), not a bare expression, which Playwright would eval while polling."""

import os
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"]


# A phone's screen (an iPhone 12-sized viewport with touch), for the pages used in the field.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1400, "height": 900}}


@contextmanager
def chromium_browser():
    """Debian's Chromium, closed on exit; contexts come from browser.new_context(locale="zh-CN", ...), for
    people on different screens in one test."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test are still
    # synchronous, which Django would otherwise refuse inside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_contexts(count, **options):
    """Debian's Chromium and `count` separate browser contexts (each its own cookies: two people at once),
    Chinese locale and the given options; closed on exit."""
    with chromium_browser() as browser:
        contexts = [browser.new_context(locale="zh-CN", **options) for _ in range(count)]
        try:
            yield contexts
        finally:
            for context in contexts:
                context.close()


@contextmanager
def chromium_context(**options):
    """Debian's Chromium and one browser context (Chinese locale, the given options); closed on exit."""
    with chromium_contexts(1, **options) as (context,):
        yield context


@pytest.fixture
def browser_page(live_server):
    with chromium_context(**DESKTOP) as context:
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page


def isolated_outfall(candidates):
    """The first of `candidates` (an Outfall queryset) with no other outfall within ~50 m, so that its marker
    is alone on the map at zoom 17."""
    from outfalls.registry.models import Outfall

    points = list(Outfall.objects.values_list("id", "lon", "lat"))
    for outfall in candidates.order_by("id"):
        if all(
            pk == outfall.pk or abs(lon - outfall.lon) > 0.0006 or abs(lat - outfall.lat) > 0.0005
            for pk, lon, lat in points
        ):
            return outfall
    raise AssertionError("no isolated outfall in the demo data")


def login(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")  # the 工作台


def block_outside_requests(page, base_url):
    """Abort every request that leaves the test server (the platform makes none at run time); returns the list
    the aborted URLs are collected in."""
    from urllib.parse import urlparse

    ours = urlparse(base_url).netloc
    outside = []

    def guard(route):
        url = route.request.url
        if url.startswith("data:") or urlparse(url).netloc == ours:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    return outside
