"""run_rules refresh semantics, accept/override with status-change rows, scope, the pages and their queries."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from shapely.geometry import Point, mapping

from outfalls.core.services import status_changes_for
from outfalls.registry.choices import LifecycleStatus, ProtectedAreaKind, RectificationMeasure
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall, ProtectedArea, SewerCoverageArea
from outfalls.remediation import rules
from outfalls.remediation.choices import ProposalStatus
from outfalls.remediation.models import MeasureProposal, RuleRun
from outfalls.remediation.proposals import accept_proposal, override_proposal, run_rules

pytestmark = pytest.mark.django_db

PINGCHENG, YUNZHOU = "140213", "140215"
M = RectificationMeasure


def circle_around(outfall, radius=0.001):
    return mapping(Point(outfall.lon, outfall.lat).buffer(radius))


def active(county=PINGCHENG):
    return Outfall.objects.filter(county__code=county, status__in=rules.ACTIVE_STATUSES).order_by("code")


def current(outfall):
    return MeasureProposal.objects.filter(outfall=outfall).exclude(status=ProposalStatus.SUPERSEDED)


def pending_for(outfall):
    return MeasureProposal.objects.get(outfall=outfall, status=ProposalStatus.PENDING)


# The demo run -------------------------------------------------------------------------------------------------


def test_demo_run_gives_every_rule_a_hit_and_a_miss():
    run = RuleRun.objects.order_by("started_at", "id").first()
    assert run is not None and run.run_by is None
    assert set(run.hits) == set(rules.RULES)
    for name, count in run.hits.items():
        assert 0 < count < run.outfalls_checked, name
    assert SewerCoverageArea.objects.filter(approximate=True, source__contains="示意").count() >= 3
    assert (
        MeasureProposal.objects.filter(status=ProposalStatus.OVERRIDDEN).exclude(override_reason="").exists()
    )
    assert MeasureProposal.objects.filter(status=ProposalStatus.ACCEPTED).exists()


# run_rules ---------------------------------------------------------------------------------------------------


def test_run_creates_one_current_proposal_per_active_outfall_and_skips_finished_ones(demo_user):
    run = run_rules(user=demo_user("bureau"), county=PINGCHENG)
    assert run.county.code == PINGCHENG and run.outfalls_checked == active().count()
    for outfall in active():
        assert current(outfall).count() == 1, outfall.code
    finished = Outfall.objects.filter(
        county__code=PINGCHENG, status__in=[LifecycleStatus.REMOVED, LifecycleStatus.CLOSED]
    )
    assert finished.exists()
    assert not MeasureProposal.objects.filter(run=run, outfall__in=finished).exists()


def test_rerun_replaces_pending_keeps_decided_and_supersedes_changed(demo_user):
    bureau = demo_user("bureau")
    run_rules(user=bureau, county=PINGCHENG)
    outfalls = list(active().exclude(type_level2__in=rules.DOMESTIC_TYPES))
    kept, changed, untouched, signed = outfalls[0], outfalls[1], outfalls[2], outfalls[3]
    accept_proposal(pending_for(kept), user=bureau)
    decided = pending_for(changed)
    assert decided.measure == M.REGULARISE
    accept_proposal(decided, user=bureau)
    old_pending = pending_for(untouched).pk
    old_signed = pending_for(signed)
    Outfall.objects.filter(pk=signed.pk).update(sign_installed=not signed.sign_installed)
    # The rules now say something different for `changed`: it lies in a protected area.
    ProtectedArea.objects.create(
        name="测试水源地一级保护区", kind=ProtectedAreaKind.DRINKING_WATER_1, geometry=circle_around(changed)
    )
    run = run_rules(user=bureau, county=PINGCHENG)

    # A pending proposal saying the same again is kept (moved to the new run); a changed one is replaced.
    assert pending_for(untouched).pk == old_pending and pending_for(untouched).run == run
    assert not MeasureProposal.objects.filter(pk=old_signed.pk).exists()
    assert pending_for(signed).reason != old_signed.reason and pending_for(signed).run == run
    assert current(kept).get().status == ProposalStatus.ACCEPTED  # decided and still matching: left alone
    decided.refresh_from_db()
    assert decided.status == ProposalStatus.SUPERSEDED
    assert status_changes_for(decided).filter(field="status", to_value=ProposalStatus.SUPERSEDED).exists()
    fresh = pending_for(changed)
    assert fresh.measure == M.REMOVE and "测试水源地一级保护区" in fresh.reason
    assert [h["rule"] for h in fresh.hits][0] == "protected_area"


def test_pending_proposal_of_an_outfall_no_longer_considered_is_superseded(demo_user):
    bureau = demo_user("bureau")
    run_rules(user=bureau, county=PINGCHENG)
    outfall = active().filter(status=LifecycleStatus.RECTIFYING).first()
    proposal = pending_for(outfall)
    Outfall.objects.filter(pk=outfall.pk).update(status=LifecycleStatus.REMOVED)
    run_rules(user=bureau, county=PINGCHENG)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUPERSEDED
    assert not current(outfall).exists()


def test_sewer_coverage_from_the_database(demo_user):
    outfall = active().filter(type_level2=Level2.URBAN_DOMESTIC_SCATTERED).last()
    SewerCoverageArea.objects.create(name="测试管网覆盖范围", geometry=circle_around(outfall))
    run_rules(user=demo_user("bureau"), county=PINGCHENG)
    proposal = pending_for(outfall)
    assert proposal.measure == M.MERGE and "测试管网覆盖范围" in proposal.reason


def test_context_loads_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        context = rules.load_context(Outfall.objects.all())
    assert len(context.outfalls) == Outfall.objects.filter(status__in=rules.ACTIVE_STATUSES).count()
    assert context.units and context.waters and context.protected_areas and context.coverage_areas


# Scope -------------------------------------------------------------------------------------------------------


def test_county_officer_runs_rules_for_their_county_only(demo_user):
    pingcheng = demo_user("pingcheng")
    run = run_rules(user=pingcheng)
    assert run.county.code == PINGCHENG
    counties = set(MeasureProposal.objects.filter(run=run).values_list("outfall__county__code", flat=True))
    assert counties == {PINGCHENG}
    with pytest.raises(PermissionDenied):
        run_rules(user=pingcheng, county=YUNZHOU)


@pytest.mark.parametrize("username", ["auditor", "chengguan", "enterprise", "river_chief"])
def test_others_cannot_run_rules(demo_user, username):
    with pytest.raises(PermissionDenied):
        run_rules(user=demo_user(username))


def test_county_officer_sees_only_their_county_s_proposals(client_for):
    client = client_for("pingcheng")
    response = client.get(reverse("remediation:proposal_list"), {"status": "current"})
    assert response.status_code == 200
    rows = response.context["paginator"].object_list
    assert rows.exists()
    assert set(rows.values_list("outfall__county__code", flat=True)) == {PINGCHENG}
    other = MeasureProposal.objects.filter(outfall__county__code=YUNZHOU).first()
    assert client.get(reverse("remediation:proposal_detail", args=[other.pk])).status_code == 404
    response = client.post(reverse("remediation:proposal_detail", args=[other.pk]), {"action": "accept"})
    assert response.status_code == 404


def test_rules_page_counts_only_the_users_scope(client_for):
    response = client_for("pingcheng").get(reverse("remediation:rule_list"))
    assert response.status_code == 200
    rows = {row["rule"].name: row["count"] for row in response.context["rows"]}
    visible = MeasureProposal.objects.filter(outfall__county__code=PINGCHENG).exclude(
        status=ProposalStatus.SUPERSEDED
    )
    assert rows["regularise"] == sum(
        1 for hits in visible.values_list("hits", flat=True) if any(h["rule"] == "regularise" for h in hits)
    )
    assert rows["protected_area"] == 0  # the demo's protected areas are outside 平城区
    citywide = client_for("bureau").get(reverse("remediation:rule_list")).context["rows"]
    assert {row["rule"].name: row["count"] for row in citywide}["protected_area"] > 0
    content = response.content.decode()
    assert "特殊保护区域内的排口依法取缔" in content and "?rule=protected_area&amp;status=current" in content


# Decisions ---------------------------------------------------------------------------------------------------


def test_accept_sets_the_measure_and_writes_status_changes(demo_user):
    bureau = demo_user("bureau")
    run_rules(user=bureau, county=PINGCHENG)
    proposal = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code=PINGCHENG
    ).first()
    outfall = proposal.outfall
    before = outfall.rectification_measure
    accept_proposal(proposal, user=bureau)
    proposal.refresh_from_db()
    outfall.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED and proposal.decided_measure == proposal.measure
    assert proposal.decided_by == bureau and proposal.decided_at is not None
    assert outfall.rectification_measure == proposal.measure
    change = status_changes_for(outfall).get(field="rectification_measure")
    assert (change.from_value, change.to_value, change.changed_by) == (before, proposal.measure, bureau)
    assert status_changes_for(proposal).get(field="status").to_value == ProposalStatus.ACCEPTED
    with pytest.raises(ValidationError):
        accept_proposal(proposal, user=bureau)  # already decided


def test_override_needs_a_reason_and_a_different_measure(demo_user):
    bureau = demo_user("bureau")
    run_rules(user=bureau, county=PINGCHENG)
    proposal = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code=PINGCHENG, measure=M.REGULARISE
    ).first()
    with pytest.raises(ValidationError) as error:
        override_proposal(proposal, user=bureau, measure=M.NONE, reason="  ")
    assert "理由" in error.value.message_dict["reason"][0]
    with pytest.raises(ValidationError) as error:
        override_proposal(proposal, user=bureau, measure=M.REGULARISE, reason="同上")
    assert "measure" in error.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
    override_proposal(proposal, user=bureau, measure=M.NONE, reason="现场核实已规范")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OVERRIDDEN and proposal.decided_measure == M.NONE
    assert proposal.override_reason == "现场核实已规范"
    assert proposal.outfall.rectification_measure == M.NONE
    change = status_changes_for(proposal.outfall).get(field="rectification_measure")
    assert change.to_value == M.NONE and change.reason == "现场核实已规范"


def test_reader_cannot_decide(demo_user):
    proposal = MeasureProposal.objects.filter(status=ProposalStatus.PENDING).first()
    with pytest.raises(PermissionDenied):
        accept_proposal(proposal, user=demo_user("auditor"))


# Pages -------------------------------------------------------------------------------------------------------


def test_proposal_list_filters_and_query_count(client_for, django_assert_max_num_queries):
    client = client_for("bureau")
    url = reverse("remediation:proposal_list")
    with django_assert_max_num_queries(12):
        response = client.get(url, {"status": "current", "ordering": "-measure"})
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 50  # a full page
    response = client.get(url, {"rule": "protected_area", "status": "current", "county": "140224"})
    rows = list(response.context["paginator"].object_list)
    assert rows and all(p.measure == M.REMOVE and p.outfall.county.code == "140224" for p in rows)
    assert all(any(h["rule"] == "protected_area" for h in p.hits) for p in rows)
    response = client.get(url, {"measure": M.MERGE, "status": ProposalStatus.PENDING, "q": "园区"})
    rows = list(response.context["paginator"].object_list)
    assert rows and all(p.status == ProposalStatus.PENDING and p.measure == M.MERGE for p in rows)


def test_decision_page_accept_and_plan_link(client_for):
    client = client_for("pingcheng")
    proposal = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code=PINGCHENG
    ).first()
    url = reverse("remediation:proposal_detail", args=[proposal.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["can_decide"]
    response = client.post(url, {"action": "accept"})
    assert response.status_code == 302
    page = client.get(url)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    plan_url = reverse("remediation:plan_create") + f"?outfall={proposal.outfall_id}"
    assert page.context["plan_url"] == plan_url and plan_url in page.content.decode()


def test_decision_page_override_without_reason_keeps_what_was_typed(client_for):
    client = client_for("bureau")
    proposal = MeasureProposal.objects.filter(status=ProposalStatus.PENDING, measure=M.REGULARISE).first()
    url = reverse("remediation:proposal_detail", args=[proposal.pk])
    response = client.post(url, {"action": "override", "measure": M.NONE, "reason": ""})
    assert response.status_code == 400
    content = response.content.decode()
    assert "改定整治措施须填写理由" in content
    assert f'<option value="{M.NONE}" selected>' in content
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
    response = client.post(url, {"action": "override", "measure": M.NONE, "reason": "已完成规范化建设"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OVERRIDDEN


def test_auditor_sees_but_cannot_decide(client_for):
    client = client_for("auditor")
    proposal = MeasureProposal.objects.filter(status=ProposalStatus.PENDING).first()
    url = reverse("remediation:proposal_detail", args=[proposal.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["can_decide"]
    assert client.post(url, {"action": "accept"}).status_code == 403
    assert client.post(reverse("remediation:rule_run"), {}).status_code == 403


def test_bulk_accept_only_within_scope(client_for):
    client = client_for("pingcheng")
    own = list(
        MeasureProposal.objects.filter(status=ProposalStatus.PENDING, outfall__county__code=PINGCHENG)[:3]
    )
    other = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code=YUNZHOU
    ).first()
    response = client.post(
        reverse("remediation:proposal_bulk_accept"), {"ids": [p.pk for p in own] + [other.pk]}
    )
    assert response.status_code == 302
    for p in own:
        p.refresh_from_db()
        assert p.status == ProposalStatus.ACCEPTED
    other.refresh_from_db()
    assert other.status == ProposalStatus.PENDING


def test_run_from_the_rules_page(client_for):
    client = client_for("pingcheng")
    response = client.post(reverse("remediation:rule_run"), {"county": PINGCHENG}, follow=True)
    assert response.status_code == 200
    assert "已对平城区运行整治规则" in response.content.decode()
    assert RuleRun.objects.order_by("-id").first().county.code == PINGCHENG
    response = client.post(reverse("remediation:rule_run"), {"county": YUNZHOU}, follow=True)
    assert "请选择运行范围" in response.content.decode()


def test_navigation_has_the_rules_and_proposals(client_for):
    content = client_for("bureau").get(reverse("remediation:rule_list")).content.decode()
    assert 'data-testid="nav-rules"' in content and 'data-testid="nav-proposals"' in content


def test_command_runs_one_county():
    out = io.StringIO()
    call_command("run_rules", "--county", PINGCHENG, stdout=out)
    assert "平城区" in out.getvalue() and "protected_area" in out.getvalue()
    assert RuleRun.objects.order_by("-id").first().county.code == PINGCHENG


def test_rules_page_query_count(client_for, django_assert_max_num_queries):
    client = client_for("bureau")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("remediation:rule_list"))
    assert response.status_code == 200 and len(response.context["rows"]) == len(rules.RULES)


def test_unknown_action_is_a_bad_request_and_changes_nothing(client_for):
    proposal = MeasureProposal.objects.filter(status=ProposalStatus.PENDING).first()
    url = reverse("remediation:proposal_detail", args=[proposal.pk])
    assert client_for("bureau").post(url, {"action": "delete"}).status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING


# Reasons name only what the reader may see ---------------------------------------------------------------------


def test_a_river_chief_reads_no_outfall_off_their_river_in_a_reason(client_for, demo_user):
    """The enterprise rule names the enterprise's other outfalls in the county; the river chief (御河) sees
    the proposal of the one on 御河, but not the code or name of the one on another river."""
    from outfalls.core.models import Jurisdiction
    from outfalls.registry.models import DischargeUnit, OutfallUnitLink, WaterBody

    chief = demo_user("river_chief")
    yuhe = WaterBody.objects.get(name="御河")
    other_water = WaterBody.objects.exclude(pk=yuhe.pk).filter(kind="river").order_by("name").first()
    county = Jurisdiction.objects.get(code=PINGCHENG)
    unit = DischargeUnit.objects.create(name="两河机械厂", kind="industrial", county=county)
    made = []
    # The one off the river is registered, so it is the one kept and the one on 御河 merges into it.
    for water, name, registered in (
        (yuhe, "两河机械厂御河排污口", False),
        (other_water, "两河机械厂另河排污口", True),
    ):
        outfall = Outfall.objects.create(
            name=name, name_auto=False, county=county, water_body=water, lon=113.30, lat=40.09,
            type_code="GY", type_level2=Level2.INDUSTRIAL_MINING, status=LifecycleStatus.TRACED,
            responsible_entity=unit, registered=registered,
        )  # fmt: skip
        OutfallUnitLink.objects.create(outfall=outfall, unit=unit)
        made.append(outfall)
    on_river, off_river = made
    run_rules(user=None, county=PINGCHENG)
    proposals = MeasureProposal.objects.filter(outfall__in=made, status=ProposalStatus.PENDING)
    merged = proposals.get(outfall=on_river)
    assert merged.measure == M.MERGE and off_river.code in merged.reason  # the stored reason names it

    visible = Outfall.objects.visible_to(chief)
    assert visible.filter(pk=on_river.pk).exists() and not visible.filter(pk=off_river.pk).exists()
    client = client_for("river_chief")
    detail = client.get(reverse("remediation:proposal_detail", args=[merged.pk])).content.decode()
    for page in (
        detail,
        client.get(reverse("remediation:proposal_list"), {"q": on_river.code}).content.decode(),
        client.get(f"/api/v1/measure-proposals/{merged.pk}/").content.decode(),
        client.get("/api/v1/measure-proposals/", {"q": on_river.code}).content.decode(),
    ):
        assert off_river.code not in page and off_river.name not in page
    assert "另一排口（不在您的查看范围内）" in detail
    # The county officer sees both and reads the reason as stored.
    county_page = client_for("pingcheng").get(reverse("remediation:proposal_detail", args=[merged.pk]))
    assert merged.reason in county_page.content.decode()
