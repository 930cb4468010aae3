"""The close-out path through the services: propose, accept, plan, progress with a photo, submit, return,
resubmit, approve; and every refusal on the way."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline
from outfalls.core.services import status_changes_for
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure, RectificationStatus
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall
from outfalls.remediation import services
from outfalls.remediation.choices import PlanStatus, ProposalStatus
from outfalls.remediation.models import RectificationPlan

from .plan_helpers import (
    YUNZHOU,
    city_deadline_ahead,
    document,
    free_outfall,
    merge_target,
    pending_proposal,
    png,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def deadline_ahead(db):
    city_deadline_ahead()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def accept(proposal, user):
    from outfalls.remediation.proposals import accept_proposal

    return accept_proposal(proposal, user=user)


def plan_for(outfall, user, **fields):
    fields.setdefault("actions", "设置标识牌、规范采样点、建设检查井")
    fields.setdefault("responsible_org", "平城区住房和城乡建设局")
    return services.create_plan(outfall, user=user, **fields)


def finish(plan, user, *, photo=True):
    return services.add_progress(
        plan,
        user=user,
        date=date.today(),
        percent=100,
        note="整治完成，已验收",
        photos=[png()] if photo else [],
    )


def plan_steps(plan):
    return [(c.from_value, c.to_value) for c in status_changes_for(plan).order_by("changed_at", "id")]


def outfall_steps(outfall):
    return [
        (c.from_value, c.to_value)
        for c in status_changes_for(outfall).filter(field="status").order_by("changed_at", "id")
    ]


def test_full_path_regularise_ends_in_the_retained_list(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    outfall = free_outfall(status=LifecycleStatus.TRACED)
    proposal = accept(pending_proposal(outfall, RectificationMeasure.REGULARISE), county)
    assert proposal.status == ProposalStatus.ACCEPTED

    plan = plan_for(outfall, county)  # measure, proposal and deadline from defaults
    assert plan.measure == RectificationMeasure.REGULARISE
    assert plan.proposal == proposal
    assert plan.deadline == Deadline.due_for(Milestone.RECTIFICATION, outfall.county_id) > date.today()
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.RECTIFYING
    assert outfall.rectification_status == RectificationStatus.IN_PROGRESS
    # TRACED → CLASSIFIED → RECTIFYING: one real change, one row naming the state passed through
    assert outfall_steps(outfall)[-1] == ("traced", "rectifying")
    assert "经：已分类" in status_changes_for(outfall).filter(field="status").first().reason

    services.add_progress(plan, user=county, date=date.today(), percent=40, note="检查井施工")
    update = finish(plan, county)
    plan.refresh_from_db()
    assert plan.percent_done == 100
    assert services.evidence_for(plan).get().object_id == update.pk

    services.submit_closeout(plan, user=county, note="已完成整治")
    services.return_closeout(plan, user=bureau, reason="缺少标识牌照片")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RETURNED and plan.return_reason == "缺少标识牌照片"
    services.submit_closeout(plan, user=county, files=[png("标识牌.png")])
    # The plan promised a sign and a registration; the ledger records neither yet.
    outfall.refresh_from_db()
    assert not outfall.sign_installed and not outfall.registered
    assert len(services.closeout_gaps(plan)) == 2
    with pytest.raises(ValidationError) as error:
        services.approve_closeout(plan, user=bureau)
    assert "未设置标识牌" in error.value.message_dict["gaps"][0]
    assert "未完成登记建档" in error.value.message_dict["gaps"][0]
    outfall.sign_installed = True  # the county updates its ledger entry
    from outfalls.registry.services import save_outfall

    save_outfall(outfall, user=county)
    plan.refresh_from_db()
    assert services.closeout_gaps(plan, register=True) == []
    services.approve_closeout(plan, user=bureau, register=True)

    plan.refresh_from_db()
    outfall.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.approved_by == bureau
    assert outfall.status == LifecycleStatus.KEPT
    assert outfall.registered  # 规范整治 → kept and registered
    assert outfall.rectification_status == RectificationStatus.COMPLETED
    assert outfall.merged_into is None
    assert plan_steps(plan) == [
        ("", "in_progress"),
        ("in_progress", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
    ]
    assert outfall_steps(outfall)[-1] == ("rectifying", "kept")
    from outfalls.remediation.plan_views import retained_rows

    assert retained_rows(county).filter(pk=outfall.pk).exists()


def test_merge_points_to_its_target_and_reopen_clears_it(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    outfall = free_outfall()
    target = merge_target(outfall)
    plan = plan_for(outfall, county, measure=RectificationMeasure.MERGE, merge_target=target)
    finish(plan, county)
    services.submit_closeout(plan, user=county)
    services.approve_closeout(plan, user=bureau)
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.MERGED
    assert outfall.merged_into == target
    from outfalls.remediation.plan_views import retained_rows

    assert not retained_rows(bureau).filter(pk=outfall.pk).exists()

    with pytest.raises(ValidationError) as error:
        services.reopen_closeout(plan, user=bureau, reason=" ")
    assert "reason" in error.value.message_dict
    services.reopen_closeout(plan, user=bureau, reason="现场复核仍有排水")
    plan.refresh_from_db()
    outfall.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS and plan.approved_at is None
    assert outfall.status == LifecycleStatus.RECTIFYING and outfall.merged_into is None
    assert outfall.rectification_status == RectificationStatus.IN_PROGRESS
    assert outfall_steps(outfall)[-1] == ("merged", "rectifying")
    assert plan_steps(plan)[-1] == ("approved", "in_progress")


def test_approval_refuses_a_merge_target_closed_out_meanwhile(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    outfall = free_outfall()
    target = merge_target(outfall)
    plan = plan_for(outfall, county, measure=RectificationMeasure.MERGE, merge_target=target)
    finish(plan, county)
    services.submit_closeout(plan, user=county)
    type(target).objects.filter(pk=target.pk).update(status=LifecycleStatus.CLOSED)
    with pytest.raises(ValidationError) as error:
        services.approve_closeout(plan, user=bureau)
    message = error.value.message_dict["merge_target"][0]
    assert str(target) in message and LifecycleStatus.CLOSED.label in message
    plan.refresh_from_db()
    outfall.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED and outfall.status == LifecycleStatus.RECTIFYING


def non_storm(**kwargs):
    return free_outfall(exclude=list(Outfall.objects.filter(type_code=TypeCode.YH)), **kwargs)


def test_remove_ends_removed_and_closed_out(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    outfall = non_storm()
    plan = plan_for(outfall, county, measure=RectificationMeasure.REMOVE)
    finish(plan, county)
    services.submit_closeout(plan, user=county)
    services.approve_closeout(plan, user=bureau)  # nothing for the ledger to record: no gaps
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.CLOSED
    assert outfall.rectification_status == RectificationStatus.COMPLETED
    row = status_changes_for(outfall).filter(field="status").first()
    assert (row.from_value, row.to_value) == ("rectifying", "closed") and "经：取缔" in row.reason


def test_an_approval_with_open_gaps_needs_a_reason(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    plan = plan_for(free_outfall(), county, measure=RectificationMeasure.REGULARISE)
    finish(plan, county)
    services.submit_closeout(plan, user=county)
    with pytest.raises(ValidationError) as error:
        services.approve_closeout(plan, user=bureau, accept_gaps=True)
    assert "note" in error.value.message_dict
    services.approve_closeout(plan, user=bureau, accept_gaps=True, note="标识牌已订制，待安装；先行销号")
    plan.outfall.refresh_from_db()
    assert plan.outfall.status == LifecycleStatus.KEPT and not plan.outfall.registered


def test_a_county_cannot_review_its_own_closeout(demo_user):
    county = demo_user("pingcheng")
    plan = plan_for(free_outfall(), county, measure=RectificationMeasure.REGULARISE)
    finish(plan, county)
    services.submit_closeout(plan, user=county)
    for step, kwargs in (
        (services.approve_closeout, {}),
        (services.return_closeout, {"reason": "x"}),
    ):
        with pytest.raises(PermissionDenied):
            step(plan, user=county, **kwargs)
    for name in ("auditor", "chengguan", "enterprise"):
        with pytest.raises(PermissionDenied):
            services.approve_closeout(plan, user=demo_user(name))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


def test_another_county_cannot_plan_or_submit(demo_user):
    pingcheng, yunzhou = demo_user("pingcheng"), demo_user("yunzhou")
    with pytest.raises(PermissionDenied):
        plan_for(free_outfall(), yunzhou, measure=RectificationMeasure.REGULARISE)
    plan = plan_for(free_outfall(county=YUNZHOU), yunzhou, measure=RectificationMeasure.REGULARISE)
    finish(plan, yunzhou)
    with pytest.raises(PermissionDenied):
        services.submit_closeout(plan, user=pingcheng)
    with pytest.raises(PermissionDenied):
        services.add_progress(plan, user=pingcheng, date=date.today(), percent=10, note="x")
    with pytest.raises(PermissionDenied):
        services.submit_closeout(plan, user=demo_user("auditor"))


def test_plan_rules(demo_user):
    county = demo_user("pingcheng")
    outfall = non_storm()

    def refused(**fields):
        with pytest.raises(ValidationError) as error:
            services.create_plan(outfall, user=county, **fields)
        return error.value.message_dict

    base = {"measure": RectificationMeasure.REGULARISE, "actions": "规范整治"}
    assert "responsible_unit" in refused(**base)
    assert "merge_target" in refused(
        **{**base, "measure": RectificationMeasure.MERGE, "responsible_org": "某局"}
    )
    assert "merge_target" in refused(
        **{**base, "measure": RectificationMeasure.MERGE, "responsible_org": "某局", "merge_target": outfall}
    )
    removed = free_outfall(status=LifecycleStatus.CLOSED)
    assert (
        "并入排口"
        in refused(
            **{
                **base,
                "measure": RectificationMeasure.MERGE,
                "responsible_org": "某局",
                "merge_target": removed,
            }
        )["merge_target"][0]
    )
    errors = refused(**base, responsible_org="某局", transitional_until=date(2025, 6, 30))
    assert "transitional_reason" in errors
    assert "actions" in refused(measure=RectificationMeasure.REGULARISE, responsible_org="某局")
    assert not RectificationPlan.objects.filter(outfall=outfall).exists()
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.CLASSIFIED  # nothing moved

    plan = services.create_plan(
        outfall,
        user=county,
        **base,
        responsible_org="某局",
        deadline=date(2024, 12, 31),
        transitional_until=date(2025, 6, 30),
        transitional_reason="等待污水管网建成",
    )
    with pytest.raises(ValidationError):
        services.create_plan(outfall, user=county, **base, responsible_org="某局")  # one plan per outfall
    suspected = free_outfall(status=LifecycleStatus.SUSPECTED)
    with pytest.raises(ValidationError) as error:
        services.create_plan(suspected, user=county, **base, responsible_org="某局")
    assert "outfall" in error.value.message_dict
    services.update_plan(plan, user=county, measure=RectificationMeasure.REMOVE)
    outfall.refresh_from_db()
    assert outfall.rectification_measure == RectificationMeasure.REMOVE


def test_progress_and_submission_rules(demo_user):
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    plan = plan_for(free_outfall(), county, measure=RectificationMeasure.REGULARISE)
    with pytest.raises(ValidationError) as error:
        services.add_progress(plan, user=county, date=date.today(), percent=101, note="x")
    assert "percent" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.add_progress(plan, user=county, date=date.today() + timedelta(days=2), percent=10, note="x")
    assert "date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.add_progress(plan, user=county, date=date.today(), percent=10, note="x", photos=[document()])
    assert "photos" in error.value.message_dict

    services.add_progress(plan, user=county, date=date.today(), percent=60, note="进行中", photos=[png()])
    with pytest.raises(ValidationError) as error:
        services.submit_closeout(plan, user=county)
    assert "percent_done" in error.value.message_dict  # 60% only

    plan2 = plan_for(free_outfall(exclude=[plan.outfall]), county, measure=RectificationMeasure.REGULARISE)
    finish(plan2, county, photo=False)
    with pytest.raises(ValidationError) as error:
        services.submit_closeout(plan2, user=county)
    assert "files" in error.value.message_dict  # no evidence
    services.submit_closeout(plan2, user=county, files=[document()])

    with pytest.raises(ValidationError):
        services.submit_closeout(plan2, user=county)  # already submitted
    with pytest.raises(ValidationError):
        services.add_progress(plan2, user=county, date=date.today(), percent=100, note="x")
    with pytest.raises(ValidationError):
        services.update_plan(plan2, user=county, actions="改")
    with pytest.raises(ValidationError) as error:
        services.return_closeout(plan2, user=bureau, reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.approve_closeout(plan, user=bureau)  # not submitted
    with pytest.raises(ValidationError):
        services.reopen_closeout(plan2, user=bureau, reason="x")  # not approved


def test_every_change_of_the_measure_leaves_a_row_on_the_outfall(demo_user):
    county = demo_user("pingcheng")
    outfall = free_outfall()
    outfall.rectification_measure = ""
    outfall.save(update_fields=["rectification_measure"])
    plan = plan_for(outfall, county, measure=RectificationMeasure.REGULARISE)
    services.update_plan(plan, user=county, measure=RectificationMeasure.REMOVE)
    outfall.refresh_from_db()
    assert outfall.rectification_measure == RectificationMeasure.REMOVE
    rows = status_changes_for(outfall).filter(field="rectification_measure").order_by("changed_at", "id")
    assert [(r.from_value, r.to_value) for r in rows] == [
        ("", RectificationMeasure.REGULARISE),
        (RectificationMeasure.REGULARISE, RectificationMeasure.REMOVE),
    ]
    assert all(r.changed_by == county for r in rows)
