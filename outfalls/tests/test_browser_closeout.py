"""In a real Chromium, the whole close-out: the rules propose (remediation.proposals.run_rules), the county
accepts on the proposal page, makes the plan, reports progress with a photo and submits; the bureau returns
it with a reason; the county resubmits; the bureau approves; the outfall is in the retained list or not,
depending on its measure."""

import io

import pytest
from django.conf import settings
from PIL import Image

from outfalls.registry.choices import CLOSEOUT_STATUS as OUTCOME
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure
from outfalls.remediation.choices import PlanStatus, ProposalStatus
from outfalls.remediation.models import MeasureProposal, RectificationPlan
from outfalls.remediation.proposals import run_rules

from .browser import browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PLANNABLE = (LifecycleStatus.TRACED, LifecycleStatus.CLASSIFIED, LifecycleStatus.RECTIFYING)


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 120, 80)).save(buffer, format="JPEG")
    return {"name": "整治后.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def login_as(page, base, username):
    page.context.clear_cookies()  # log the previous user out
    login(page, base, username, settings.DEMO_PASSWORD)


def status_of(page):
    return page.inner_text("[data-testid=plan-status]").strip()


def test_closeout_in_the_browser(demo_db, live_server, browser_page, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    run_rules(user=None, county="140213")
    proposal = (
        MeasureProposal.objects.filter(
            outfall__county__code="140213",
            outfall__status__in=PLANNABLE,
            outfall__rectification_plan__isnull=True,
            status=ProposalStatus.PENDING,
        )
        .select_related("outfall")
        .order_by("outfall__code")
        .first()
    )
    assert proposal is not None, "the rules propose a measure for at least one plannable 平城区 outfall"
    outfall = proposal.outfall
    page = browser_page
    base = live_server.url

    # The county officer accepts the proposal and makes the plan from it.
    login(page, base, "pingcheng", settings.DEMO_PASSWORD)
    page.goto(f"{base}/remediation/proposals/{proposal.pk}/")
    page.click("[data-testid=accept-form] button[type=submit]")
    page.wait_for_selector("text=已采纳建议")
    page.click("[data-testid=plan-link]")
    page.wait_for_selector("[data-testid=plan-form]")
    assert page.input_value("#id_measure") == proposal.measure
    page.fill("#id_actions", "设置标识牌、规范采样点（浏览器测试）")
    page.fill("#id_deadline", "2030-12-31")  # the demo city's deadline has passed: no default
    if not page.input_value("#id_responsible_unit"):
        page.fill("#id_responsible_org", "平城区住房和城乡建设局")
    if proposal.measure == RectificationMeasure.MERGE:
        page.select_option("#id_merge_target", index=1)
    page.click("[data-testid=plan-form] button[type=submit]")
    page.wait_for_selector("text=已制定整治方案")
    plan = RectificationPlan.objects.get(outfall=outfall)
    assert status_of(page) == "整治中"

    # Progress with a photo, then the close-out request.
    page.fill("#id_percent", "100")
    page.fill("#id_note", "整治完成，标识牌已设置")
    page.set_input_files("#id_photos", [jpeg()])
    page.click("[data-testid=progress-form] button[type=submit]")
    page.wait_for_selector("text=已填报进展")
    assert page.locator("[data-testid=progress-timeline] img").count() == 1
    assert page.inner_text("[data-testid=plan-percent]").strip() == "100%"
    assert page.locator("[data-testid=approve-form]").count() == 0  # a county cannot approve
    page.click("[data-testid=submit-form] button[type=submit]")
    page.wait_for_selector("text=已提交销号申请")
    assert status_of(page) == "已申请销号"

    # The bureau returns it with a reason.
    login_as(page, base, "bureau")
    page.goto(f"{base}/remediation/plans/{plan.pk}/")
    page.fill("#id_return-reason", "请补充标识牌近景照片")
    page.click("[data-testid=return-form] button[type=submit]")
    page.wait_for_selector("text=已退回销号申请")
    assert status_of(page) == "销号退回"

    # The county sees the reason and resubmits.
    login_as(page, base, "pingcheng")
    page.goto(f"{base}/remediation/plans/{plan.pk}/")
    assert "请补充标识牌近景照片" in page.inner_text("[data-testid=return-reason]")
    page.set_input_files("#id_files", [jpeg()])
    page.click("[data-testid=submit-form] button[type=submit]")
    page.wait_for_selector("text=已提交销号申请")

    # The bureau approves.
    login_as(page, base, "bureau")
    page.goto(f"{base}/remediation/plans/{plan.pk}/")
    if page.locator("[data-testid=closeout-gaps]").count():
        # What the plan promised and the ledger does not record yet is shown; approving needs a confirmation.
        page.click("[data-testid=approve-form] button[type=submit]")
        page.wait_for_selector("text=尚未完成")
        page.check("#id_accept_gaps")
        page.fill("#id_note", "标识牌已订制待安装，先行销号")
    page.click("[data-testid=approve-form] button[type=submit]")
    page.wait_for_selector("text=已通过销号")
    assert status_of(page) == "已销号"
    history = page.inner_text("[data-testid=plan-history]")
    assert history.count("→ 已申请销号") == 2 and "→ 销号退回" in history and "→ 已销号" in history
    plan.refresh_from_db()
    outfall.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED

    # In the retained list (kept) or not (merged, removed).
    kept = proposal.measure in (RectificationMeasure.REGULARISE, RectificationMeasure.NONE)
    assert outfall.status == OUTCOME[proposal.measure]
    if proposal.measure == RectificationMeasure.MERGE:
        assert outfall.merged_into == plan.merge_target is not None
    page.goto(f"{base}/remediation/retained/?q={outfall.code}")
    assert page.inner_text("[data-testid=result-count]").strip() == f"共 {1 if kept else 0} 个保留排污口"
