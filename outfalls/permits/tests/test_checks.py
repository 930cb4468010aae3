"""Each check at submission, passing and failing, with its Chinese reason (permits/checks.py)."""

import pytest
from django.test import override_settings
from shapely.geometry import shape

from outfalls.permits import checks
from outfalls.permits.choices import ApplicationKind, Authority, CheckOutcome
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall, ProtectedArea, WaterBody, WaterWorks

from .helpers import application, point_on

pytestmark = pytest.mark.django_db


def result(function, app):
    return function(app, checks.Context(app))


def test_the_default_position_passes_everything():
    results = checks.run_checks(application())
    assert [r.outcome for r in results] == [CheckOutcome.PASS] * 5
    assert [r.name for r in results] == [
        "inside_protected_area",
        "zone_below_target",
        "consultation_needed",
        "basin_industrial_to_municipal",
        "possible_duplicates",
    ]
    assert checks.blocking(application(), results) == []


def test_inside_a_protected_area_is_refused():
    area = ProtectedArea.objects.get(name="水神堂泉域重点保护区（示意）")
    point = shape(area.geometry).representative_point()
    app = application(lon=point.x, lat=point.y)
    found = result(checks.inside_protected_area, app)
    assert found.outcome == CheckOutcome.REFUSE
    assert "水神堂泉域重点保护区（示意）" in found.message and "不得" in found.message
    assert found.data["areas"][0]["name"] == area.name
    assert checks.blocking(app, [found]) == [found]
    # Decided by the state: recorded here, so the refusal is shown but does not stop it.
    national = application(lon=point.x, lat=point.y, authority=Authority.NATIONAL)
    assert checks.blocking(national, [result(checks.inside_protected_area, national)]) == []


def test_a_zone_below_its_target_is_strictly_controlled():
    lon, lat = point_on("YUH01", 40)  # 御河大同城区景观娱乐用水区: target IV, assessed V
    app = application(river="YUH01", lon=lon, lat=lat)
    found = result(checks.zone_below_target, app)
    assert found.outcome == CheckOutcome.CONTROL
    assert "未达到水质目标Ⅳ类" in found.message and "例外理由" in found.message
    assert checks.blocking(app, [found]) == [found]

    app.exception_reason = "原排口迁建，排放量不增加"
    found = result(checks.zone_below_target, app)
    assert found.outcome == CheckOutcome.CONTROL and found.data["exception_given"]
    assert checks.blocking(app, [found]) == []

    plant = application(river="YUH01", lon=lon, lat=lat, type_level2=Level2.MUNICIPAL_WWTP, type_code="SH")
    found = result(checks.zone_below_target, plant)
    assert found.outcome == CheckOutcome.PASS and "城镇污水处理厂" in found.message


def test_a_zone_meeting_its_target_passes_and_no_zone_is_a_notice():
    found = result(checks.zone_below_target, application())
    assert found.outcome == CheckOutcome.PASS and "南洋河天镇农业用水区" in found.message
    ditch = WaterBody.objects.create(name="无名沟（测试）", code="TEST-DITCH")  # no zone, no geometry
    found = result(checks.zone_below_target, application(water_body=ditch))
    assert found.outcome == CheckOutcome.NOTICE and "未能确定所在水功能区" in found.message
    assert checks.blocking(application(water_body=ditch), [found]) == []


def test_near_a_dyke_or_on_a_marked_river_the_water_authority_is_consulted():
    dyke = WaterWorks.objects.get(name="御河城区段左岸堤防（示意）")
    lon, lat = point_on("YUH01", 40)
    found = result(checks.consultation_needed, application(river="YUH01", lon=lon, lat=lat))
    assert found.outcome == CheckOutcome.CONSULT
    assert dyke.name in found.message and "防洪" in found.message
    assert any(w["id"] == dyke.pk for w in found.data["works"])
    assert found.data["authority"] == "大同市水务局"

    lon, lat = point_on("SGH01", 20)  # 桑干河 is marked for consultation, no work near
    found = result(checks.consultation_needed, application(river="SGH01", lon=lon, lat=lat))
    assert found.outcome == CheckOutcome.CONSULT and found.data["river"] and not found.data["works"]
    assert "桑干河" in found.message

    assert result(checks.consultation_needed, application()).outcome == CheckOutcome.PASS


@override_settings(PERMITS_CONSULTATION_DISTANCE_M=5)
def test_the_consultation_distance_is_a_setting():
    lon, lat = point_on("YUH01", 40, offset_m=300)
    assert result(checks.consultation_needed, application(river="YUH01", lon=lon, lat=lat)).outcome == "pass"


def test_new_industrial_wastewater_to_a_municipal_plant_in_a_restricted_basin_is_refused():
    lon, lat = point_on("TAH01", 70)  # 唐河, 大清河 basin
    app = application(river="TAH01", lon=lon, lat=lat, production_to_municipal=True)
    found = result(checks.basin_industrial_to_municipal, app)
    assert found.outcome == CheckOutcome.REFUSE
    assert "大清河流域" in found.message and "不得排入城镇污水处理厂" in found.message
    # Not new, not industrial, not to a municipal plant, or not in a restricted basin: passes.
    for changed in (
        {"kind": ApplicationKind.ENLARGE},
        {"type_code": "QT", "type_level2": Level2.OTHER},
        {"production_to_municipal": False},
    ):
        other = application(river="TAH01", lon=lon, lat=lat, **{"production_to_municipal": True, **changed})
        assert result(checks.basin_industrial_to_municipal, other).outcome == CheckOutcome.PASS, changed
    elsewhere = application(production_to_municipal=True)  # 南洋河: 永定河/洋河
    assert result(checks.basin_industrial_to_municipal, elsewhere).outcome == CheckOutcome.PASS


@override_settings(REMEDIATION_RESTRICTED_BASINS=["洋河"])
def test_the_basins_are_the_remediation_setting():
    app = application(production_to_municipal=True)
    assert result(checks.basin_industrial_to_municipal, app).outcome == CheckOutcome.REFUSE


def test_a_possible_duplicate_is_shown_without_naming_it():
    outfall = Outfall.objects.filter(water_body__code="NYH01").order_by("code").first()
    app = application(lon=outfall.lon + 0.00005, lat=outfall.lat)
    found = result(checks.possible_duplicates, app)
    assert found.outcome == CheckOutcome.NOTICE
    assert outfall.pk in found.data["other_ids"]
    assert outfall.name not in found.message and outfall.code not in found.message
    assert checks.blocking(app, [found]) == []
    # A change of that outfall's own position is no duplicate of itself.
    change = application(lon=outfall.lon, lat=outfall.lat, kind=ApplicationKind.CHANGE, outfall=outfall)
    assert outfall.pk not in result(checks.possible_duplicates, change).data.get("other_ids", [])
