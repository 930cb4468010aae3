"""Script and formula injection: payloads planted in every text field a user can write run no script in any
page, map, tooltip, popup or chart, and come out of no export as a formula.

The payloads go into every free-text column of every model a user sees (names, landmarks, notes, outlet
descriptions, units' addresses and contacts, reach names, point numbers and descriptions, campaign names,
tracing findings, plan actions and notes, proposal reasons, programme names, water bodies, sections,
protection areas, departments, jurisdictions, people's names), as the database would hold them whichever
way they came in (forms, imports, the admin). Each field gets one of the payloads, cycling over the rows.

- `test_exports_hold_no_formula`: every xlsx export opened with openpyxl has no formula or error cell
  and keeps numbers and dates typed; every CSV export has no field a spreadsheet would run as a formula;
  the ledger CSV reads back through the import's reader as it was; the notice .docx holds no field code.
- `test_planted_payloads_run_no_script`: Chromium opens every list and detail page, the one map (points,
  units, chains, rivers, sections, areas, boundaries), campaign and coverage maps, the field page, the
  location picker, the OGC HTML pages, the charts, the admin, the ledger and GIS import previews; opens
  every Leaflet tooltip and popup and every chart tooltip, hovers a marker for real, and asserts that no
  payload ran (no dialog, no `window.__xss`), no payload was parsed as HTML at all (no request for the
  payloads' image /xss-probe.png, no Content-Security-Policy violation) and no script error happened.
"""

import csv
import io
import json
import re
import zipfile
from datetime import date

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import models
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from simple_history.utils import bulk_update_with_history

from outfalls.core.choices import JobKind
from outfalls.core.models import Job
from outfalls.registry.ledger_reader import read_table
from outfalls.registry.models import Outfall, WaterBody
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.test_ledger_import import new_row
from outfalls.remediation.models import MeasureProposal, Programme, RectificationPlan
from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint, TracingCase

from .browser import DESKTOP, chromium_context, isolated_outfall, login

XSS = (
    "<img src=/xss-probe.png onerror=window.__xss=1>",
    '"><svg onload=window.__xss=2>',
    "'><img src=/xss-probe.png onerror=alert(3)>",
    "<script>window.__xss=4</script>",
    "<svg onload=__xss=5>",
)
FORMULAS = (
    '=HYPERLINK("http://x.invalid","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://x.invalid","<img src=/xss-probe.png onerror=alert(6)>")',
)
PAYLOADS = tuple(p for pair in zip(XSS + XSS, FORMULAS, strict=False) for p in pair)

# Models whose text a user writes (forms, imports, the admin), and the columns that are not free text
# anyone types: identifiers in URLs, values the system writes, coordinate systems.
PLANTED_MODELS = (
    "core.Jurisdiction",
    "core.Department",
    "core.Attachment",
    "core.StatusChange",
    "core.Deadline",
    "registry.WaterBody",
    "registry.Section",
    "registry.DischargeUnit",
    "registry.Outfall",
    "registry.OutfallUnitLink",
    "registry.ProtectedArea",
    "registry.SewerCoverageArea",
    "survey.Campaign",
    "survey.CampaignReach",
    "survey.SuspectedPoint",
    "survey.FieldCheck",
    "survey.TracingCase",
    "survey.TracingStep",
    "remediation.MeasureProposal",
    "remediation.Programme",
    "remediation.RectificationPlan",
    "remediation.ProgressUpdate",
    "registry.WaterFunctionZone",
    "registry.WaterWorks",
    "permits.SetupApplication",
    "permits.ApplicationPollutant",
    "permits.ApplicationMaterial",
    "permits.Consultation",
    "permits.Decision",
    "permits.DecisionCondition",
    "permits.DischargePermit",
    "permits.PermitOutfall",
    "permits.PermitLimit",
    "permits.MonitoringDuty",
    "auth.User",
)
NOT_TYPED = {
    "core.Jurisdiction": {"code"},  # in the jurisdiction pages' URLs, validated digits
    "core.StatusChange": {"field", "from_value", "to_value"},  # stored choice values, written by services
    "registry.Outfall": {"source_key"},  # the import's internal matching key
    "auth.User": {"username", "password", "email"},
}

PROBE = "/xss-probe.png"
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def text_fields(model):
    skip = NOT_TYPED.get(model._meta.label, set())
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and f.name not in skip
    ]


def payload_for(index, max_length, pk):
    """The index-th payload (cycling) with the row's id, or the next one that fits the column."""
    for step in range(len(PAYLOADS)):
        value = f"{PAYLOADS[(index + step) % len(PAYLOADS)]} #{pk}"
        if max_length is None or len(value) <= max_length:
            return value
    return None


def plant_payloads():
    """Write a payload into every free-text column of every row of PLANTED_MODELS (history kept, so the
    ledger as of today and the change lists hold them too). Returns {model label: columns planted}."""
    planted = {}
    for label in PLANTED_MODELS:
        model = apps.get_model(label) if label != "auth.User" else get_user_model()
        fields = text_fields(model)
        rows = list(model.objects.order_by("pk"))
        used = set()
        for i, row in enumerate(rows):
            for j, field in enumerate(fields):
                value = payload_for(i + j, field.max_length, row.pk)
                if value is not None:
                    setattr(row, field.attname, value)
                    used.add(field.name)
        names = sorted(used)
        if not rows or not names:
            continue
        if hasattr(model, "history"):
            bulk_update_with_history(rows, model, names, batch_size=200, default_change_reason="payloads")
        else:
            model.objects.bulk_update(rows, names, batch_size=200)
        planted[label] = names
    caches["maps"].clear()
    return planted


def live_formula(text):
    """What a spreadsheet runs as a formula when it opens a CSV: = + - @ first (also after spaces), or a
    tab or CR first; plain numbers such as -5 are numbers."""
    stripped = text.lstrip(" ")
    if text[:1] in ("\t", "\r"):
        return True
    return (
        stripped[:1] in ("=", "+", "-", "@")
        and stripped not in ("-", "+")
        and not PLAIN_NUMBER.fullmatch(stripped)
    )


# Exports ------------------------------------------------------------------------------------------------
@pytest.fixture
def planted(db):
    return plant_payloads()


def test_payloads_reach_every_typed_column(planted):
    # The fields the issue names are all planted (a column that fits no payload would be left out).
    expected = {
        "registry.Outfall": {"name", "landmark", "notes", "outlet_description", "national_code"},
        "registry.DischargeUnit": {"name", "address", "contact", "notes"},
        "survey.CampaignReach": {"name"},
        "survey.SuspectedPoint": {"number", "description"},
        "survey.Campaign": {"name"},
        "survey.TracingStep": {"findings"},
        "remediation.RectificationPlan": {"actions", "submission_note", "return_reason"},
        "remediation.MeasureProposal": {"override_reason", "reason"},
        "remediation.Programme": {"name"},
        "registry.WaterBody": {"name"},
        "registry.WaterFunctionZone": {"name", "code"},
        "permits.SetupApplication": {"outfall_name", "exception_reason", "description", "national_basis"},
        "permits.Decision": {"number", "conditions", "reasons", "withheld_reason"},
        "permits.DischargePermit": {"number", "issued_by", "disclosure"},
        "permits.PermitLimit": {"parameter", "unit", "standard"},
    }
    for label, fields in expected.items():
        assert fields <= set(planted[label]), label
    assert Outfall.objects.filter(name__startswith="=HYPERLINK").exists()
    assert WaterBody.objects.filter(name__contains="<").exists()


def _xlsx_cells(content):
    workbook = load_workbook(io.BytesIO(content))
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            yield from row


def _csv_fields(content):
    text = content.decode("utf-8-sig")
    for record in csv.reader(io.StringIO(text, newline="")):
        yield from record


def _content(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_exports_hold_no_formula(planted, client_for):
    client = client_for("city_admin")
    today = timezone.localdate().isoformat()
    xlsx = {
        "ledger": (reverse("registry:outfall_export"), {"format": "xlsx"}),
        "ledger as of today": (reverse("registry:outfall_export"), {"format": "xlsx", "as_of": today}),
        "retained list": (reverse("remediation:retained_export"), {}),
        "survey progress": (reverse("survey:progress_export", args=["xlsx"]), {}),
    }
    csvs = {
        "ledger": (reverse("registry:outfall_export"), {"format": "csv"}),
        "ledger as of today": (reverse("registry:outfall_export"), {"format": "csv", "as_of": today}),
        "survey progress": (reverse("survey:progress_export", args=["csv"]), {}),
        "borrowed outfalls": (reverse("survey:borrowed_export"), {}),
        "plans": (reverse("remediation:plan_export"), {}),
        "setup applications": (reverse("permits:application_export"), {}),
    }
    for name, (url, params) in xlsx.items():
        response = client.get(url, params)
        assert response.status_code == 200, name
        cells = list(_xlsx_cells(_content(response)))
        formulas = [c.coordinate for c in cells if c.data_type in ("f", "e")]
        assert not formulas, f"{name}: formula or error cells {formulas[:5]}"
        looks_like = [c for c in cells if isinstance(c.value, str) and live_formula(c.value)]
        assert looks_like, f"{name}: no planted formula text reached the export"
        bare = [
            (c.coordinate, c.value, c.data_type)
            for c in looks_like
            if c.data_type != "s" or not c.quotePrefix
        ]
        assert not bare, f"{name}: formula-like text without the quote prefix {bare[:5]}"
        numbers = [c for c in cells if isinstance(c.value, int | float) and not isinstance(c.value, bool)]
        assert numbers and all(c.data_type == "n" for c in numbers), f"{name}: numbers must stay numbers"
        if name.startswith("ledger"):
            assert any(c.data_type == "d" and isinstance(c.value, date) for c in cells), "dates stay dates"
    for name, (url, params) in csvs.items():
        response = client.get(url, params)
        assert response.status_code == 200, name
        fields = list(_csv_fields(_content(response)))
        live = [f for f in fields if live_formula(f)]
        assert not live, f"{name}: live formulas {live[:5]}"
        escaped = [f for f in fields if f.startswith("'") and live_formula(f[1:])]
        assert escaped, f"{name}: no planted formula text reached the export"

    # The ledger CSV reads back through the import's reader as the names were written (the export trims
    # the spaces around a cell's text, as before).
    content = _content(client.get(reverse("registry:outfall_export"), {"format": "csv"}))
    table = read_table(io.BytesIO(content), filename="ledger.csv")
    names = {raw.values["name"] for raw in table.rows()}
    assert names == {name.strip() for name in Outfall.objects.values_list("name", flat=True)}
    assert any(n.startswith("=HYPERLINK") for n in names)

    # The notice: planted names appear as text, and the document has no field (a field code is a formula).
    started = client.post(reverse("remediation:notice"))  # made on the task queue (inline in tests)
    assert started.status_code == 302
    job = Job.objects.filter(kind=JobKind.NOTICE).latest("pk")
    response = client.get(reverse("core:job_download", args=[job.pk]))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as docx:
        parts = {n: docx.read(n).decode("utf-8") for n in docx.namelist() if n.endswith(".xml")}
    # The only fields are the page numbers the notice puts in its footers (GB/T 9704), never typed text.
    xml = "".join(text for name, text in parts.items() if not name.startswith("word/footer"))
    assert "fldSimple" not in xml and "instrText" not in xml and "fldChar" not in xml
    footers = "".join(text for name, text in parts.items() if name.startswith("word/footer"))
    assert re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", footers) == [" PAGE ", " PAGE "]
    assert "fldSimple" not in footers
    assert "xss-probe.png" in xml or "HYPERLINK" in xml or "svg onload" in xml


# Browser ------------------------------------------------------------------------------------------------
# Before any page script: record CSP violations, and keep every Leaflet map a page makes (to open all of
# its tooltips and popups).
INIT_SCRIPT = """
(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sample || ""));
  });
  let leaflet;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return leaflet; },
    set(value) {
      leaflet = value;
      if (value && value.Map && !value.__kept) {
        value.__kept = true;
        value.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      }
    },
  });
})();
"""

# Open every tooltip and popup of every layer of every map, and every chart's tooltip at every category.
SWEEP_SCRIPT = """
() => {
  let opened = 0;
  const failures = [];
  for (const map of window.__maps || []) {
    const layers = [];
    map.eachLayer((layer) => layers.push(layer));
    for (const layer of layers) {
      try {
        if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); opened++; }
        if (layer.getPopup && layer.getPopup()) { layer.openPopup(); opened++; }
      } catch (e) { failures.push(String(e)); }
    }
  }
  if (window.echarts) {
    document.querySelectorAll("[_echarts_instance_]").forEach((node) => {
      const chart = echarts.getInstanceByDom(node);
      const axis = (chart.getOption().xAxis || [])[0];
      ((axis && axis.data) || []).forEach((_, i) => {
        chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: i });
        opened++;
      });
    });
  }
  return { opened, failures };
}
"""


def _pages(live_server):
    outfall = isolated_outfall(Outfall.objects.filter(unit_links__isnull=False).distinct())
    case = TracingCase.objects.order_by("pk").first()
    plan = RectificationPlan.objects.order_by("pk").first()
    campaign = Campaign.objects.order_by("pk").first()
    point = SuspectedPoint.objects.order_by("pk").first()
    check = FieldCheck.objects.order_by("pk").first()
    proposal = MeasureProposal.objects.order_by("pk").first()
    programme = Programme.objects.order_by("pk").first()
    unit = outfall.unit_links.order_by("pk").first().unit
    water = WaterBody.objects.order_by("pk").first()
    county = outfall.county
    from outfalls.permits.models import DischargePermit, SetupApplication

    decided = SetupApplication.objects.filter(decision__items__isnull=False).order_by("pk").first()
    consulting = SetupApplication.objects.filter(consultations__isnull=False).order_by("pk").first()
    permit = DischargePermit.objects.filter(covered__isnull=False).order_by("pk").first()
    u = reverse
    return [
        u("registry:outfall_list"),
        u("registry:outfall_list") + "?q=%3Csvg",
        u("registry:outfall_detail", args=[outfall.pk]),
        u("registry:outfall_detail", args=[case.outfall_id]),
        u("registry:outfall_detail", args=[plan.outfall_id]),
        u("registry:outfall_edit", args=[outfall.pk]),
        u("registry:unit_list"),
        u("registry:unit_detail", args=[unit.pk]),
        u("registry:unit_edit", args=[unit.pk]),
        u("registry:waterbody_list"),
        u("registry:waterbody_detail", args=[water.pk]),
        u("registry:section_list"),
        u("registry:finding_list"),
        u("core:jurisdiction_list"),
        u("core:jurisdiction_detail", args=[county.code]),
        u("survey:campaign_list"),
        u("survey:campaign_detail", args=[campaign.pk]),
        u("survey:campaign_edit", args=[campaign.pk]),
        u("survey:point_detail", args=[point.pk]),
        u("survey:check_detail", args=[check.pk]),
        u("survey:field_home"),
        u("survey:field_page", args=[campaign.pk]),
        u("survey:case_list"),
        u("survey:case_awaiting"),
        u("survey:case_detail", args=[case.pk]),
        u("survey:borrowed_list"),
        u("survey:coverage"),
        u("survey:coverage_detail", args=[campaign.pk]),
        u("survey:reconciliation"),
        u("survey:progress"),
        u("remediation:rule_list"),
        u("remediation:proposal_list"),
        u("remediation:proposal_detail", args=[proposal.pk]),
        u("remediation:plan_list"),
        u("remediation:plan_detail", args=[plan.pk]),
        u("remediation:plan_edit", args=[plan.pk]),
        u("remediation:programme_list"),
        u("remediation:programme_detail", args=[programme.pk]),
        u("remediation:retained_list"),
        u("remediation:supervision"),
        u("remediation:dashboard"),
        u("permits:todo"),
        u("permits:application_list"),
        u("permits:application_detail", args=[decided.pk]),
        u("permits:application_detail", args=[consulting.pk]),
        u("permits:application_edit", args=[SetupApplication.objects.filter(status="draft").first().pk]),
        u("permits:decision_list"),
        u("permits:permit_list"),
        u("permits:permit_detail", args=[permit.pk]),
        u("permits:shared_findings"),
        u("registry:outfall_detail", args=[decided.outfall_id]),
        u("registry:zone_list"),
        u("registry:waterbody_detail", args=[consulting.water_body_id]),
        u("ogcapi:collections") + "?f=html",
        u("ogcapi:items", args=["outfalls"]) + "?f=html&limit=500",
        u("ogcapi:items", args=["water-bodies"]) + "?f=html",
        u("ogcapi:items", args=["sections"]) + "?f=html",
        u("ogcapi:items", args=["protected-areas"]) + "?f=html",
        u("ogcapi:item", args=["outfalls", outfall.pk]) + "?f=html",
        u("api-root") + f"outfalls/{outfall.pk}/?format=api",
        "/admin/registry/waterbody/",
        f"/admin/registry/waterbody/{water.pk}/change/",
        f"/admin/registry/outfall/{outfall.pk}/history/",
        u("accounts:home"),
        u("accounts:audit"),
        u("maps:map"),
    ], outfall


@override_settings(LEDGER_IMPORT_BACKGROUND=False)
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_planted_payloads_run_no_script(demo_db, live_server, tmp_path):
    plant_payloads()
    pages, outfall = _pages(live_server)
    base = live_server.url
    problems = []
    with chromium_context(**DESKTOP) as context:
        context.add_init_script(INIT_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(20000)
        where = {"url": "login"}

        def note(kind, text):
            problems.append(f"{where['url']}: {kind}: {text}")

        def on_dialog(dialog):
            note("dialog", dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: note("script error", error))
        page.on(
            "request", lambda r: note("HTML parsed", r.url) if r.url.split("?")[0].endswith(PROBE) else None
        )
        page.on("console", lambda m: note("console", m.text) if "Content Security Policy" in m.text else None)
        # A failed login with a payload for a user name: the login audit shows what was typed.
        page.goto(base + reverse("login"))
        page.fill("#id_username", XSS[0])
        page.fill("#id_password", "wrong-password-1")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        login(page, base, "city_admin", settings.DEMO_PASSWORD)
        # An API token named with a payload, on the 账户 page.
        page.goto(base + reverse("accounts:home"))
        page.fill("[data-testid=token-form] input[name=name]", XSS[1][:60])
        page.click("[data-testid=token-form] button[type=submit]")
        page.wait_for_selector("[data-testid=new-token]")

        opened = {}

        def check():
            page.wait_for_load_state("networkidle")
            result = page.evaluate(SWEEP_SCRIPT)
            opened[where["url"]] = result["opened"]
            for failure in result["failures"]:
                note("sweep", failure)
            page.wait_for_timeout(150)  # an <img> parsed from a payload would load and fail by now
            state = page.evaluate("() => ({xss: window.__xss, csp: window.__csp || []})")
            if state["xss"] is not None:
                note("payload ran", state["xss"])
            for violation in state["csp"]:
                note("CSP violation", violation)

        for path in pages:
            where["url"] = path
            response = page.goto(base + path)
            assert response.status < 400, f"{path}: HTTP {response.status}"
            if path.startswith(reverse("maps:map")):
                # Close in on an outfall with units: points, units and chain lines, then every layer's text.
                page.wait_for_function(
                    "() => document.getElementById('map-status').dataset.mode === 'clusters'"
                )
                page.evaluate(
                    """([lat, lon]) => {
                        mapPage.map.setView([lat, lon], 17, {animate: false});
                        mapPage.map.addLayer(mapPage.overlays.units.layer);
                        mapPage.map.addLayer(mapPage.overlays.chains.layer);
                        mapPage.map.addLayer(mapPage.overlays.sewer.layer);
                    }""",
                    [outfall.lat, outfall.lon],
                )
                page.wait_for_function(
                    "() => document.getElementById('map-status').dataset.mode === 'points'"
                )
                marker = page.locator(f'path[data-outfall-id="{outfall.pk}"]')
                marker.hover()  # as a user would: the tooltip shows the name
                # (the marker's tooltip, not a county's name: with the offline base those are hidden)
                page.wait_for_selector(".leaflet-tooltip:not(.boundary-label)")
                shown = page.locator(".leaflet-tooltip").all_inner_texts()
                if not any(outfall.name.strip() in text for text in shown):
                    note("tooltip", f"the name is not shown as text: {shown}")
                marker.click()
                page.wait_for_selector("[data-testid=popup-detail-link]")
            if "/survey/campaigns/" in path and path.rstrip("/").split("/")[-1].isdigit():
                page.wait_for_function(
                    "() => document.getElementById('campaign-map').dataset.points !== undefined"
                )
            check()
        # Tooltips and popups opened (Leaflet) and chart tooltips shown (ECharts) on the pages that have them.
        u = reverse
        for path in (
            u("maps:map"),
            u("survey:campaign_detail", args=[Campaign.objects.order_by("pk").first().pk]),
            u("survey:field_page", args=[Campaign.objects.order_by("pk").first().pk]),
            u("survey:progress"),
            u("remediation:dashboard"),
            u("ogcapi:items", args=["outfalls"]) + "?f=html&limit=500",
            u("registry:outfall_edit", args=[outfall.pk]),
        ):
            assert opened[path] > 0, path
        assert opened[u("maps:map")] > 20  # outfalls, units, chains, rivers, sections, areas, boundaries

        # The ledger import: a file whose name and cells are payloads, previewed row by row.
        where["url"] = "ledger import"
        rows = [new_row(1, name=XSS[0]), new_row(2, name=FORMULAS[0], responsible_entity=XSS[1])]
        path = ledger_files.write_csv(tmp_path / f"{XSS[4]}.csv", rows).path
        page.goto(base + reverse("registry:import_list"))
        page.set_input_files("input[type=file]", str(path))
        page.click("[data-testid=upload-form] button[type=submit]")
        page.wait_for_selector("[data-testid=import-counts]")
        check()
        page.goto(base + reverse("registry:import_list"))
        check()

        # The GIS import preview of rivers named with payloads.
        where["url"] = "GIS import"
        geojson = tmp_path / f"{XSS[4]}.geojson"
        line = {"type": "LineString", "coordinates": [[113.3, 40.0], [113.4, 40.1]]}
        features = [
            {"type": "Feature", "properties": {"name": p}, "geometry": line} for p in XSS + FORMULAS[:1]
        ]
        geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        page.goto(base + reverse("gis:import"))
        page.set_input_files("input[type=file]", str(geojson))
        page.select_option("select[name=kind]", "rivers")
        page.click("[data-testid=gis-upload-form] button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert XSS[0] in page.inner_text("body")
        check()

    assert not problems, "\n".join(problems[:40])
