"""Which limit applies to an outfall and why: the permit's where one exists (through registry.limits), else the
standard the bureau assigned, else the standard that fits the type and the receiving water."""

import pytest

from outfalls.monitoring import limits, services
from outfalls.monitoring.choices import LimitSource
from outfalls.monitoring.models import Standard
from outfalls.registry import limits as registry_limits
from outfalls.registry.classification import Level2
from outfalls.registry.models import Section

from .helpers import bureau, new_outfall


class PermitProvider:
    """A permits app as the lead will connect it: limits per outfall from a permit."""

    def __init__(self, limits_by_outfall, duties=None):
        self.limits_by_outfall = limits_by_outfall
        self.duties = duties or {}

    def outfall_limits(self, outfall_ids):
        return {i: self.limits_by_outfall[i] for i in outfall_ids if i in self.limits_by_outfall}

    def outfall_monitoring_duties(self, outfall_ids):
        return {i: self.duties[i] for i in outfall_ids if i in self.duties}


def test_a_municipal_plant_is_judged_by_gb18918_one_a(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    entry = limits.limits_for([outfall])[outfall.pk]
    assert entry.standard.code == "GB 18918-2002" and entry.grade == "1A"
    assert entry.standard_source == LimitSource.RULE and "城镇污水处理厂" in entry.reason and entry.uncertain
    nh3n = entry.limits["NH3N"]
    assert (nh3n.kind, nh3n.upper, nh3n.cold_upper) == ("daily_mean", 5, 8)
    assert "TN" in entry.limits and entry.standard_text == "GB 18918-2002 一级A标准"


@pytest.mark.parametrize("target, grade", [("III", "1"), ("II", "1"), ("IV", "2"), ("V", "2")])
def test_an_industrial_outfall_follows_its_receiving_waters_target(db, target, grade):
    outfall = new_outfall(Level2.INDUSTRIAL_MINING, water_target=target)
    entry = limits.limits_for([outfall])[outfall.pk]
    assert (entry.standard.code, entry.grade) == ("GB 8978-1996", grade)
    assert entry.limits["COD"].upper == {"1": 100, "2": 150}[grade]


def test_without_a_water_target_the_strictest_section_target_counts(db):
    outfall = new_outfall(Level2.INDUSTRIAL_MINING)
    outfall.water_body.target_class = ""
    targets = list(
        Section.objects.filter(water_body=outfall.water_body).values_list("target_class", flat=True)
    )
    entry = limits.limits_for([outfall])[outfall.pk]
    strictest = min(targets, key=limits.CLASS_ORDER.index)
    assert entry.grade == ("1" if strictest in ("I", "II", "III") else "2")


def test_a_storm_outfall_has_no_standard_and_says_why(db):
    outfall = new_outfall(Level2.URBAN_STORM)
    entry = limits.limits_for([outfall])[outfall.pk]
    assert entry.standard is None and entry.limits == {} and "没有适用" in entry.reason


def test_an_assigned_standard_wins_over_the_rule(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    services.assign_standard(
        outfall,
        user=bureau(),
        standard=Standard.objects.get(code="GB 18918-2002"),
        grade="1B",
        reason="环评批复",
    )
    entry = limits.limits_for([outfall])[outfall.pk]
    assert (entry.grade, entry.standard_source) == ("1B", LimitSource.ASSIGNED)
    assert "环评批复" in entry.reason and entry.limits["COD"].upper == 60


def test_assigning_needs_the_bureau_and_a_real_grade(db, demo_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    gb = Standard.objects.get(code="GB 18918-2002")
    with pytest.raises(PermissionDenied):
        services.assign_standard(outfall, user=demo_user("pingcheng"), standard=gb, grade="1B", reason="x")
    with pytest.raises(ValidationError) as error:
        services.assign_standard(outfall, user=bureau(), standard=gb, grade="IV", reason="")
    assert set(error.value.message_dict) == {"grade", "reason"}


def test_a_permit_limit_wins_parameter_by_parameter(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    permit = registry_limits.Limit(
        parameter="NH3N",
        kind="daily_mean",
        upper=3,
        unit="mg/L",
        averaging="日均值",
        source="排污许可证 TEST001P",
    )
    with registry_limits.registered(PermitProvider({outfall.pk: [permit]})):
        entry = limits.limits_for([outfall])[outfall.pk]
    nh3n = entry.limits["NH3N"]
    assert (nh3n.upper, nh3n.source, nh3n.source_text) == (3, LimitSource.PERMIT, "排污许可证 TEST001P")
    assert nh3n.cold_upper is None
    assert entry.limits["COD"].source == LimitSource.RULE and entry.permit_parameters == ["NH3N"]
    assert limits.limits_for([outfall])[outfall.pk].limits["NH3N"].upper == 5  # provider gone


def test_the_first_provider_wins_and_duties_are_collected(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    first = registry_limits.Limit(parameter="COD", kind="max", upper=40)
    second = registry_limits.Limit(parameter="COD", kind="max", upper=30)
    duty = registry_limits.MonitoringDuty(parameter="COD", frequency="monthly", source="许可证")
    with registry_limits.registered(PermitProvider({outfall.pk: [first]}, {outfall.pk: [duty, duty]})):
        with registry_limits.registered(PermitProvider({outfall.pk: [second]})):
            assert registry_limits.permit_limits([outfall.pk])[outfall.pk]["COD"].upper == 40
            assert registry_limits.monitoring_duties([outfall.pk]) == {outfall.pk: [duty]}


def test_section_limits_and_the_single_factor_class(db):
    section = Section.objects.exclude(target_class="").select_related("water_body").first()
    at_target = limits.section_limits(section)
    assert at_target["NH3N"].source_text.startswith("GB 3838-2002")
    assert "TN" not in at_target  # total nitrogen is judged in lakes and reservoirs only
    per_class = limits.class_limits()
    assert limits.assess_class({"NH3N": 0.4, "COD": 14, "DO": 8}, per_class) == (
        "II",
        {"NH3N": "II", "COD": "I", "DO": "I"},
    )
    assert limits.assess_class({"NH3N": 2.5, "COD": 14}, per_class)[0] == "worse_v"
    assert limits.assess_class({"DO": 2.5}, per_class)[0] == "V"
    assert limits.assess_class({"pH": 7}, per_class) == ("", {})
    assert limits.worse_than("IV", "III") and not limits.worse_than("III", "III")
    lake = limits.class_limits(lake=True)
    assert lake["III"]["TP"].upper == 0.05 and lake["III"]["TN"].upper == 1.0
