"""Each rule on constructed facts (no database): a hit and a miss, and how hits combine."""

import pytest
from shapely.geometry import Point, box

from outfalls.registry.choices import LinkRole, RectificationMeasure, UnitKind
from outfalls.registry.classification import Level2
from outfalls.remediation import rules
from outfalls.remediation.rules import AreaFacts, LinkFacts, OutfallFacts, RuleContext, UnitFacts, WaterFacts

M = RectificationMeasure
SANGGAN = WaterFacts(1, "御河", "永定河/桑干河")
DAQING = WaterFacts(2, "唐河", "大清河")
YANGHE = WaterFacts(3, "南洋河", "永定河/洋河")


def outfall(pk, level2="", **kwargs):
    kwargs.setdefault("code", f"T{pk:04d}")
    kwargs.setdefault("name", f"排口{pk}")
    kwargs.setdefault("water_body_id", 1)
    return OutfallFacts(id=pk, type_level2=level2, **kwargs)


def owned(unit_id):
    return [LinkFacts(unit_id, LinkRole.OWNER)]


def context(*outfalls, units=(), protected=(), coverage=(), villages=None):
    return RuleContext(
        outfalls={o.id: o for o in outfalls},
        units={u.id: u for u in units},
        waters={w.id: w for w in (SANGGAN, DAQING, YANGHE)},
        villages=villages or {},
        protected_areas=list(protected),
        coverage_areas=list(coverage),
    )


def run(name, ctx):
    return rules.RULES[name](ctx)


def test_every_rule_is_named_titled_sourced_and_has_a_measure():
    assert len(rules.RULES) == 9
    for name, rule in rules.RULES.items():
        assert rule.name == name and name.isascii()
        assert rule.title and rule.source and rule.description and rule.criterion
        assert rule.measure in M.values


# 取缔 ------------------------------------------------------------------------------------------------------


def test_protected_area_hits_an_outfall_inside_and_names_the_area():
    area = AreaFacts("御河水源地一级保护区", box(113.0, 40.0, 113.1, 40.1), "饮用水水源一级保护区")
    ctx = context(outfall(1, lon=113.05, lat=40.05), outfall(2, lon=113.2, lat=40.05), protected=[area])
    hits = run("protected_area", ctx)
    assert set(hits) == {1}
    measure, reason = hits[1]
    assert measure == M.REMOVE
    assert "御河水源地一级保护区" in reason and "饮用水水源一级保护区" in reason


def test_a_storm_outfall_in_a_protected_area_is_traced_and_regularised_not_removed():
    """实施方案（十）: 严禁合并、封堵城镇雨洪排口; 开展城镇雨洪排口旱天污水直排的溯源治理."""
    area = AreaFacts("御河水源地一级保护区", box(113.0, 40.0, 113.1, 40.1), "饮用水水源一级保护区")
    ctx = context(
        outfall(1, Level2.URBAN_STORM, lon=113.05, lat=40.05),
        outfall(2, Level2.INDUSTRIAL_MINING_STORM, lon=113.06, lat=40.05),  # an enterprise's: removed
        protected=[area],
    )
    hits = run("protected_area", ctx)
    assert hits[1][0] == M.REGULARISE
    assert "旱天污水直排溯源" in hits[1][1] and "严禁合并、封堵" in hits[1][1]
    assert hits[2][0] == M.REMOVE
    proposal = rules.evaluate(ctx).proposals[1]
    assert proposal.measure == M.REGULARISE
    assert proposal.hits[0]["rule"] == "protected_area"


def test_no_rule_proposes_remove_or_merge_for_a_storm_outfall(monkeypatch):
    """Whatever a rule returns for a 城镇雨洪排口, the combined proposal never removes or merges it."""

    def blunt(context):
        return {o.id: (M.MERGE, "合并。") for o in context.ordered}

    monkeypatch.setitem(rules.RULES, "blunt", rules.Rule("blunt", "t", "s", M.MERGE, blunt))
    ctx = context(outfall(1, Level2.URBAN_STORM), outfall(2, Level2.URBAN_DOMESTIC_SCATTERED))
    proposals = rules.evaluate(ctx, rules=["blunt"]).proposals
    assert proposals[1].measure == M.REGULARISE
    assert "严禁合并、封堵" in proposals[1].reason
    assert proposals[2].measure == M.MERGE


def test_protected_area_without_areas_hits_nothing():
    assert run("protected_area", context(outfall(1, lon=113.05, lat=40.05))) == {}


# 合并: enterprises --------------------------------------------------------------------------------------


def test_enterprise_outside_parks_with_two_sewage_outfalls_merges_all_but_one():
    unit = UnitFacts(7, "山橡集团", UnitKind.INDUSTRIAL)
    first = outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7), approved=True)
    second = outfall(2, Level2.INDUSTRIAL_MINING, links=owned(7))
    storm = outfall(3, Level2.INDUSTRIAL_MINING_STORM, links=owned(7))
    hits = run("enterprise_outlets", context(first, second, storm, units=[unit]))
    assert set(hits) == {2}  # the approved one is kept; one storm outfall is allowed
    measure, reason, mentions = hits[2]
    assert measure == M.MERGE
    assert "山橡集团" in reason and "T0001" in reason and "2 个工矿企业排污口" in reason
    assert mentions == [1]  # the outfalls the reason names, for readers who may not see them


def test_enterprise_with_two_storm_outfalls_via_responsible_entity():
    unit = UnitFacts(7, "焦化厂", UnitKind.INDUSTRIAL)
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING_STORM, responsible_entity_id=7),
        outfall(2, Level2.INDUSTRIAL_MINING_STORM, responsible_entity_id=7),
        units=[unit],
    )
    hits = run("enterprise_outlets", ctx)
    assert set(hits) == {2} and "雨洪排口" in hits[2][1]


def test_enterprise_with_one_sewage_and_one_storm_outfall_is_not_hit():
    unit = UnitFacts(7, "山橡集团", UnitKind.INDUSTRIAL)
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7)),
        outfall(2, Level2.INDUSTRIAL_MINING_STORM, links=owned(7)),
        units=[unit],
    )
    assert run("enterprise_outlets", ctx) == {}


def test_enterprise_inside_a_park_is_not_hit_by_the_enterprise_rule_but_by_the_park_rule():
    unit = UnitFacts(7, "园区焦化", UnitKind.INDUSTRIAL, park="大同经开区")
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7)),
        outfall(2, Level2.INDUSTRIAL_MINING, links=owned(7)),
        units=[unit],
    )
    assert run("enterprise_outlets", ctx) == {}
    assert set(run("park_outlets", ctx)) == {2}


def test_borrowed_and_shared_outfalls_do_not_count_as_the_enterprise_s_own():
    unit = UnitFacts(7, "山橡集团", UnitKind.INDUSTRIAL)
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7)),
        outfall(2, Level2.INDUSTRIAL_MINING, links=[LinkFacts(7, LinkRole.BORROWS)]),
        outfall(3, Level2.INDUSTRIAL_MINING, links=[LinkFacts(7, LinkRole.SHARES, "按水量")]),
        units=[unit],
    )
    assert run("enterprise_outlets", ctx) == {}


def test_enterprise_outfalls_are_counted_per_county():
    unit = UnitFacts(7, "跨县企业", UnitKind.INDUSTRIAL)
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7), county_id=1),
        outfall(2, Level2.INDUSTRIAL_MINING, links=owned(7), county_id=2),
        outfall(3, Level2.INDUSTRIAL_MINING, links=owned(7), county_id=2),
        units=[unit],
    )
    hits = run("enterprise_outlets", ctx)
    assert set(hits) == {3}
    assert "T0001" not in hits[3][1]  # never names another county's outfall


def test_a_non_enterprise_unit_with_two_outfalls_is_not_hit():
    unit = UnitFacts(7, "某医院", UnitKind.HOSPITAL)
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(7)),
        outfall(2, Level2.INDUSTRIAL_MINING, links=owned(7)),
        units=[unit],
    )
    assert run("enterprise_outlets", ctx) == {}


# 合并: parks ----------------------------------------------------------------------------------------------


def test_park_keeps_its_treatment_plant_outfall_and_merges_the_enterprises():
    units = [
        UnitFacts(1, "园区污水处理厂", UnitKind.PARK_WWTP, park="左云县工业园区"),
        UnitFacts(2, "甲公司", UnitKind.INDUSTRIAL, park="左云县工业园区"),
        UnitFacts(3, "乙公司", UnitKind.INDUSTRIAL, park="左云县工业园区"),
    ]
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(2)),
        outfall(2, Level2.INDUSTRIAL_MINING_STORM, links=owned(3)),
        outfall(9, Level2.PARK_WWTP, links=owned(1)),
        units=units,
    )
    hits = run("park_outlets", ctx)
    assert set(hits) == {1}  # one storm outfall is allowed; the plant's sewage outfall is kept
    assert "左云县工业园区" in hits[1][1] and "T0009" in hits[1][1]


def test_park_with_one_sewage_and_one_storm_outfall_is_not_hit():
    units = [UnitFacts(2, "甲公司", UnitKind.INDUSTRIAL, park="阳高县经济开发区")]
    ctx = context(
        outfall(1, Level2.INDUSTRIAL_MINING, links=owned(2)),
        outfall(2, Level2.INDUSTRIAL_MINING_STORM, links=owned(2)),
        units=units,
    )
    assert run("park_outlets", ctx) == {}


def test_urban_storm_outfalls_are_never_merged():
    """实施方案: 严禁合并、封堵城镇雨洪排口."""
    units = [UnitFacts(2, "甲公司", UnitKind.INDUSTRIAL, park="园区")]
    ctx = context(
        outfall(1, Level2.URBAN_STORM, links=owned(2)),
        outfall(2, Level2.URBAN_STORM, links=owned(2)),
        units=units,
    )
    assert run("park_outlets", ctx) == {}


# 合并: sewer coverage ----------------------------------------------------------------------------------


def test_domestic_outfall_inside_sewer_coverage_merges_into_the_network():
    area = AreaFacts("平城区老城区污水管网覆盖范围", Point(113.3, 40.0).buffer(0.02))
    ctx = context(
        outfall(1, Level2.URBAN_DOMESTIC_SCATTERED, lon=113.3, lat=40.0),
        outfall(2, Level2.RURAL_DOMESTIC_SCATTERED, lon=113.31, lat=40.0),
        outfall(3, Level2.URBAN_DOMESTIC_SCATTERED, lon=113.5, lat=40.0),  # outside
        outfall(4, Level2.INDUSTRIAL_MINING, lon=113.3, lat=40.0),  # inside, not domestic
        coverage=[area],
    )
    hits = run("domestic_in_sewer_coverage", ctx)
    assert set(hits) == {1, 2}
    assert hits[1][0] == M.MERGE and "平城区老城区污水管网覆盖范围" in hits[1][1]


# Irrigation ------------------------------------------------------------------------------------------------


def test_irrigation_return_direct_to_river_is_hit_unless_an_ecological_facility_is_named():
    ctx = context(
        outfall(1, Level2.IRRIGATION, conveyance="direct"),
        outfall(2, Level2.IRRIGATION, conveyance="ditch", text="退水经人工湿地净化后回用"),
        outfall(3, Level2.IRRIGATION, conveyance="pipe", links=[LinkFacts(5, via_channel="生态沟渠")]),
        outfall(4, Level2.RURAL_DOMESTIC_SCATTERED, conveyance="direct"),
    )
    hits = run("irrigation_direct", ctx)
    assert set(hits) == {1}
    assert hits[1][0] == M.MERGE and "直排入河" in hits[1][1]


# Basin -----------------------------------------------------------------------------------------------------


def _plant(pk, water, industrial=True):
    links = [LinkFacts(1, LinkRole.OWNER)]
    if industrial:
        links.append(LinkFacts(2, LinkRole.SHARES, "工业废水纳管"))
    return outfall(pk, Level2.MUNICIPAL_WWTP, water_body_id=water.id, responsible_entity_id=1, links=links)


def test_basin_rule_hits_a_municipal_plant_taking_industrial_wastewater_in_the_two_basins():
    units = [
        UnitFacts(1, "城镇污水处理厂", UnitKind.MUNICIPAL_WWTP),
        UnitFacts(2, "焦化厂", UnitKind.INDUSTRIAL),
    ]
    ctx = context(
        _plant(1, SANGGAN),
        _plant(2, DAQING),
        _plant(3, YANGHE),  # 永定河/洋河: not a restricted basin
        _plant(4, SANGGAN, industrial=False),
        units=units,
    )
    hits = run("basin_industrial_to_municipal", ctx)
    assert set(hits) == {1, 2}
    assert "桑干河" in hits[1][1] and "焦化厂" in hits[1][1]
    assert "大清河" in hits[2][1]
    assert hits[1][0] == M.REGULARISE


def test_basin_list_comes_from_settings(settings):
    settings.REMEDIATION_RESTRICTED_BASINS = ["洋河"]
    units = [
        UnitFacts(1, "城镇污水处理厂", UnitKind.MUNICIPAL_WWTP),
        UnitFacts(2, "焦化厂", UnitKind.INDUSTRIAL),
    ]
    ctx = context(_plant(1, SANGGAN), _plant(3, YANGHE), units=units)
    assert set(run("basin_industrial_to_municipal", ctx)) == {3}


# Villages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volumes", "hit"), [((499,), False), ((501,), True), ((300, 201), True), ((250, 250), False)]
)
def test_village_over_500_cubic_metres_without_a_facility(volumes, hit):
    outfalls = [
        outfall(i + 1, Level2.RURAL_DOMESTIC_SCATTERED, village_id=9, daily_volume_m3=v)
        for i, v in enumerate(volumes)
    ]
    hits = run("village_central_facility", context(*outfalls, villages={9: "东王庄村"}))
    assert bool(hits) is hit
    if hit:
        assert set(hits) == {o.id for o in outfalls}
        measure, reason = hits[1]
        assert measure == M.MERGE and "东王庄村" in reason and f"{sum(volumes):g}" in reason


def test_village_with_a_central_facility_is_not_hit():
    ctx = context(
        outfall(1, Level2.RURAL_DOMESTIC_SCATTERED, village_id=9, daily_volume_m3=800),
        outfall(2, Level2.RURAL_FACILITY, village_id=9),
        villages={9: "东王庄村"},
    )
    assert run("village_central_facility", ctx) == {}


def test_village_rule_threshold_from_settings(settings):
    settings.REMEDIATION_VILLAGE_THRESHOLD_M3 = 300
    ctx = context(outfall(1, Level2.RURAL_DOMESTIC_SCATTERED, village_id=9, daily_volume_m3=301))
    assert set(run("village_central_facility", ctx)) == {1}


# Shared outfalls -------------------------------------------------------------------------------------------


def test_shared_outfall_without_a_responsibility_note_is_hit_and_names_the_unit():
    units = [UnitFacts(1, "鑫源乳业"), UnitFacts(2, "瑞丰奶牛养殖场")]
    ctx = context(
        outfall(1, links=[LinkFacts(1, LinkRole.SHARES, "约60%"), LinkFacts(2, LinkRole.SHARES, "")]),
        outfall(2, links=[LinkFacts(1, LinkRole.SHARES, "约60%"), LinkFacts(2, LinkRole.SHARES, "约40%")]),
        outfall(3, links=[LinkFacts(1, LinkRole.SHARES, ""), LinkFacts(2, LinkRole.SHARES, "", 40)]),
        outfall(4, links=[LinkFacts(1, LinkRole.OWNER, "")]),
        outfall(
            5, links=[LinkFacts(1, LinkRole.SHARES, "约60%"), LinkFacts(2, LinkRole.SHARES, "责任分担待明确")]
        ),
        units=units,
    )
    hits = run("shared_without_note", ctx)
    assert set(hits) == {1, 3, 5}
    assert "瑞丰奶牛养殖场" in hits[1][1] and "鑫源乳业" not in hits[1][1]
    assert hits[1][0] == M.REGULARISE


# Combination -------------------------------------------------------------------------------------------------


def test_strongest_measure_wins_and_every_hit_is_kept():
    area = AreaFacts("水神堂泉域", box(113.0, 40.0, 113.1, 40.1), "泉域重点保护区")
    coverage = AreaFacts("县城管网", box(113.0, 40.0, 113.1, 40.1))
    units = [UnitFacts(1, "甲"), UnitFacts(2, "乙")]
    shared = [LinkFacts(1, LinkRole.SHARES, ""), LinkFacts(2, LinkRole.SHARES, "")]
    ctx = context(
        outfall(1, Level2.URBAN_DOMESTIC_SCATTERED, lon=113.05, lat=40.05, links=shared),
        outfall(2, Level2.URBAN_DOMESTIC_SCATTERED, lon=113.5, lat=40.05, links=shared),
        outfall(3, Level2.URBAN_STORM, lon=113.5, lat=40.05),
        units=units,
        protected=[area],
        coverage=[coverage],
    )
    result = rules.evaluate(ctx)
    first = result.proposals[1]
    assert first.measure == M.REMOVE
    assert [h["rule"] for h in first.hits] == [
        "protected_area",
        "domestic_in_sewer_coverage",
        "shared_without_note",
    ]
    assert "水神堂泉域" in first.reason and "县城管网" not in first.reason
    second = result.proposals[2]  # only the shared rule (regularise) and the fallback
    assert second.measure == M.REGULARISE
    assert [h["rule"] for h in second.hits] == ["shared_without_note", "regularise"]
    assert "甲" in second.reason and "标识牌" in second.reason
    third = result.proposals[3]
    assert third.measure == M.REGULARISE and [h["rule"] for h in third.hits] == ["regularise"]
    assert result.counts["protected_area"] == 1 and result.counts["regularise"] == 2
    assert result.checked == 3


def test_merge_beats_regularise():
    ctx = context(
        outfall(1, Level2.IRRIGATION, conveyance="direct", links=[LinkFacts(1, LinkRole.SHARES, "")]),
        units=[UnitFacts(1, "灌区管理站")],
    )
    proposal = rules.evaluate(ctx).proposals[1]
    assert proposal.measure == M.MERGE
    assert [h["rule"] for h in proposal.hits] == ["irrigation_direct", "shared_without_note"]


def test_fallback_lists_the_regularisation_actions():
    ctx = context(outfall(1, sign_installed=True, registered=True), outfall(2))
    proposals = rules.evaluate(ctx).proposals
    assert "标识牌" not in proposals[1].reason and "检查井" in proposals[1].reason
    assert "设置标识牌" in proposals[2].reason and "登记建档" in proposals[2].reason


def test_many_outfalls_evaluate_to_one_proposal_each():
    # The time over 100,000 outfalls is measured by `make bench` (benchmarks/rules.py), not here.
    from benchmarks.rules import build_context

    result = rules.evaluate(build_context(20_000))
    assert len(result.proposals) == 20_000
    assert result.counts["protected_area"] > 0 and result.counts["park_outlets"] > 0
