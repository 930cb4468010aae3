"""In a real Chromium under the Content-Security-Policy: the matrix leads to an outfall's curves, each drawn
with its limit, and the page runs no inline script and logs no error."""

import pytest

from outfalls.monitoring.models import Finding
from outfalls.tests.browser import browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_matrix_to_the_curves_with_their_limits(demo_db, live_server, browser_page):  # noqa: F811
    page = browser_page
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    chronic = (
        Finding.objects.filter(kind="chronic", outfall__county__code="140215")
        .select_related("outfall", "outfall__county")
        .first()
    )
    base = live_server.url
    login(page, base, "yunzhou", "Datong@2023")
    page.click("[data-testid=nav-monitoring]")
    page.click("[data-testid=nav-matrix]")
    page.goto(f"{base}/monitoring/matrix/?from=2020-01-01")
    row = page.locator(f"tr[data-outfall='{chronic.outfall.code}']")
    assert row.locator("td[data-state=chronic]").count() >= 1
    row.locator("a").first.click()
    page.wait_for_function("() => document.body.dataset.chartsReady === 'true'")
    lines = page.evaluate(
        """() => Array.from(document.querySelectorAll('.monitoring-chart[data-parameter]')).map(el => {
            const option = echarts.getInstanceByDom(el).getOption();
            return [el.dataset.parameter, option.series[0].markLine.data.map(d => d.yAxis)];
        })"""
    )
    charts = dict(lines)
    assert chronic.parameter.code in charts
    assert charts[chronic.parameter.code] and charts[chronic.parameter.code][0] == chronic.limit_upper
    assert page.locator("[data-testid=findings] tr[data-kind=chronic]").count() >= 1
    assert "GB 8978-1996" in page.locator("[data-testid=standard]").inner_text()
    assert problems == []
