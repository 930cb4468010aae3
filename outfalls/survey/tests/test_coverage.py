"""Coverage and reconciliation (survey/coverage.py) on a constructed river with known answers."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from outfalls.core.models import Jurisdiction
from outfalls.geo.linref import LocalFrame
from outfalls.registry.models import Outfall, WaterBody
from outfalls.survey import coverage
from outfalls.survey.choices import OPEN_OUTCOMES, Bank, PointOutcome
from outfalls.survey.models import Campaign, CampaignReach, FieldCheck, SuspectedPoint, Track

ORIGIN = (113.3, 40.0)
FRAME = LocalFrame(40.0)


def lonlat(x_km, y_km=0.0):
    return ORIGIN[0] + x_km * 1000 / FRAME.per_lon, ORIGIN[1] + y_km * 1000 / FRAME.per_lat


def line(*points):
    return {"type": "LineString", "coordinates": [list(lonlat(x, y)) for x, y in points]}


@pytest.fixture
def river(db):
    # 15 km due east along latitude 40 (its reference latitude): chainage = x.
    return WaterBody.objects.create(name="测试河", code="TEST-COVERAGE", geometry=line((0, 0), (15, 0)))


def make_campaign(county_code, river, name="覆盖测试任务", deadline=datetime.date(2023, 12, 31)):
    county = Jurisdiction.objects.get(code=county_code)
    campaign = Campaign.objects.create(name=name, county=county, deadline=deadline)
    campaign.water_bodies.add(river)
    return campaign


def track(campaign, river, bank, *points):
    return Track.objects.create(
        campaign=campaign,
        water_body=river,
        bank=bank,
        geometry=line(*points),
        client_uuid=uuid.uuid4(),
        recorded_at=timezone.now(),
    )


def point(campaign, number, outcome, *, river=None, outfall=None, x=1.0, **extra):
    lon, lat = lonlat(x, 0.02)
    return SuspectedPoint.objects.create(
        campaign=campaign,
        number=number,
        lon=lon,
        lat=lat,
        water_body=river,
        outcome=outcome,
        outfall=outfall,
        **extra,
    )


def check(p, outcome):
    FieldCheck.objects.create(
        point=p,
        client_uuid=uuid.uuid4(),
        checked_at=timezone.now(),
        lon=p.lon,
        lat=p.lat,
        flow="flowing",
        staff=["张三", "李四"],
        outcome=outcome,
    )


@pytest.fixture
def constructed(river):
    campaign = make_campaign("140213", river)
    # Planned: left bank 0–4 and 6–10, right bank 0–4 and 12–13 (checked by hand): 13 bank km, 9 river km.
    CampaignReach.objects.create(campaign=campaign, water_body=river, from_km=0, to_km=4, bank=Bank.BOTH)
    CampaignReach.objects.create(campaign=campaign, water_body=river, from_km=6, to_km=10, bank=Bank.LEFT)
    CampaignReach.objects.create(
        campaign=campaign, water_body=river, from_km=12, to_km=13, bank=Bank.RIGHT, checked=True
    )
    track(campaign, river, Bank.LEFT, (1, 0.1), (3, 0.1))  # left 1–3
    track(campaign, river, Bank.LEFT, (7, 0.05), (9, 0.05))  # left 7–9
    track(campaign, river, Bank.RIGHT, (-1, -0.1), (4.5, -0.1))  # right 0–4 (clipped to the reach)
    track(campaign, river, Bank.RIGHT, (6, -0.1), (10, -0.1))  # right 6–10: not planned on that bank
    track(campaign, river, Bank.LEFT, (0, 0.5), (4, 0.5))  # 500 m away: covers nothing
    outfalls = list(Outfall.objects.filter(county__code="140213").order_by("id")[:4])
    for i in range(3):
        point(campaign, f"P{i}", PointOutcome.PENDING, river=river)
    point(campaign, "E1", PointOutcome.ESCALATED, river=river)
    for i in range(3):
        check(point(campaign, f"C{i}", PointOutcome.CONFIRMED, river=river, outfall=outfalls[i]), "confirmed")
    check(point(campaign, "D1", PointOutcome.DUPLICATE, river=river, outfall=outfalls[3]), "duplicate")
    check(point(campaign, "N1", PointOutcome.NOT_OUTFALL, river=river), "not_outfall")
    point(campaign, "N2", PointOutcome.NOT_OUTFALL, river=river, decided_level=3)
    point(campaign, "X1", PointOutcome.PENDING)  # no river set: counts for the campaign only
    return campaign, outfalls


def test_coverage_figures_on_a_constructed_river(constructed, river, demo_user):
    campaign, _ = constructed
    (cov,) = coverage.coverage_of(coverage.campaigns_for(demo_user("pingcheng")).filter(pk=campaign.pk))
    (row,) = cov.rivers
    f = row.figures
    assert f.total_bank_km == pytest.approx(13)
    # left 1–3 and 7–9 (4 km), right 0–4 walked and 12–13 checked (5 km)
    assert f.covered_bank_km == pytest.approx(9, abs=0.01)
    assert f.covered_percent == pytest.approx(100 * 9 / 13, abs=0.1)
    assert f.river_km == pytest.approx(9)
    assert f.points_total == 10
    assert f.points_checked == 6
    assert f.by_outcome[PointOutcome.PENDING] == 3
    assert f.outfalls_found == 4
    assert f.outfalls_per_km == pytest.approx(4 / 9)
    # The campaign adds the point without a river.
    assert cov.figures.points_total == 11
    assert cov.figures.points_checked == 6
    assert cov.figures.checked_percent == pytest.approx(100 * 6 / 11)
    reaches = {(r.reach.from_km, r.reach.bank): r for r in cov.reaches}
    assert reaches[(0, Bank.BOTH)].total_bank_km == 8
    assert reaches[(0, Bank.BOTH)].covered_bank_km == pytest.approx(6, abs=0.01)
    assert reaches[(6, Bank.LEFT)].covered_bank_km == pytest.approx(2, abs=0.01)
    assert reaches[(12, Bank.RIGHT)].covered_percent == pytest.approx(100)
    ((county, figures),) = coverage.by_county([cov])
    assert county.code == "140213" and figures.points_total == 11


def test_a_track_for_both_banks_covers_both(river, db):
    campaign = make_campaign("140213", river)
    CampaignReach.objects.create(campaign=campaign, water_body=river, from_km=2, to_km=6, bank=Bank.BOTH)
    track(campaign, river, Bank.BOTH, (3, 0.01), (5, 0.01))
    (cov,) = coverage.coverage_of(
        Campaign.objects.filter(pk=campaign.pk).prefetch_related("reaches", "tracks")
    )
    assert cov.figures.total_bank_km == 8
    assert cov.figures.covered_bank_km == pytest.approx(4, abs=0.01)


def test_reconciliation_balances_and_anomalies(constructed, river, demo_user):
    campaign, outfalls = constructed
    # Anomalies: a confirmed point without outfall, a duplicate without outfall, an outfall confirmed twice,
    # a final outcome with no check and no expert decision.
    point(campaign, "A1", PointOutcome.CONFIRMED, river=river)
    point(campaign, "A2", PointOutcome.DUPLICATE, river=river, decided_level=3)
    check(point(campaign, "A3", PointOutcome.CONFIRMED, river=river, outfall=outfalls[0]), "confirmed")
    balances, anomalies = coverage.reconcile(
        Campaign.objects.visible_to(demo_user("pingcheng")).filter(pk=campaign.pk)
    )
    (b,) = balances
    assert b.total == 14
    assert b.balanced
    assert b.by_outcome == {
        PointOutcome.PENDING: 4,
        PointOutcome.ESCALATED: 1,
        PointOutcome.CONFIRMED: 5,
        PointOutcome.DUPLICATE: 2,
        PointOutcome.NOT_OUTFALL: 2,
    }
    assert b.open == 5
    kinds = sorted((a.kind, a.point.number) for a in anomalies)
    assert kinds == [
        ("confirmed_without_outfall", "A1"),
        ("duplicate_without_outfall", "A2"),
        ("final_without_check", "A1"),
        ("outfall_confirmed_twice", "A3"),
        ("outfall_confirmed_twice", "C0"),
    ]
    ((county, outcomes, total),) = coverage.balance_by_county(balances)
    assert total == sum(outcomes.values()) == 14


def test_a_not_outfall_point_linked_to_an_outfall_is_an_anomaly(constructed, river):
    campaign, outfalls = constructed
    SuspectedPoint.objects.filter(campaign=campaign, number="N1").update(outfall=outfalls[0])
    _, anomalies = coverage.reconcile(Campaign.objects.filter(pk=campaign.pk))
    found = [(a.point.number, a.outfall) for a in anomalies if a.kind == "not_outfall_with_outfall"]
    assert found == [("N1", outfalls[0])]


def test_a_point_without_a_known_outcome_unbalances_its_campaign(constructed, client_for):
    campaign, _ = constructed
    (balance,) = coverage.reconcile(Campaign.objects.filter(pk=campaign.pk))[0]
    assert balance.balanced
    # A raw value outside PointOutcome (written past the model's choices): in the total, in no column.
    SuspectedPoint.objects.filter(campaign=campaign, number="P0").update(outcome="lost")
    (balance,) = coverage.reconcile(Campaign.objects.filter(pk=campaign.pk))[0]
    assert balance.total == 11
    assert sum(balance.counts) == 10
    assert not balance.balanced
    response = client_for("pingcheng").get(reverse("survey:reconciliation"))
    assert "不平衡" in response.content.decode()
    # The county row counts the points still open (pending or escalated) over all its campaigns.
    ((county, _, total, still_open),) = response.context["counties"]
    county_points = SuspectedPoint.objects.filter(campaign__county=county)
    assert total == county_points.count()
    assert still_open == county_points.filter(outcome__in=OPEN_OUTCOMES).count() > 0
    assert f"{still_open} 个未结论" in response.content.decode()


def test_open_points_are_the_pending_and_escalated(constructed):
    campaign, _ = constructed
    points = coverage.open_points(Campaign.objects.filter(pk=campaign.pk))
    assert sorted(p["number"] for p in points) == ["E1", "P0", "P1", "P2", "X1"]
    assert [p["number"] for p in points if p["escalated"]] == ["E1"]
    assert {p["outcome"] for p in points} == {"待核查", "待专家研判"}


def test_other_county_sees_nothing(constructed, demo_user):
    campaign, _ = constructed
    assert not coverage.campaigns_for(demo_user("yunzhou")).filter(pk=campaign.pk).exists()
    assert coverage.campaigns_for(demo_user("bureau")).filter(pk=campaign.pk).exists()
