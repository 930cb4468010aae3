"""Every page on a phone: Chromium at 390×844 (touch) visits every page in the menu for each of the eight demo
roles, and one page of each kind the lists lead to (detail_pages) as the city bureau, and, on each, finds
no element reaching beyond the screen except inside a box that scrolls sideways, every table inside such a
box, and no table cell squeezed below four characters with its text wrapped. The
open menu fits too. On the map the map comes first, the filters and legend are folded and the layer control
is collapsed. Then, on the same phone: pick-lists narrow as one chooses, and a refused form reloads as a GET
without sending the form again.

One browser, one live server and one load of the demo data for all of it; pages are checked once loaded (not
after the network is idle) to keep the visit of ~190 pages to about a minute. A county officer's map, plans
and supervision pages are kept as screenshots in var/test-output/ for review.
"""

import os

import pytest
from django.conf import settings
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import Jurisdiction
from outfalls.registry.classification import LEVEL2_CODE

from .browser import PHONE, chromium_context, login

SCREENSHOTS = os.path.join(settings.BASE_DIR, "var", "test-output")
REVIEWED = {
    "pingcheng": {"/maps/": "map", "/remediation/plans/": "plans", "/remediation/supervision/": "supervision"}
}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What is wrong with the page's layout, as a list of lines (empty when it fits the screen).
LAYOUT_PROBLEMS = """
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
    if (el.dataset && el.dataset.testid) s += "[" + el.dataset.testid + "]";
    else if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\\s+/).slice(0, 2).join(".");
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 30);
    return text ? s + " «" + text + "»" : s;
  };
  // A box that scrolls sideways (or clips) holds what is wider than itself; the box itself must fit.
  const held = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return up;
    }
    return null;
  };
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " px");
  }
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    if ((box.right > width + 1 || box.left < -1) && !held(el)) {
      problems.push("beyond the screen: " + name(el) + " " + Math.round(box.left) + "…" + Math.round(box.right));
    }
  }
  for (const table of document.querySelectorAll("table")) {
    if (!table.getBoundingClientRect().width) continue;
    const box = held(table);
    const scrolls = box && ["auto", "scroll"].includes(getComputedStyle(box).overflowX);
    if (!scrolls) problems.push("a table outside a sideways-scrolling box: " + name(table));
  }
  for (const cell of document.querySelectorAll("td, th")) {
    const box = cell.getBoundingClientRect();
    if (!box.width) continue;
    const style = getComputedStyle(cell);
    const inner = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (inner >= 4 * parseFloat(style.fontSize) - 0.5) continue;
    // Narrower than four characters is squeezed when its text had to wrap (a short "是" is not).
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const lines = Array.from(range.getClientRects()).filter((r) => r.width > 0);
      if (lines.some((r) => Math.abs(r.top - lines[0].top) > r.height / 2)) {
        problems.push("a cell narrower than four characters: " + name(cell) + " " + Math.round(inner) + " px");
        break;
      }
    }
  }
  return problems;
}
"""

OPEN_MENU = """
() => document.querySelectorAll(".navbar-collapse, .dropdown-menu").forEach((el) => el.classList.add("show"))
"""


def menu_pages(page):
    links = page.eval_on_selector_all("nav a[href]", "links => links.map((a) => a.getAttribute('href'))")
    # The Django admin (基础数据维护, the city admin's) is Django's own interface, not the platform's pages.
    return list(dict.fromkeys(h for h in links if h.startswith("/") and not h.startswith("/admin/")))


def check_map(page):
    """The map first, right under the navigation; filters and legend folded; the layer control collapsed."""
    page.wait_for_selector(".leaflet-control-layers")
    top = page.evaluate("() => document.getElementById('map').getBoundingClientRect().top")
    height = page.evaluate("() => document.getElementById('map').getBoundingClientRect().height")
    assert top < 100 and height > 400, (top, height)
    assert page.evaluate("() => [...document.querySelectorAll('.map-fold')].map((d) => d.open)") == [
        False,
        False,
    ]
    control = page.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in control.get_attribute("class")
    assert control.bounding_box()["width"] < 60  # the button only: it covers no marker
    # A tap on the map where the open list used to be switches nothing off.
    page.mouse.click(340, top + 120)
    assert page.evaluate("() => mapPage.map.hasLayer(mapPage.overlays.rivers.layer)")


def detail_pages():
    """One page of each kind the lists lead to (an outfall's file, a unit, a river, a sample, a draw, an
    application, a permit, a plan, a case, a campaign, the public outfall page...): the first of each
    in the demo data, all of which the city bureau may open. The demo has no sample import and no citizen
    report: a report's handling page is checked on a phone in test_browser_public_report."""
    from outfalls.monitoring.models import Draw, Sample, Station
    from outfalls.permits.models import DischargePermit, SetupApplication
    from outfalls.registry.disclosure import public_outfalls
    from outfalls.registry.models import DischargeUnit, Outfall, WaterBody
    from outfalls.remediation.models import MeasureProposal, Programme, RectificationPlan
    from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint, TracingCase

    def first(model, **filters):
        return model.objects.filter(**filters).order_by("pk").first()

    sampled = first(Sample, outfall__isnull=False)
    objects = [
        ("registry:outfall_detail", first(Outfall, unit_links__isnull=False)),
        ("registry:unit_detail", first(DischargeUnit)),
        ("registry:waterbody_detail", first(WaterBody, sections__isnull=False)),
        ("monitoring:outfall", sampled and sampled.outfall),
        ("monitoring:sample_detail", sampled),
        ("monitoring:station_detail", first(Station)),
        ("monitoring:draw_detail", first(Draw)),
        ("permits:application_detail", first(SetupApplication, decision__isnull=False)),
        ("permits:permit_detail", first(DischargePermit, covered__isnull=False)),
        ("remediation:plan_detail", first(RectificationPlan)),
        ("remediation:programme_detail", first(Programme)),
        ("remediation:proposal_detail", first(MeasureProposal)),
        ("survey:campaign_detail", first(Campaign)),
        ("survey:point_detail", first(SuspectedPoint)),
        ("survey:check_detail", first(FieldCheck)),
        ("survey:case_detail", first(TracingCase)),
    ]
    missing = [name for name, obj in objects if obj is None]
    assert not missing, f"the demo data has none for {missing}"
    pages = [reverse(name, args=[obj.pk]) for name, obj in objects]
    pages.append(reverse("portal:outfall", args=[public_outfalls().order_by("code").first().code]))
    return pages


def test_every_menu_page_fits_a_phone_and_forms_help(demo_db, live_server):
    base = live_server.url
    problems, visited = [], 0
    with chromium_context(**PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(20000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for username in DEMO_USERS:
            context.clear_cookies()
            login(page, base, username, settings.DEMO_PASSWORD)
            page.evaluate(OPEN_MENU)
            problems += [f"{username} (open menu): {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
            for path in menu_pages(page):
                page.goto(base + path)
                if path == reverse("maps:map"):
                    check_map(page)
                problems += [f"{username} {path}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
                visited += 1
                if path in REVIEWED.get(username, {}):
                    os.makedirs(SCREENSHOTS, exist_ok=True)
                    shot = f"phone-{username}-{REVIEWED[username][path]}.png"
                    page.screenshot(path=os.path.join(SCREENSHOTS, shot), full_page=True)
        assert visited >= 150  # 8 roles × their menus (about 24 pages each)
        # ... and one page of each kind the lists lead to, as the city bureau.
        context.clear_cookies()
        login(page, base, "bureau", settings.DEMO_PASSWORD)
        for path in detail_pages():
            page.goto(base + path)
            problems += [f"bureau {path}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
        assert not problems, "\n".join(problems[:30])
        # The check sees what it looks for: a box wider than the screen, a table squeezed outside a scroller.
        page.evaluate(
            """() => document.querySelector("main").insertAdjacentHTML("beforeend",
                '<div id="wide" style="width: 600px">宽</div>' +
                '<table id="squeezed"><tr>' + '<td>入河排污口名称</td>'.repeat(12) + '</tr></table>')"""
        )
        found = page.evaluate(LAYOUT_PROBLEMS)
        assert any("div#wide" in p for p in found)
        assert any("a table outside a sideways-scrolling box: table#squeezed" in p for p in found)
        assert any("a cell narrower than four characters: td «入河排污口名称»" in p for p in found)

        # Pick-lists narrow as one chooses: the ledger's filter (county → town, level 1 → level 2) ...
        context.clear_cookies()
        login(page, base, "bureau", settings.DEMO_PASSWORD)
        page.goto(base + reverse("registry:outfall_list"))
        pingcheng = Jurisdiction.objects.get(code="140213")
        page.select_option("#id_county", pingcheng.code)
        towns = page.eval_on_selector_all("#id_town option", "options => options.map((o) => o.value)")
        expected = Jurisdiction.objects.filter(level="town", county=pingcheng).values_list("code", flat=True)
        assert towns == ["", "null", *sorted(expected)]
        page.select_option("#id_town", towns[2])
        page.select_option("#id_county", "140215")  # another county: the town chosen no longer fits
        assert page.input_value("#id_town") == ""
        page.select_option("#id_type_code", "YH")
        level2 = page.eval_on_selector_all("#id_type_level2 option", "options => options.map((o) => o.value)")
        assert level2 == ["", "null", *[l2 for l2, code in LEVEL2_CODE.items() if code == "YH"]]
        # ... and a new outfall: county → town → village, level 2 → level 3.
        page.goto(base + reverse("registry:outfall_create"))
        page.select_option("#id_county", str(pingcheng.pk))
        town = Jurisdiction.objects.filter(level="town", county=pingcheng).order_by("code").first()
        page.select_option("#id_town", str(town.pk))
        villages = page.eval_on_selector_all("#id_village option", "options => options.map((o) => o.value)")
        expected = Jurisdiction.objects.filter(level="village", parent=town).values_list("pk", flat=True)
        assert sorted(villages[1:]) == sorted(map(str, expected)) and villages[0] == ""
        page.select_option("#id_type_code", "GY")
        page.select_option("#id_type_level2", "industrial_mining")
        level3 = page.eval_on_selector_all("#id_type_level3 option", "options => options.map((o) => o.value)")
        assert level3 == ["", "industrial_enterprise", "mine", "tailings"]

        # A refused form: the page says why; reloading it asks the server for the page, not the form again.
        documents = []
        page.on("request", lambda r: documents.append(r.method) if r.resource_type == "document" else None)
        page.click("main form[method=post] button[type=submit]")
        page.wait_for_selector(".invalid-feedback")
        assert documents == ["POST"]
        page.reload()
        page.wait_for_selector("#id_county")
        assert documents == ["POST", "GET"]
        assert page.url == base + reverse("registry:outfall_create")
    assert errors == []
