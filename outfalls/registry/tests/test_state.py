"""One trustworthy outfall state: registry.services.set_outfall_state is the only writer of the lifecycle
status, the measure, the rectification progress and the merge target; every role on the status page and the
forms reaches only the steps that belong to no workflow; a close-out leaves one history row and one
status-change row and no state that never existed."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import StatusChange
from outfalls.core.services import status_changes_for
from outfalls.registry import services
from outfalls.registry.choices import (
    FINISHED,
    LIFECYCLE_TRANSITIONS,
    STEP_OWNER,
    LifecycleStatus,
    RectificationMeasure,
    RectificationStatus,
    Workflow,
    ledger_steps,
)
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall

from .test_pages import form_data

pytestmark = pytest.mark.django_db
S = LifecycleStatus
PINGCHENG = "140213"


def outfall_in(status, county=PINGCHENG, **filters):
    return (
        Outfall.objects.filter(county__code=county, status=status, **filters)
        .exclude(type_code=TypeCode.YH)
        .order_by("code")
        .first()
    )


# The table ---------------------------------------------------------------------------------------------------
def test_every_step_has_an_owner_and_only_two_belong_to_no_workflow():
    steps = {(a, b) for a, targets in LIFECYCLE_TRANSITIONS.items() for b in targets}
    assert set(STEP_OWNER) == steps
    assert {k for k, v in STEP_OWNER.items() if v == Workflow.LEDGER} == {
        (S.SUSPECTED, S.VERIFIED),
        (S.TRACED, S.CLASSIFIED),
    }
    # Every way into a terminal state is a close-out.
    for (_, to), owner in STEP_OWNER.items():
        if to in (*FINISHED, S.KEPT):
            assert owner == Workflow.CLOSEOUT


def test_lifecycle_path_is_the_shortest_through_the_table_and_may_pass_a_state():
    assert services.lifecycle_path(S.TRACED, S.RECTIFYING) == [S.CLASSIFIED, S.RECTIFYING]
    assert services.lifecycle_path(S.RECTIFYING, S.CLOSED, via=S.REMOVED) == [S.REMOVED, S.CLOSED]
    assert services.lifecycle_path(S.VERIFIED, S.VERIFIED) == []
    assert services.lifecycle_path(S.CLOSED, S.SUSPECTED) is None


# Every role, every step, on the status page ---------------------------------------------------------------------
@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_role_reaches_only_ledger_steps_on_the_status_page(client_for, username):
    client = client_for(username)
    user = client_user(client)
    reached = []
    for status in S:
        outfall = Outfall.objects.filter(status=status).order_by("code").first()
        if outfall is None:  # 取缔 is only passed through (a removal is closed out in one step)
            continue
        visible = Outfall.objects.visible_to(user).filter(pk=outfall.pk).exists()
        editable = Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists()
        detail = client.get(reverse("registry:outfall_detail", args=[outfall.pk]))
        assert detail.status_code == (200 if visible else 404)
        if editable:
            form = detail.context["status_form"]
            offered = {v for v, _ in form.fields["to_status"].choices} if form else set()
            assert offered == set(ledger_steps(status))
        for target in S:
            if target == status:
                continue
            before = Outfall.objects.filter(pk=outfall.pk).values_list("status", flat=True).get()
            response = client.post(
                reverse("registry:outfall_status", args=[outfall.pk]), {"to_status": target, "reason": "试"}
            )
            now = Outfall.objects.filter(pk=outfall.pk).values_list("status", flat=True).get()
            if not editable:
                assert response.status_code == 404 and now == before
            elif now != before:
                reached.append((before, now))
                assert target in ledger_steps(before)
                # put it back for the next target (the test's own undo, not a user's path)
                Outfall.objects.filter(pk=outfall.pk).update(status=before)
    for before, now in reached:
        assert STEP_OWNER[before, now] == Workflow.LEDGER
        assert now not in (*FINISHED, S.KEPT)


def client_user(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


@pytest.mark.parametrize("username", ["bureau", "pingcheng", "enterprise", "chengguan"])
def test_the_edit_form_changes_no_state_and_only_the_city_sets_approval_fields(client_for, username):
    client = client_for(username)
    user = client_user(client)
    outfall = Outfall.objects.editable_by(user).exclude(status=S.CLOSED).order_by("code").first()
    assert outfall is not None
    was_registered = outfall.registered
    state = (outfall.status, outfall.rectification_measure, outfall.rectification_status)
    page = client.get(reverse("registry:outfall_edit", args=[outfall.pk]))
    assert "整治状态（由流程维护，此处只读）" in page.content.decode()
    form = page.context["form"]
    assert not {"status", "rectification_measure", "rectification_status", "merged_into"} & set(form.fields)
    data = form_data(
        outfall,
        status="closed",
        rectification_measure="remove",
        rectification_status="completed",
        registered="" if was_registered else "on",
        approval_number="同环排口审〔2026〕1号",
        approval_date="2026-01-05",
        notes="表单试图改状态",
    )
    response = client.post(reverse("registry:outfall_edit", args=[outfall.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    outfall.refresh_from_db()
    assert outfall.notes == "表单试图改状态"  # the rest saved
    assert (outfall.status, outfall.rectification_measure, outfall.rectification_status) == state
    city = username == "bureau"
    assert outfall.registered is (was_registered is not city)
    assert (outfall.approval_number == "同环排口审〔2026〕1号") is city


def test_save_outfall_refuses_state_and_approval_changes_whoever_calls_it(demo_user):
    outfall = outfall_in(S.RECTIFYING, registered=False)
    county = demo_user("pingcheng")
    for field, value in (
        ("status", S.CLOSED),
        ("rectification_status", RectificationStatus.COMPLETED),
        ("rectification_measure", RectificationMeasure.REMOVE),
    ):
        changed = Outfall.objects.get(pk=outfall.pk)
        setattr(changed, field, value)
        with pytest.raises(ValidationError) as refusal:
            services.save_outfall(changed, user=demo_user("bureau"))
        assert field in refusal.value.message_dict
    changed = Outfall.objects.get(pk=outfall.pk)
    changed.registered = True
    with pytest.raises(ValidationError) as refusal:
        services.save_outfall(changed, user=county)
    assert "市生态环境局" in refusal.value.message_dict["registered"][0]
    fresh = Outfall(status=S.KEPT)
    errors = services.validate_outfall(fresh, user=county, old=None)
    assert "status" in errors


# The service ----------------------------------------------------------------------------------------------------
def test_a_step_owned_by_another_workflow_is_refused_with_where_it_belongs(demo_user):
    bureau = demo_user("bureau")
    verified = outfall_in(S.VERIFIED)
    with pytest.raises(ValidationError) as refusal:
        services.set_outfall_state(
            verified, user=bureau, workflow=Workflow.REMEDIATION, reason="x", status=S.TRACED
        )
    assert "溯源结案" in refusal.value.message_dict["status"][0]
    rectifying = outfall_in(S.RECTIFYING)
    for workflow in (Workflow.LEDGER, Workflow.TRACING, Workflow.REMEDIATION):
        with pytest.raises(ValidationError):
            services.set_outfall_state(rectifying, user=bureau, workflow=workflow, reason="x", status=S.KEPT)
        with pytest.raises(ValidationError) as refusal:
            services.set_outfall_state(
                rectifying,
                user=bureau,
                workflow=workflow,
                reason="x",
                rectification_status=RectificationStatus.COMPLETED,
            )
        assert "销号审核" in refusal.value.message_dict["rectification_status"][0]
    assert Outfall.objects.get(pk=rectifying.pk).status == S.RECTIFYING


def test_merge_target_only_with_a_merge_closeout_and_never_on_a_storm_outfall(demo_user):
    bureau = demo_user("bureau")
    rectifying = outfall_in(S.RECTIFYING)
    target = outfall_in(S.KEPT)
    with pytest.raises(ValidationError) as refusal:
        services.set_outfall_state(
            rectifying, user=bureau, workflow=Workflow.REMEDIATION, reason="x", merged_into=target
        )
    assert "merged_into" in refusal.value.message_dict
    storm = Outfall.objects.filter(type_code=TypeCode.YH, status=S.RECTIFYING).first()
    for measure in (RectificationMeasure.REMOVE, RectificationMeasure.MERGE):
        with pytest.raises(ValidationError) as refusal:
            services.set_outfall_state(
                storm, user=bureau, workflow=Workflow.REMEDIATION, reason="x", measure=measure
            )
        assert "严禁合并、封堵" in refusal.value.message_dict["rectification_measure"][0]
    services.set_outfall_state(
        storm, user=bureau, workflow=Workflow.REMEDIATION, reason="x", measure=RectificationMeasure.REGULARISE
    )
    # The model says the same to a form that would make a merged outfall a storm outfall.
    merging = Outfall.objects.filter(rectification_measure=RectificationMeasure.MERGE).first()
    merging.type_code, merging.type_level2, merging.type_level3 = TypeCode.YH, "urban_storm", ""
    assert "严禁合并、封堵" in services.validate_outfall(merging, user=bureau)["type_code"]


def test_a_county_cannot_write_state_outside_its_county(demo_user):
    other = outfall_in(S.RECTIFYING, county="140215")
    with pytest.raises(PermissionDenied):
        services.set_outfall_state(
            other, user=demo_user("pingcheng"), workflow=Workflow.REMEDIATION, reason="x", status=S.RECTIFYING,
            measure=RectificationMeasure.REGULARISE,
        )  # fmt: skip


# A close-out: one save, one row, only real states --------------------------------------------------------------
@pytest.mark.parametrize(
    "measure, outcome",
    [
        (RectificationMeasure.REGULARISE, S.KEPT),
        (RectificationMeasure.MERGE, S.MERGED),
        (RectificationMeasure.REMOVE, S.CLOSED),
    ],
)
def test_a_closeout_approval_is_one_history_row_one_status_row_and_only_real_states(
    demo_user, settings, tmp_path, measure, outcome
):
    from outfalls.remediation import services as remediation
    from outfalls.remediation.tests.plan_helpers import merge_target, png

    settings.MEDIA_ROOT = tmp_path
    county, bureau = demo_user("pingcheng"), demo_user("bureau")
    outfall = outfall_in(S.TRACED, rectification_plan__isnull=True)
    start = timezone.now()
    fields = {"merge_target": merge_target(outfall)} if measure == RectificationMeasure.MERGE else {}
    plan = remediation.create_plan(
        outfall,
        user=county,
        measure=measure,
        actions="整治",
        responsible_org="某局",
        deadline=date(2030, 12, 31),
        **fields,
    )
    after_plan = timezone.now()
    remediation.add_progress(plan, user=county, date=date.today(), percent=100, note="完成", photos=[png()])
    remediation.submit_closeout(plan, user=county)
    history_before = outfall.history.count()
    rows_before = status_changes_for(outfall).count()
    before_approval = timezone.now()
    remediation.approve_closeout(plan, user=bureau, register=True, accept_gaps=True, note="同意")
    assert outfall.history.count() == history_before + 1
    # One status row; and one disclosure row when the rules make the outcome public or not (merged and
    # closed outfalls are not public by the default rules; kept ones stay public).
    disclosure_rows = 0 if outcome == S.KEPT else 1
    assert status_changes_for(outfall).count() == rows_before + 1 + disclosure_rows
    row = status_changes_for(outfall).exclude(field="disclosed").first()
    assert (row.field, row.from_value, row.to_value) == ("status", S.RECTIFYING, outcome)
    outfall.refresh_from_db()
    assert outfall.disclosed == (outcome == S.KEPT)
    assert outfall.status == outcome
    assert outfall.rectification_status == RectificationStatus.COMPLETED

    # Every state the history holds since the plan existed.
    for record in outfall.history.filter(history_date__gte=start):
        real = {
            S.RECTIFYING: RectificationStatus.IN_PROGRESS,
            S.KEPT: RectificationStatus.COMPLETED,
            S.MERGED: RectificationStatus.COMPLETED,
            S.CLOSED: RectificationStatus.COMPLETED,
        }
        assert real[record.status] == record.rectification_status, record.__dict__
        assert (record.merged_into_id is not None) == (record.status == S.MERGED)
    # The ledger as of a moment between the steps.
    assert Outfall.history.as_of(after_plan).get(pk=outfall.pk).status == S.RECTIFYING
    between = Outfall.history.as_of(before_approval).get(pk=outfall.pk)
    assert (between.status, between.rectification_status) == (S.RECTIFYING, RectificationStatus.IN_PROGRESS)
    assert (
        StatusChange.objects.filter(object_id=outfall.pk, changed_at__gte=start, field="status").count() == 2
    )
