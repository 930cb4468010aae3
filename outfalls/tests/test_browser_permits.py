"""In a real Chromium, the setup review end to end: the enterprise applies on a phone (390×844) for a new
outfall by the 御河 dykes in a zone below its target, uploads its materials and submits; 平城区 forwards it;
the bureau records the water authority's opinion with its reply letter, then approves; the ledger shows the
new outfall registered with the approval number."""

import pytest
from shapely.geometry import shape

from outfalls.core.models import StatusChange
from outfalls.geo.linref import RiverLine
from outfalls.permits.choices import ApplicationStatus
from outfalls.permits.models import SetupApplication
from outfalls.registry.models import WaterBody

from .browser import DESKTOP, PHONE, chromium_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = {"name": "材料.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% browser test\n"}


def by_the_dykes():
    water = WaterBody.objects.get(code="YUH01")
    line = shape(water.geometry)
    river = RiverLine(line)
    point = river.frame.geometry(line).interpolate(40_500)
    lon, lat = river.frame.lonlat(point.x + 40, point.y + 40)
    return water, float(lon), float(lat)


def status_of(page):
    return page.inner_text("[data-testid=application-status]").strip()


def test_setup_review_in_the_browser(demo_db, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    water, lon, lat = by_the_dykes()

    # The enterprise, on its phone.
    with chromium_context(**PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(20000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, base, "enterprise", settings.DEMO_PASSWORD)
        page.goto(f"{base}/permits/applications/new/")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
        # The change items are four small checkboxes with their labels, not text boxes.
        box = page.locator("#id_change_items_0").bounding_box()
        assert box["width"] < 30 and page.locator("label[for=id_change_items_0]").inner_text() == "位置"
        # The location picker draws the configured base map (no script error on the form).
        page.wait_for_selector("[data-testid=location-picker] .leaflet-container, .leaflet-container")
        assert errors == []
        page.select_option("#id_kind", "new")
        page.fill("#id_outfall_name", "山橡集团新建生产线排污口")
        page.select_option("#id_type_level2", "industrial_mining")
        page.select_option("#id_entry_mode", "pipe")
        page.select_option("#id_discharge_mode", "continuous")
        page.fill("#id_coord_text", f"{lon:.6f}, {lat:.6f}")
        page.select_option("#id_water_body", str(water.pk))
        page.fill("#id_daily_volume_m3", "300")
        page.fill("#id_exception_reason", "原厂区排口迁建合并，排放量不增加")
        page.fill("#id_pollutants-0-parameter", "化学需氧量")
        page.fill("#id_pollutants-0-concentration", "50")
        page.fill("#id_pollutants-1-parameter", "氨氮")
        page.fill("#id_pollutants-1-concentration", "5")
        page.click("[data-testid=application-save]")
        page.wait_for_selector("[data-testid=materials]")
        application = SetupApplication.objects.get(outfall_name="山橡集团新建生产线排污口")
        assert status_of(page) == "草稿" and application.procedure == "approval"
        assert abs(application.lon - lon) < 1e-6
        checks = page.locator("[data-testid=check-results]")
        assert (
            checks.locator("[data-testid=check-zone_below_target]").get_attribute("data-outcome") == "control"
        )
        assert (
            checks.locator("[data-testid=check-consultation_needed]").get_attribute("data-outcome")
            == "consult"
        )
        for item in ("application_form", "assessment", "site_plan"):
            form = page.locator(f"[data-testid=material-form-{item}]")
            form.locator("input[type=file]").set_input_files({**PDF, "name": f"{item}.pdf"})
            form.locator("button[type=submit]").click()
            page.wait_for_selector(f"[data-testid=material-{item}] >> text=已上传 1 份")
        page.click("[data-testid=application-submit]")
        page.wait_for_selector("text=已提交，等待县区转报")
        assert status_of(page) == "待县区转报"
        # Lists on the phone scroll sideways inside their box: rows stay one line high (a 22-character permit
        # number and the unit's name do not wrap into a column of single characters).
        for url, table in (
            ("/permits/permits/", "permit-table"),
            ("/permits/applications/", "application-table"),
        ):
            page.goto(f"{base}{url}")
            heights = page.eval_on_selector_all(
                f"[data-testid={table}] tbody tr", "rows => rows.map(r => r.getBoundingClientRect().height)"
            )
            assert heights and max(heights) < 45, (url, heights)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1

    with chromium_context(**DESKTOP) as context:
        page = context.new_page()
        page.set_default_timeout(20000)
        detail = f"{base}/permits/applications/{application.pk}/"

        # 平城区 forwards it from its to-do list.
        login(page, base, "pingcheng", settings.DEMO_PASSWORD)
        page.goto(f"{base}/permits/todo/")
        page.click(f"[data-testid=todo-to_forward] a[href='/permits/applications/{application.pk}/']")
        page.fill("#id_forward-note", "材料齐全，同意转报")
        page.click("[data-testid=application-forward]")
        page.wait_for_selector("[data-testid=countdown]")
        assert status_of(page) == "市局审查中" and "剩余" in page.inner_text("[data-testid=countdown]")

        # The bureau: the decision waits for the water authority; it is consulted, then it decides.
        page.context.clear_cookies()
        login(page, base, "bureau", settings.DEMO_PASSWORD)
        page.goto(detail)
        assert "须先征求" in page.inner_text("[data-testid=consultation-missing]")
        consult = page.locator("[data-testid=consultation-form]")
        assert (
            consult.locator("#id_consult-authority").input_value() == "大同市水务局"
        )  # from the nearest dyke
        today = page.locator("#id_consult-sent_on").input_value()
        consult.locator("#id_consult-replied_on").fill(today)
        consult.locator("#id_consult-opinion").select_option("agree")
        consult.locator("#id_consult-reply").fill("经审查，不影响堤防安全，同意设置。")
        consult.locator("#id_consult-files").set_input_files({**PDF, "name": "回复函.pdf"})
        consult.locator("button[type=submit]").click()
        page.wait_for_selector("text=已记录意见征询")
        assert page.locator("[data-testid=consultation-missing]").count() == 0
        decide = page.locator("[data-testid=decision-form]")
        decide.locator("#id_decide-outcome").select_option("approve")
        decide.locator("#id_decide-number").fill("同环排口审〔2026〕21号")
        decide.locator("#id_decide-conditions").fill("设置规范化采样点和标识牌")
        page.click("[data-testid=application-decide]")
        page.wait_for_selector("text=已作出决定，台账已更新")
        assert status_of(page) == "已批准"
        assert page.inner_text("[data-testid=decision-number]") == "同环排口审〔2026〕21号"

        # The ledger shows the new outfall, registered with the approval, and its file links the application.
        page.click("[data-testid=application-outfall]")
        page.wait_for_selector("[data-testid=permits-panel]")
        text = page.inner_text("main")
        assert "已登记建档" in text and "同环排口审〔2026〕21号" in text and application.number in text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    outfall = application.outfall
    assert outfall.registered and outfall.approval_number == "同环排口审〔2026〕21号"
    assert StatusChange.objects.filter(object_id=outfall.pk, field="approval_number").exists()
