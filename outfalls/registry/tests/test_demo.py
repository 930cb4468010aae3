"""The Datong demo data: complete, inside its boundaries, valid, deterministic and idempotent."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.models import Department, Jurisdiction, Membership
from outfalls.geo import shapes
from outfalls.registry import demo
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis, UnitKind
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, Section, WaterBody
from outfalls.registry.validators import credit_code_errors, permit_number_errors

pytestmark = pytest.mark.django_db

COUNTY_CODES = {
    "140212",
    "140213",
    "140214",
    "140215",
    "140221",
    "140222",
    "140223",
    "140224",
    "140225",
    "140226",
    "140271",
}
RIVERS = {"桑干河", "御河", "十里河", "南洋河", "壶流河", "唐河", "浑河", "淤泥河"}
DEMO_USERNAMES = {username for username, *_ in demo.DEMO_USERS}


@pytest.fixture(scope="module", autouse=True)
def demo_data(django_db_setup, django_db_blocker):
    # Idempotent: a no-op when the session fixture has loaded it already.
    with django_db_blocker.unblock():
        demo.load_demo(stdout=io.StringIO())


def snapshot():
    """Row counts of every demo model and its history, and the ledger's field values."""
    models = [
        Jurisdiction,
        Department,
        WaterBody,
        Section,
        DischargeUnit,
        Outfall,
        OutfallUnitLink,
        Membership,
        get_user_model(),
    ]
    counts = {m.__name__: m.objects.count() for m in models}
    for model in (Jurisdiction, WaterBody, Section, DischargeUnit, Outfall, OutfallUnitLink):
        counts[f"history:{model.__name__}"] = model.history.count()
    values = list(
        Outfall.objects.order_by("pk").values_list(
            "pk", "code", "name", "status", "lon", "lat", "responsible_entity_id", "updated_at"
        )
    )
    units = list(DischargeUnit.objects.order_by("pk").values_list("pk", "name", "credit_code", "updated_at"))
    passwords = list(get_user_model().objects.order_by("pk").values_list("username", "password"))
    return counts, values, units, passwords


def county_shapes():
    return {j.code: shapes.shape_of(j.boundary) for j in Jurisdiction.objects.filter(level__in=COUNTY_LEVELS)}


def test_enough_outfalls_and_units():
    assert Outfall.objects.count() >= 330
    assert DischargeUnit.objects.count() >= 130
    linked = OutfallUnitLink.objects.values("unit").distinct().count()
    assert linked >= 100


def test_jurisdictions():
    city = Jurisdiction.objects.get(code="140200")
    assert city.name == "大同市" and city.boundary and city.boundary_source == demo.DIVISIONS_SOURCE
    counties = Jurisdiction.objects.filter(level__in=COUNTY_LEVELS)
    assert set(counties.values_list("code", flat=True)) == COUNTY_CODES
    assert all(c.parent_id == city.pk and c.county_id == c.pk and c.boundary for c in counties)
    zone = Jurisdiction.objects.get(code="140271")
    assert zone.level == "zone" and zone.boundary_approximate and "示意" in zone.boundary_source
    assert not Jurisdiction.objects.get(code="140213").boundary_approximate
    # The zone's approximate polygon lies inside 平城区 and is crossed by 御河 and 十里河.
    pingcheng = shapes.shape_of(Jurisdiction.objects.get(code="140213").boundary)
    zone_shape = shapes.shape_of(zone.boundary)
    assert pingcheng.contains(zone_shape)
    for name in ("御河", "十里河"):
        line = shapes.shape_of(WaterBody.objects.get(name=name).geometry)
        assert shapes.length_km(line.intersection(zone_shape)) > 2
    for county in counties:
        towns = Jurisdiction.objects.filter(parent=county, level="town")
        assert 2 <= towns.count() <= 5, county
        for town in towns:
            assert len(town.code) == 9 and town.code.startswith(county.code) and town.county_id == county.pk
            villages = Jurisdiction.objects.filter(parent=town, level="village")
            assert 2 <= villages.count() <= 3
            assert all(len(v.code) == 12 and v.code.startswith(town.code) for v in villages)


def test_every_county_has_outfalls_and_a_river_through_it():
    counts = Counter(Outfall.objects.values_list("county__code", flat=True))
    assert set(counts) == COUNTY_CODES
    assert all(n >= 10 for n in counts.values()), counts
    lines = [shapes.shape_of(w.geometry) for w in WaterBody.objects.all()]
    for code, geom in county_shapes().items():
        inside = max(shapes.length_km(line.intersection(geom)) for line in lines)
        assert inside >= 3, code


def test_rivers_and_sections():
    waters = {w.name: w for w in WaterBody.objects.all()}
    assert set(waters) == RIVERS
    assert all(w.geometry_approximate and w.geometry_source for w in waters.values())
    assert waters["唐河"].basin == "大清河"
    assert waters["御河"].parent == waters["桑干河"] and waters["浑河"].parent == waters["桑干河"]
    assert set(Counter(Outfall.objects.values_list("water_body__name", flat=True))) == RIVERS
    sections = Section.objects.select_related("water_body")
    assert sections.count() == len(demo.SECTIONS)
    national = {(s.water_body.name, s.name) for s in sections if s.level == "national"}
    assert national == {("桑干河", "固定桥"), ("御河", "利仁皂")}
    for section in sections:
        assert section.location_approximate and section.level_approximate
        line = shapes.shape_of(section.water_body.geometry)
        assert line.distance(shapes.Point(section.lon, section.lat)) < 1e-6
        assert section.chainage_km == pytest.approx(
            shapes.project_point_to_line(line, section.lon, section.lat), abs=0.001
        )
        if section.county_id:
            assert shapes.contains(shapes.shape_of(section.county.boundary), section.lon, section.lat)


def test_types_statuses_and_responsibility():
    outfalls = list(Outfall.objects.all())
    types = Counter(o.type_code for o in outfalls)
    assert set(types) == {*TypeCode.values}
    assert 0.03 <= types[TypeCode.UNDETERMINED] / len(outfalls) <= 0.08
    # Every state but 取缔, which a removal only passes through on its way to 已销号 (CLOSEOUT_VIA).
    assert {o.status for o in outfalls} == set(LifecycleStatus.values) - {LifecycleStatus.REMOVED}
    assert len({o.rectification_status for o in outfalls}) == 4
    assert {True, False} == {o.registered for o in outfalls} == {o.sign_installed for o in outfalls}
    for o in outfalls:
        if o.type_level2 in ("industrial_mining", "industrial_mining_storm"):
            assert o.type_level3, o
        if o.type_code != TypeCode.UNDETERMINED:
            assert o.type_level2, o
        if o.status == LifecycleStatus.VERIFIED and o.registered and o.approval_number:
            # A new outfall a setup-review decision put in the ledger (permits demo): its applicant declared it.
            assert o.responsibility_basis == ResponsibilityBasis.DECLARED and o.responsible_entity_id, o
        elif o.status in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED):
            assert o.responsibility_basis == ResponsibilityBasis.UNKNOWN and o.responsible_entity_id is None
        elif o.responsibility_basis == ResponsibilityBasis.GOVERNMENT_FALLBACK:
            assert o.responsible_entity.kind == UnitKind.GOVERNMENT
        else:
            assert o.responsible_entity_id, o
    national = [o.national_code for o in outfalls if o.national_code]
    assert 0.2 <= len(national) / len(outfalls) <= 0.4
    assert len(set(national)) == len(national)
    assert any(o.approval_date and o.permit_number for o in outfalls)


def test_every_outfall_lies_inside_its_county():
    geoms = county_shapes()
    outside = [
        o.code
        for o in Outfall.objects.select_related("county")
        if not shapes.contains(geoms[o.county.code], o.lon, o.lat)
    ]
    assert outside == []
    zone = geoms["140271"]
    in_zone = [
        o.code for o in Outfall.objects.exclude(county__code="140271") if shapes.contains(zone, o.lon, o.lat)
    ]
    assert in_zone == []


def test_outfalls_lie_near_their_river():
    lines = {w.pk: shapes.shape_of(w.geometry) for w in WaterBody.objects.all()}
    for o in Outfall.objects.all():
        per_lon, _ = shapes.metres_per_degree(o.lat)
        assert lines[o.water_body_id].distance(shapes.Point(o.lon, o.lat)) * per_lon < 400, o.code


def test_names_codes_and_places():
    outfalls = Outfall.objects.select_related("county__parent", "town", "village")
    codes = [o.code for o in outfalls]
    assert all(codes) and len(set(codes)) == len(codes)
    for o in outfalls:
        assert o.name_auto and o.landmark
        assert o.name == o.generated_name()
        assert o.name.startswith("大同市" + o.county.name), o.name
        assert o.town is None or o.town.county_id == o.county_id
        assert o.village is None or o.village.parent_id == o.town_id
    names = [o.name for o in outfalls]
    assert len(set(names)) == len(names)
    assert any(o.number for o in outfalls)
    real = {
        o.landmark: o
        for o in outfalls.filter(
            landmark__in=["山橡集团", "七零研究所"], type_code="GY", type_level3="industrial_enterprise"
        )
    }
    assert real["山橡集团"].water_body.name == "御河" and real["山橡集团"].county.code == "140213"
    assert real["七零研究所"].water_body.name == "十里河" and real["七零研究所"].county.code == "140213"


def test_identity_numbers():
    units = list(DischargeUnit.objects.all())
    assert all(u.credit_code and credit_code_errors(u.credit_code) == [] for u in units)
    with_permit = [u for u in units if u.permit_number]
    assert len(with_permit) >= 30
    for unit in with_permit:
        assert permit_number_errors(unit.permit_number) == []
        assert unit.permit_number.startswith(unit.credit_code)
    for outfall in Outfall.objects.exclude(permit_number="").select_related("responsible_entity"):
        assert permit_number_errors(outfall.permit_number) == []
        assert outfall.permit_number == outfall.responsible_entity.permit_number
    kinds = {u.kind for u in units}
    assert {
        UnitKind.GOVERNMENT,
        UnitKind.INDUSTRIAL,
        UnitKind.MINE,
        UnitKind.MUNICIPAL_WWTP,
        UnitKind.LIVESTOCK,
    } <= kinds
    assert any(u.park for u in units)
    geoms = county_shapes()
    assert all(
        shapes.contains(geoms[u.county.code], u.lon, u.lat)
        for u in DischargeUnit.objects.select_related("county")
    )


def test_links():
    per_outfall = Counter(OutfallUnitLink.objects.values_list("outfall_id", flat=True))
    shared = OutfallUnitLink.objects.filter(role=LinkRole.SHARES)
    assert 15 <= shared.values("outfall").distinct().count() <= 25
    assert all(link.share_note for link in shared)
    assert max(per_outfall.values()) >= 3
    assert OutfallUnitLink.objects.filter(role=LinkRole.BORROWS).count() >= 6
    # The responsible unit (other than a government fallback) owns its outfall.
    for outfall in Outfall.objects.exclude(responsible_entity=None).exclude(
        responsibility_basis=ResponsibilityBasis.GOVERNMENT_FALLBACK
    ):
        assert outfall.unit_links.filter(unit=outfall.responsible_entity_id, role=LinkRole.OWNER).exists()


def test_departments():
    departments = {d.name: d for d in Department.objects.all()}
    assert len(departments) == 8
    assert departments["市城市管理局"].responsible_types == ["urban_storm", "urban_domestic_scattered"]
    assert departments["市公安局"].responsible_types == []


def test_demo_users():
    User = get_user_model()
    for username in DEMO_USERNAMES:
        user = User.objects.get(username=username)
        assert user.memberships.count() == 1, username
        assert user.first_name
    admin = User.objects.get(username="city_admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="bureau").is_staff
    roles = {
        m.user.username: m for m in Membership.objects.select_related("user", "jurisdiction", "department")
    }
    assert roles["pingcheng"].role == Role.COUNTY and roles["pingcheng"].jurisdiction.code == "140213"
    assert roles["yunzhou"].jurisdiction.code == "140215"
    assert roles["chengguan"].department.name == "市城市管理局"
    assert roles["river_chief"].jurisdiction is None
    assert list(roles["river_chief"].water_bodies.values_list("name", flat=True)) == ["御河"]
    assert roles["auditor"].role == Role.AUDITOR
    assert Outfall.objects.filter(responsible_entity=roles["enterprise"].unit).count() >= 2


def test_plan_is_deterministic():
    first, second = demo.Planner().build(), demo.Planner().build()
    assert [(o.key, o.lon, o.lat, o.landmark, o.fields) for o in first.outfalls] == [
        (o.key, o.lon, o.lat, o.landmark, o.fields) for o in second.outfalls
    ]
    assert [u.credit_code for u in first.units] == [u.credit_code for u in second.units]


def test_second_run_creates_and_changes_nothing():
    before = snapshot()
    out = io.StringIO()
    created = demo.load_demo(stdout=out)
    assert snapshot() == before
    assert sum(created.values()) == 0
    text = out.getvalue()
    assert "入河排污口：新建 0" in text and "city_admin" in text and "已存在" in text


def test_existing_user_password_is_kept():
    user = get_user_model().objects.get(username="bureau")
    user.set_password("changed-by-owner")
    user.save()
    demo.load_demo(stdout=io.StringIO())
    user.refresh_from_db()
    assert user.check_password("changed-by-owner")


def test_no_storm_outfall_is_removed_merged_or_blocked():
    """实施方案（十）: 严禁合并、封堵城镇雨洪排口 — in the ledger, the proposals, the plans and their actions."""
    from outfalls.registry.choices import FINISHED, STORM_FORBIDDEN_MEASURES
    from outfalls.remediation.models import MeasureProposal, RectificationPlan

    storm = Outfall.objects.filter(type_code=TypeCode.YH)
    assert storm.count() > 50
    assert not storm.filter(rectification_measure__in=STORM_FORBIDDEN_MEASURES).exists()
    assert not storm.filter(status__in=FINISHED).exists()
    proposals = MeasureProposal.objects.filter(outfall__type_code=TypeCode.YH)
    assert proposals.exists()
    assert not proposals.filter(measure__in=STORM_FORBIDDEN_MEASURES).exists()
    assert not proposals.filter(decided_measure__in=STORM_FORBIDDEN_MEASURES).exists()
    plans = RectificationPlan.objects.filter(outfall__type_code=TypeCode.YH)
    assert plans.exists()
    assert not plans.filter(measure__in=STORM_FORBIDDEN_MEASURES).exists()
    assert not plans.filter(actions__contains="封堵").exists()
