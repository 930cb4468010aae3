"""In a real Chromium: a county officer goes from the rules page to the proposals, accepts two at once, and
overrides one with a reason, then finds the link to the rectification plan."""

import pytest

from outfalls.remediation.choices import ProposalStatus
from outfalls.remediation.models import MeasureProposal
from outfalls.tests.browser import browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rules_page_to_bulk_accept_and_override(demo_db, live_server, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url
    login(page, base, "pingcheng", "Datong@2023")

    page.click("[data-testid=nav-remediation]")
    page.click("[data-testid=nav-rules]")
    row = page.locator("tr[data-rule=regularise]")
    assert "其他排口规范整治" in row.inner_text()
    row.locator("[data-testid=rule-count]").click()
    page.wait_for_url("**/remediation/proposals/?rule=regularise*")
    rows = page.locator("table[data-testid=proposals] tbody tr")
    assert rows.count() > 2
    assert all("平城区" in text for text in rows.all_inner_texts())

    # Bulk accept the first two pending proposals.
    page.select_option("#id_status", ProposalStatus.PENDING)
    page.click("[data-testid=filter-form] button[type=submit]")
    boxes = page.locator("input[name=ids]")
    chosen = [int(boxes.nth(i).get_attribute("value")) for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("[data-testid=bulk-accept]")
    page.wait_for_selector("text=已采纳 2 条建议")
    assert set(MeasureProposal.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {
        ProposalStatus.ACCEPTED
    }

    # Override one: the reason is required; what was chosen stays.
    page.locator("table[data-testid=proposals] tbody tr td.name a").first.click()
    page.select_option("select[name=measure]", "none")
    page.fill("textarea[name=reason]", "   ")
    page.click("[data-testid=override-form] button[type=submit]")
    page.wait_for_selector("text=改定整治措施须填写理由")
    assert page.locator("select[name=measure]").input_value() == "none"
    page.fill("textarea[name=reason]", "现场核实：已设置标识牌和采样点，无需整治。")
    page.click("[data-testid=override-form] button[type=submit]")
    page.wait_for_selector("text=已改定整治措施")
    assert page.locator("[data-testid=proposal-status]").inner_text() == "已改定"
    assert page.locator("[data-testid=outfall-measure]").inner_text() == "无需整治"
    assert "/remediation/plans/new/?outfall=" in page.locator("[data-testid=plan-link]").get_attribute("href")
