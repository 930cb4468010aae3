"""Loads (负荷): per outfall from measured concentration and flow, or estimated from the type and volume and
marked as such; along a river per section interval with a tributary entering where it joins; the
downstream-impact ranking for a failing section, on its page (table and map data) within the user's scope."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.core.models import Jurisdiction
from outfalls.monitoring import loads
from outfalls.monitoring.models import OutfallLoad
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall, Section, WaterBody

from .helpers import new_outfall, parameter, record

YEAR = 2023
# A straight river running north (drawn downstream) about 22 km, sections at its middle and its end, and a
# tributary of about 8.4 km joining from the east at 40.15.
MAIN = [[113.9, 40.0], [113.9, 40.2]]
TRIBUTARY = [[114.0, 40.15], [113.9, 40.15]]


@pytest.fixture
def river(db):
    county = Jurisdiction.objects.get(code="140213")
    main = WaterBody.objects.create(
        name="测试干流", code="TEST-MAIN", geometry={"type": "LineString", "coordinates": MAIN}
    )
    tributary = WaterBody.objects.create(
        name="测试支流",
        code="TEST-TRIB",
        parent=main,
        geometry={"type": "LineString", "coordinates": TRIBUTARY},
    )
    middle = Section.objects.create(
        name="测试中段", water_body=main, county=county, lon=113.9, lat=40.1, target_class="III"
    )
    end = Section.objects.create(
        name="测试出境", water_body=main, county=county, lon=113.9, lat=40.2, target_class="III"
    )

    def place(level2, water, lon, lat, **fields):
        outfall = new_outfall(level2, **fields)
        Outfall.objects.filter(pk=outfall.pk).update(water_body=water, lon=lon, lat=lat)
        return Outfall.objects.get(pk=outfall.pk)

    measured = place(Level2.MUNICIPAL_WWTP, main, 113.9005, 40.05)  # above the middle section
    record(measured, f"{YEAR}-03-01 10:00", {"COD": 40}, flow=100, flow_unit="m3/h", follow_up=False)
    record(measured, f"{YEAR}-09-01 10:00", {"COD": 20}, flow=100, flow_unit="m3/h", follow_up=False)
    typical = place(Level2.INDUSTRIAL_MINING, main, 113.8995, 40.15, daily_volume_m3=None)  # below it
    upstream = place(Level2.RURAL_FACILITY, tributary, 113.93, 40.15, daily_volume_m3=200)  # on the tributary
    ids = [measured.pk, typical.pk, upstream.pk]
    loads.compute(YEAR, outfall_ids=ids)
    return {"main": main, "middle": middle, "end": end, "ids": ids, "outfalls": (measured, typical, upstream)}


def load_of(outfall, code="COD"):
    return OutfallLoad.objects.get(outfall=outfall, parameter=parameter(code), year=YEAR)


def test_loads_per_outfall_with_estimates_marked(river):
    measured, typical, upstream = river["outfalls"]
    cod = load_of(measured)
    # mean 30 mg/L × 100 m³/h × 24 h / 1000 = 72 kg/d
    assert cod.kg_per_day == pytest.approx(72) and cod.kg_per_year == pytest.approx(72 * 365)
    assert not cod.estimated and cod.samples == 2 and "采样实测流量均值（2 次）" in cod.basis
    # No samples and no volume: the type's typical 60 mg/L and 500 m³/d, an estimate saying so.
    guess = load_of(typical)
    assert guess.kg_per_day == pytest.approx(30) and guess.estimated
    assert "按类型估算" in guess.basis and "典型水量" in guess.basis
    # The ledger's volume with the type's concentration: still an estimate (50 mg/L × 200 m³/d).
    part = load_of(upstream)
    assert part.kg_per_day == pytest.approx(10) and part.estimated and "台账日排放量" in part.basis
    # Measured NH3N is missing for the plant: its NH3N load is the type's estimate.
    assert load_of(measured, "NH3N").estimated and load_of(measured, "NH3N").flow_m3_per_day == 2400


def test_below_detection_counts_as_half_the_limit(river):
    measured, _, _ = river["outfalls"]
    record(measured, f"{YEAR}-10-01 10:00", {"NH3N": "<0.4"}, flow=100, flow_unit="m3/h", follow_up=False)
    loads.compute(YEAR, outfall_ids=[measured.pk])
    nh3n = load_of(measured, "NH3N")
    assert nh3n.concentration == pytest.approx(0.2) and not nh3n.estimated


def test_loads_along_the_river_per_section_interval(river):
    profile = loads.river_profile(
        YEAR, parameter("COD"), outfalls=Outfall.objects.filter(pk__in=river["ids"])
    )
    main = profile[river["main"].pk]
    assert [(i.upstream, i.downstream.name if i.downstream else None) for i in main] == [
        ("河源", "测试中段"),
        ("测试中段", "测试出境"),
        ("测试出境", None),
    ]
    first, second, _ = main
    assert (first.outfalls, first.direct_kg, first.estimated_kg) == (1, pytest.approx(72), 0)
    assert (second.outfalls, second.direct_kg, second.estimated_kg) == (
        1,
        pytest.approx(30),
        pytest.approx(30),
    )
    assert second.tributary_kg == pytest.approx(10) and second.tributaries == ["测试支流"]
    assert second.cumulative_kg == pytest.approx(112)
    assert second.assessment.section == river["end"] and second.assessment.target == "III"


def test_the_downstream_impact_ranks_the_outfalls_upstream(river):
    measured, typical, upstream = river["outfalls"]
    mine = Outfall.objects.filter(pk__in=river["ids"])
    near = loads.downstream_impact(river["end"], parameter("COD"), within_km=10, year=YEAR, outfalls=mine)
    assert [u.outfall_id for u in near] == [typical.pk, upstream.pk]  # the plant is 16 km up: too far
    assert near[1].distance_km == pytest.approx(5.56 + 2.55, abs=0.2)  # down the tributary, then the river
    far = loads.downstream_impact(river["end"], parameter("COD"), within_km=30, year=YEAR, outfalls=mine)
    assert [(u.outfall_id, round(u.kg_per_day), u.estimated) for u in far] == [
        (measured.pk, 72, False),
        (typical.pk, 30, True),
        (upstream.pk, 10, True),
    ]


def test_the_impact_page_for_a_failing_section(river, client_for):
    record(None, timezone.now() - timedelta(days=5), {"COD": 45}, section=river["end"], follow_up=False)
    measured, typical, upstream = river["outfalls"]
    url = f"/monitoring/impact/?section={river['end'].pk}&parameter=COD&km=30&year={YEAR}"
    page = client_for("bureau").get(url).content.decode()
    assert "超标项目：COD" in page
    codes = re.findall(r'<tr data-outfall="([^"]*)"', page)
    assert codes == [measured.code, typical.code, upstream.code]
    data = json.loads(
        re.search(r'<script id="impact-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert [o["rank"] for o in data["outfalls"]] == [1, 2, 3] and data["outfalls"][1]["estimated"]
    assert {s["name"] for s in data["stretches"]} == {"测试干流", "测试支流"}
    # A county user sees only the outfalls of their county (these are in 平城区; 云州区 sees none of them).
    other = client_for("yunzhou").get(url).content.decode()
    assert re.findall(r'<tr data-outfall="([^"]*)"', other) == []
    assert client_for("bureau").get(url.replace("parameter=COD", "parameter=XYZ")).status_code == 400


def test_the_loads_page(river, client_for):
    page = client_for("bureau").get(f"/monitoring/loads/?year={YEAR}&parameter=COD").content.decode()
    assert "测试干流" in page and "测试支流" in page and "估算" in page
