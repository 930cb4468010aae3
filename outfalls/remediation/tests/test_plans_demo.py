"""The demo plans (loaded with the session's demo data) agree with the ledger, and a second load adds nothing."""

import io
from datetime import date

import pytest

from outfalls.registry.choices import CLOSEOUT_STATUS as OUTCOME
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure
from outfalls.remediation import demo_plans, supervision
from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import Programme, RectificationPlan
from outfalls.remediation.services import evidence_for

pytestmark = pytest.mark.django_db


def test_demo_plans_agree_with_the_ledger():
    plans = list(RectificationPlan.objects.select_related("outfall"))
    by_status = {s: [p for p in plans if p.status == s] for s in PlanStatus.values}
    assert len(plans) >= 30
    assert len(by_status[PlanStatus.RETURNED]) == 1 and by_status[PlanStatus.RETURNED][0].return_reason
    assert by_status[PlanStatus.SUBMITTED] and by_status[PlanStatus.APPROVED]
    for plan in by_status[PlanStatus.APPROVED]:
        assert plan.outfall.status == OUTCOME[RectificationMeasure(plan.measure)]
        if plan.measure == RectificationMeasure.MERGE:
            assert plan.merge_target_id and plan.outfall.merged_into_id == plan.merge_target_id
    for plan in by_status[PlanStatus.IN_PROGRESS] + by_status[PlanStatus.SUBMITTED]:
        assert plan.outfall.status == LifecycleStatus.RECTIFYING
    for plan in by_status[PlanStatus.SUBMITTED]:
        assert plan.percent_done == 100 and evidence_for(plan).exists()
    assert {p.kind for p in Programme.objects.filter(plans__isnull=False)} >= {"black_odorous", "park"}
    assert supervision.totals(None, date(2025, 1, 1)).overdue > 0


def test_demo_plans_load_again_creates_nothing():
    before = RectificationPlan.objects.count()
    out = io.StringIO()
    demo_plans.load_demo(out)
    assert RectificationPlan.objects.count() == before
    assert "新建整治方案 0 个" in out.getvalue()
