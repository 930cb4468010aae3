"""In Chromium, under the Content-Security-Policy: the form behaviours that used to be inline handlers
(static/js/forms.js) still work: a confirmation before removing a unit link, the 全选 box of the proposals
list, and the "uploading…" state of the upload forms; and no page breaks the policy doing it."""

import pytest
from django.conf import settings
from django.urls import reverse

from outfalls.registry.models import OutfallUnitLink

from .browser import browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_confirm_check_all_and_upload_wait(demo_db, live_server, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    login(page, base, "bureau", settings.DEMO_PASSWORD)

    # Removing a unit link asks first: cancelling keeps the link, confirming removes it.
    link = OutfallUnitLink.objects.order_by("pk").first()
    page.goto(base + reverse("registry:outfall_detail", args=[link.outfall_id]))
    form = page.locator(f'form[action$="/units/{link.pk}/delete/"]')
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    form.locator("button").click()
    page.wait_for_timeout(300)
    assert asked == ["确定解除关联？"]
    assert OutfallUnitLink.objects.filter(pk=link.pk).exists()
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        form.locator("button").click()
    assert not OutfallUnitLink.objects.filter(pk=link.pk).exists()

    # 全选 ticks every proposal on the page, and unticks them again.
    page.goto(base + reverse("remediation:proposal_list"))
    boxes = page.locator("input[name=ids]")
    assert boxes.count() > 1
    page.locator("input[data-check-all=ids]").check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.locator("input[data-check-all=ids]").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))

    # An upload shows that it is under way and cannot be sent twice (the test answers the upload with 204 No Content, which keeps the page).
    page.goto(base + reverse("gis:import"))
    page.route(  # a 204 answer leaves the page as it is, in its "uploading" state
        "**/gis/import/",
        lambda route: route.fulfill(status=204) if route.request.method == "POST" else route.continue_(),
    )
    page.set_input_files(
        "input[type=file]", {"name": "a.geojson", "mimeType": "application/json", "buffer": b"{}"}
    )
    page.click("[data-testid=gis-upload-form] button[type=submit]")
    page.wait_for_selector("#upload-wait:not(.d-none)")
    assert page.locator("[data-testid=gis-upload-form] button[type=submit]").is_disabled()

    assert not violations, violations
