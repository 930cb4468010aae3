"""The spatial checks (registry/checks.py): each check positive and negative, real county boundaries,
section intervals that never overwrite a person's value, the save hook, the batch command, the import
hook, the findings list's scope and filters, and the outfall file's card."""

import io
import math

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outfalls.core.models import Jurisdiction
from outfalls.geo import shapes
from outfalls.geo.linref import LocalFrame
from outfalls.registry import checks, demo, ledger_import, services
from outfalls.registry.choices import FindingKind, FindingSeverity, ProtectedAreaKind
from outfalls.registry.demo.data import ZONE
from outfalls.registry.models import Outfall, ProtectedArea, SpatialFinding, WaterBody

from . import ledger_files
from .helpers import copy_as_new

pytestmark = pytest.mark.django_db

PINGCHENG, YUNZHOU, ZONE_CODE = "140213", "140215", "140271"


def kinds(outfall, kind=None):
    rows = SpatialFinding.objects.filter(outfall=outfall)
    return list(rows.filter(kind=kind) if kind else rows)


def place_at(outfall, lon, lat, **fields):
    """Move an outfall without the form (no validation), then check it."""
    Outfall.objects.filter(pk=outfall.pk).update(lon=lon, lat=lat, **fields)
    checks.check_outfalls([outfall.pk])
    outfall.refresh_from_db()
    return outfall


def county(code):
    return Jurisdiction.objects.get(code=code)


def outfall_in(code, water=None, exclude_duplicates=True):
    rows = Outfall.objects.filter(county__code=code).order_by("pk")
    if water:
        rows = rows.filter(water_body__name=water)
    if exclude_duplicates:
        rows = rows.exclude(findings__kind=FindingKind.DUPLICATE).exclude(
            findings__kind=FindingKind.PROTECTED_AREA
        )
    return rows.first()


def point_on(water_name, fraction, offset_m=60):
    """(lon, lat) offset_m metres to the left of the point at fraction of the river's demo line."""
    line = shapes.shape_of(WaterBody.objects.get(name=water_name).geometry)
    frame = LocalFrame.for_geometry(line)
    line_m = frame.geometry(line)
    along = fraction * line_m.length
    ahead, behind = line_m.interpolate(along + 1), line_m.interpolate(along - 1)
    tx, ty = ahead.x - behind.x, ahead.y - behind.y
    norm = math.hypot(tx, ty)
    foot = line_m.interpolate(along)
    lon, lat = frame.lonlat(foot.x - ty / norm * offset_m, foot.y + tx / norm * offset_m)
    return float(lon), float(lat)


# The demo ----------------------------------------------------------------------------------------------
def test_demo_has_protected_areas_and_findings():
    areas = ProtectedArea.objects.all()
    assert areas.count() == len(demo.protected.AREAS)
    assert all(a.approximate and "示意" in a.source and "示意" in a.name for a in areas)
    assert {a.kind for a in areas} >= {
        ProtectedAreaKind.DRINKING_WATER_1,
        ProtectedAreaKind.SPRING,
        ProtectedAreaKind.NATURE_RESERVE,
        ProtectedAreaKind.ECO_REDLINE,
    }
    removal = SpatialFinding.objects.filter(kind=FindingKind.PROTECTED_AREA)
    assert removal.count() >= 5
    assert removal.values("outfall__county").distinct().count() >= 3
    assert all(f.severity == FindingSeverity.ERROR and "应依法取缔" in f.message for f in removal)
    # The demo's points lie in their declared counties and near their rivers.
    assert not SpatialFinding.objects.filter(kind=FindingKind.COUNTY_MISMATCH).exists()
    assert not SpatialFinding.objects.filter(kind=FindingKind.FAR_FROM_RIVER).exists()
    # Every demo outfall has its position along its river.
    assert SpatialFinding.objects.filter(kind=FindingKind.SECTION_INTERVAL).count() == Outfall.objects.count()


def test_load_demo_again_changes_no_finding():
    before = list(SpatialFinding.objects.order_by("pk").values_list("pk", "checked_at", "message"))
    demo.load_demo(stdout=io.StringIO())
    after = list(SpatialFinding.objects.order_by("pk").values_list("pk", "checked_at", "message"))
    assert before == after and ProtectedArea.objects.count() == len(demo.protected.AREAS)


# Protected areas ---------------------------------------------------------------------------------------
def square_area(
    lon, lat, half=0.002, name="测试水源地一级保护区", kind=ProtectedAreaKind.DRINKING_WATER_1, **extra
):
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return ProtectedArea.objects.create(
        name=name, kind=kind, geometry={"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, **extra
    )


@pytest.mark.parametrize("batch", [False, True])
def test_outfall_inside_a_protected_area_is_to_be_removed(batch):
    outfall = outfall_in(PINGCHENG)
    area = square_area(outfall.lon, outfall.lat)
    checks.check_outfalls(None if batch else [outfall.pk])
    (finding,) = kinds(outfall, FindingKind.PROTECTED_AREA)
    assert finding.severity == FindingSeverity.ERROR and finding.protected_area == area
    assert finding.message == "位于饮用水水源一级保护区“测试水源地一级保护区”内，应依法取缔"
    # Outside it (about 500 m east): no finding.
    place_at(outfall, outfall.lon + 0.006, outfall.lat)
    assert kinds(outfall, FindingKind.PROTECTED_AREA) == []


def test_approximate_area_says_so_and_nested_areas_each_count():
    outfall = outfall_in(YUNZHOU)
    square_area(outfall.lon, outfall.lat, name="某泉域", kind=ProtectedAreaKind.SPRING, approximate=True)
    square_area(
        outfall.lon, outfall.lat, half=0.01, name="某自然保护区", kind=ProtectedAreaKind.NATURE_RESERVE
    )
    checks.check_outfalls([outfall.pk])
    messages = sorted(f.message for f in kinds(outfall, FindingKind.PROTECTED_AREA))
    assert messages == [
        "位于泉域重点保护区“某泉域”内，应依法取缔（保护区范围为示意）",
        "位于自然保护区“某自然保护区”内，应依法取缔",
    ]


# County boundaries (the real ones) ---------------------------------------------------------------------
def test_point_in_county_against_the_real_boundaries():
    for place in Jurisdiction.objects.filter(level="county"):
        point = shapes.shape_of(place.boundary).representative_point()
        outfall = outfall_in(place.code)
        place_at(outfall, point.x, point.y)
        assert kinds(outfall, FindingKind.COUNTY_MISMATCH) == [], place.name


def test_point_in_yunzhou_declared_pingcheng_names_yunzhou():
    point = shapes.shape_of(county(YUNZHOU).boundary).representative_point()
    outfall = place_at(outfall_in(PINGCHENG), point.x, point.y)
    (finding,) = kinds(outfall, FindingKind.COUNTY_MISMATCH)
    assert finding.severity == FindingSeverity.WARNING
    assert finding.message.startswith("坐标位于云州区境内，不在所填县区“平城区”边界内（距其边界约 ")
    assert finding.data["actual"]["name"] == "云州区" and finding.data["declared"]["name"] == "平城区"
    assert finding.data["distance_m"] > 0


def test_development_zone_inside_pingcheng():
    zone = shapes.shape_of(county(ZONE_CODE).boundary)
    inside_zone = zone.representative_point()
    elsewhere = outfall_in(PINGCHENG)
    elsewhere = (elsewhere.lon, elsewhere.lat)
    # Declared 平城区, inside the zone's approximate polygon: still inside 平城区's real boundary.
    outfall = place_at(outfall_in(PINGCHENG), inside_zone.x, inside_zone.y)
    assert kinds(outfall, FindingKind.COUNTY_MISMATCH) == []
    # Declared 经开区, inside its polygon: fine.
    zone_outfall = place_at(outfall_in(ZONE_CODE), inside_zone.x, inside_zone.y + 0.001)
    assert kinds(zone_outfall, FindingKind.COUNTY_MISMATCH) == []
    # Declared 经开区, in 平城区 outside the zone's polygon: flagged, naming 平城区.
    assert not zone.contains(shapes.Point(*elsewhere))
    place_at(zone_outfall, elsewhere[0] + 0.0005, elsewhere[1])
    (finding,) = kinds(zone_outfall, FindingKind.COUNTY_MISMATCH)
    assert finding.message.startswith("坐标位于平城区境内，不在所填县区“大同经开区”（示意边界）边界内")
    assert ZONE["name"] == "大同经开区"


def test_point_outside_every_county():
    outfall = place_at(outfall_in(PINGCHENG), 110.5, 36.0)
    (finding,) = kinds(outfall, FindingKind.COUNTY_MISMATCH)
    assert finding.message.startswith("坐标不在任何县区边界内，距所填县区“平城区”边界约 ")
    assert finding.message.endswith("公里") and finding.data["actual"] is None


# Section interval --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fraction, expected",
    [(0.30, "孤山—艾庄"), (0.70, "艾庄—利仁皂"), (0.05, "孤山以上"), (0.95, "利仁皂以下")],
)
def test_section_interval_is_filled_when_empty(fraction, expected):
    outfall = outfall_in("140212", water="御河")
    outfall = place_at(outfall, *point_on("御河", fraction), section_interval="")
    assert outfall.section_interval == expected
    (finding,) = kinds(outfall, FindingKind.SECTION_INTERVAL)
    assert finding.severity == FindingSeverity.INFO
    assert finding.data["interval"] == expected and finding.filled == expected
    assert "已自动填入台账断面区间" in finding.message
    assert finding.data["distance_m"] == pytest.approx(60, abs=5)
    if "—" in expected:
        up, down = expected.split("—")
        assert (finding.data["upstream"]["name"], finding.data["downstream"]["name"]) == (up, down)
        total = finding.data["downstream"]["chainage_km"] - finding.data["upstream"]["chainage_km"]
        assert finding.data["to_upstream_km"] + finding.data["to_downstream_km"] == pytest.approx(
            total, abs=0.01
        )
    latest = outfall.history.first()
    assert latest.history_change_reason == checks.AUTO_FILL_REASON and latest.section_interval == expected


def test_a_typed_section_interval_is_never_overwritten(demo_user):
    user = demo_user("bureau")
    outfall = outfall_in("140212", water="御河")
    outfall.lon, outfall.lat = point_on("御河", 0.30)
    outfall.section_interval = ""
    services.save_outfall(outfall, user=user, confirm_placement=True)
    assert outfall.section_interval == "孤山—艾庄"  # filled by the check on save
    # Moved downstream through the form (the filled value posted back unchanged): refilled.
    outfall = Outfall.objects.get(pk=outfall.pk)
    outfall.lon, outfall.lat = point_on("御河", 0.70)
    services.save_outfall(outfall, user=user, confirm_placement=True)
    assert Outfall.objects.get(pk=outfall.pk).section_interval == "艾庄—利仁皂"
    # A person types a value: kept, now and after the next move.
    outfall = Outfall.objects.get(pk=outfall.pk)
    outfall.section_interval = "艾庄下游（人工核定）"
    services.save_outfall(outfall, user=user)
    outfall = Outfall.objects.get(pk=outfall.pk)
    outfall.lon, outfall.lat = point_on("御河", 0.30)
    services.save_outfall(outfall, user=user, confirm_placement=True)
    assert Outfall.objects.get(pk=outfall.pk).section_interval == "艾庄下游（人工核定）"
    (finding,) = kinds(outfall, FindingKind.SECTION_INTERVAL)
    assert finding.data["interval"] == "孤山—艾庄" and finding.filled == ""
    assert "台账已填“艾庄下游（人工核定）”（非空间检查所填），未改动" in finding.message
    checks.check_outfalls()  # the batch leaves it too
    assert Outfall.objects.get(pk=outfall.pk).section_interval == "艾庄下游（人工核定）"


def test_demo_values_are_left_alone():
    outfall = outfall_in("140212", water="御河")
    before = outfall.section_interval
    assert before  # filled by the demo loader, not by the check
    place_at(outfall, *point_on("御河", 0.95))
    assert outfall.section_interval == before


def test_river_without_sections_gives_no_interval():
    from outfalls.monitoring.models import Sample  # the monitoring demo samples every section (PROTECT)

    river = WaterBody.objects.get(name="浑河")
    Sample.objects.filter(section__water_body=river).delete()
    river.sections.all().delete()
    outfall = outfall_in("140225", water="浑河")
    outfall = place_at(outfall, outfall.lon, outfall.lat, section_interval="")
    assert outfall.section_interval == ""
    (finding,) = kinds(outfall, FindingKind.SECTION_INTERVAL)
    assert finding.message == "受纳水体“浑河”未设考核断面，无断面区间" and finding.data["interval"] == ""


# Nearest river -----------------------------------------------------------------------------------------
def test_far_from_the_declared_river_names_the_nearest():
    outfall = outfall_in(PINGCHENG, water="十里河")
    lon, lat = point_on("御河", 0.40, offset_m=40)  # next to 御河, kilometres from 十里河
    outfall = place_at(outfall, lon, lat)
    (finding,) = kinds(outfall, FindingKind.FAR_FROM_RIVER)
    assert finding.severity == FindingSeverity.WARNING
    assert finding.message.startswith("距所填受纳水体“十里河”约 ") and "公里，超过 500 米" in finding.message
    assert finding.message.endswith("最近的水体是“御河”，约 40 米")
    assert finding.data["nearest_water"]["name"] == "御河"
    with override_settings(SPATIAL_RIVER_WARN_M=50_000):
        checks.check_outfalls([outfall.pk])
    assert kinds(outfall, FindingKind.FAR_FROM_RIVER) == []


def test_near_its_river_no_warning():
    outfall = place_at(outfall_in("140212", water="御河"), *point_on("御河", 0.3, offset_m=400))
    assert kinds(outfall, FindingKind.FAR_FROM_RIVER) == []
    (finding,) = kinds(outfall, FindingKind.SECTION_INTERVAL)
    assert finding.data["nearest_water"] == {
        "id": outfall.water_body_id,
        "name": "御河",
        "distance_m": pytest.approx(400, abs=5),
    }


# Duplicates --------------------------------------------------------------------------------------------
def clone_near(outfall, east_m, user):
    copy = copy_as_new(outfall)
    copy.lon = outfall.lon + east_m / shapes.metres_per_degree(outfall.lat)[0]
    return services.save_outfall(copy, user=user, confirm_placement=True)


def test_duplicates_within_30_m_on_both_sides(demo_user):
    user = demo_user("bureau")
    original = outfall_in(YUNZHOU)
    copy = clone_near(original, 12, user)
    (mine,) = kinds(copy, FindingKind.DUPLICATE)
    (theirs,) = kinds(original, FindingKind.DUPLICATE)
    assert mine.other_outfall == original and theirs.other_outfall == copy
    assert mine.data["distance_m"] == pytest.approx(12, abs=0.5)
    assert mine.message == "30 米内另有入河排污口（相距约 12 米），可能为重复排口"
    # Moved 40 m away: both findings go.
    copy.lon = original.lon + 40 / shapes.metres_per_degree(original.lat)[0]
    services.save_outfall(copy, user=user, confirm_placement=True)
    assert kinds(copy, FindingKind.DUPLICATE) == [] and kinds(original, FindingKind.DUPLICATE) == []
    # The batch finds the same as the save hook.
    copy.lon = original.lon + 25 / shapes.metres_per_degree(original.lat)[0]
    services.save_outfall(copy, user=user, confirm_placement=True)
    checks.check_outfalls()
    assert [f.other_outfall_id for f in kinds(original, FindingKind.DUPLICATE)] == [copy.pk]
    assert [f.other_outfall_id for f in kinds(copy, FindingKind.DUPLICATE)] == [original.pk]


# The save hook and the batch command -------------------------------------------------------------------
def test_editing_coordinates_updates_findings(demo_user):
    user = demo_user("bureau")
    outfall = outfall_in(PINGCHENG)
    home = outfall.lon, outfall.lat
    assert kinds(outfall, FindingKind.COUNTY_MISMATCH) == []
    point = shapes.shape_of(county(YUNZHOU).boundary).representative_point()
    outfall.lon, outfall.lat = point.x, point.y
    with pytest.raises(ValidationError) as refusal:  # moved into another county: asks first
        services.save_outfall(outfall, user=user)
    assert "云州区" in refusal.value.message_dict["confirm_placement"][0]
    assert Outfall.objects.get(pk=outfall.pk).lon == home[0]  # nothing saved
    services.save_outfall(outfall, user=user, confirm_placement=True)
    assert [f.data["actual"]["name"] for f in kinds(outfall, FindingKind.COUNTY_MISMATCH)] == ["云州区"]
    outfall.lon, outfall.lat = home
    services.save_outfall(outfall, user=user)
    assert kinds(outfall, FindingKind.COUNTY_MISMATCH) == []


def test_spatial_check_command_by_county():
    pingcheng = set(
        SpatialFinding.objects.filter(outfall__county__code=PINGCHENG).values_list("pk", flat=True)
    )
    others = set(SpatialFinding.objects.exclude(outfall__county__code=PINGCHENG).values_list("pk", flat=True))
    # One outfall of each county moved far outside the city without a check.
    moved_here, moved_there = outfall_in(PINGCHENG), outfall_in(YUNZHOU)
    before_here = {f.pk for f in kinds(moved_here)}
    Outfall.objects.filter(pk=moved_here.pk).update(lon=110.5, lat=36.0)
    Outfall.objects.filter(pk=moved_there.pk).update(lon=110.6, lat=36.1)
    out = io.StringIO()
    call_command("spatial_check", "--county", PINGCHENG, stdout=out)
    text = out.getvalue()
    checked = Outfall.objects.filter(county__code=PINGCHENG).count()
    assert "县区：平城区" in text and f"检查入河排污口 {checked} 个" in text
    assert kinds(moved_here, FindingKind.COUNTY_MISMATCH) and kinds(moved_here, FindingKind.FAR_FROM_RIVER)
    assert not kinds(moved_there, FindingKind.COUNTY_MISMATCH)  # another county: not checked
    # Only what changed was written: two new findings of the moved outfall and its section interval
    # (deleted and inserted again); every other finding of the county is the row it was.
    assert "检查结果变化：新增 3，删除 1，" in text
    now_pingcheng = set(
        SpatialFinding.objects.filter(outfall__county__code=PINGCHENG).values_list("pk", flat=True)
    )
    assert now_pingcheng - {f.pk for f in kinds(moved_here)} == pingcheng - before_here
    assert (
        set(SpatialFinding.objects.exclude(outfall__county__code=PINGCHENG).values_list("pk", flat=True))
        == others
    )
    with pytest.raises(CommandError, match="未找到县区代码：999999"):
        call_command("spatial_check", "--county", "999999", stdout=io.StringIO())
    out = io.StringIO()
    call_command("spatial_check", stdout=out)
    assert f"检查入河排污口 {Outfall.objects.count()} 个" in out.getvalue()
    assert kinds(moved_there, FindingKind.COUNTY_MISMATCH)
    # A second run over an unchanged ledger writes nothing.
    out = io.StringIO()
    call_command("spatial_check", stdout=out)
    assert "检查结果变化：新增 0，删除 0，" in out.getvalue()


def _stored_rows():
    """Every stored finding as the check writes it, but the time it wrote it."""
    columns = [c for c in checks.FINDING_COLUMNS if c != "checked_at"]
    rows = SpatialFinding.objects.order_by("outfall", "kind", "other_outfall", "protected_area").values_list(
        *columns
    )
    return list(rows)


def _index_definitions():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, SpatialFinding._meta.db_table)
    return sorted((tuple(c["columns"]), c["unique"]) for c in constraints.values() if c["index"])


def _foreign_keys():
    """(columns, referenced table and column) of the findings table's foreign keys, with PostgreSQL's
    definitions (deferrable, initially deferred) where it has them."""
    table = SpatialFinding._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        definitions = []
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
                " AND contype = 'f'",
                [table],
            )
            definitions = sorted(row[0] for row in cursor.fetchall())
    keys = sorted((tuple(c["columns"]), c["foreign_key"]) for c in constraints.values() if c["foreign_key"])
    return keys, definitions


def test_a_full_rewrite_through_rebuilt_indexes_stores_the_same(monkeypatch):
    """Every finding rewritten (as after this module changes) with the table's indexes dropped and built
    again (core.bulk.indexes_set_aside, above REBUILD_INDEXES_FROM rows): the same rows as inserting into
    them, the same indexes after, and the indexes in use again (a second check keeps every row)."""
    checks.check_outfalls()
    expected, indexes, keys = _stored_rows(), _index_definitions(), _foreign_keys()
    assert len(indexes) >= 4  # outfall, other outfall, protected area, (kind, severity)
    assert len(keys[0]) == 3  # outfall, other outfall, protected area
    SpatialFinding.objects.update(digest=None)  # nothing stored matches: every finding is written again
    monkeypatch.setattr(checks, "REBUILD_INDEXES_FROM", 1)
    dropped = []
    real = checks.bulk.indexes_set_aside

    def spy(model, **options):
        dropped.append(model)
        assert options == {"foreign_keys": True}
        return real(model, **options)

    monkeypatch.setattr(checks.bulk, "indexes_set_aside", spy)
    report = checks.check_outfalls()
    assert dropped == [SpatialFinding] and report.written["kept"] == 0
    assert _stored_rows() == expected and _index_definitions() == indexes and _foreign_keys() == keys
    assert checks.check_outfalls().written == {"inserted": 0, "deleted": 0, "kept": len(expected)}
    # A check of some outfalls never sets the indexes aside.
    some = list(Outfall.objects.order_by("pk").values_list("pk", flat=True)[:5])
    SpatialFinding.objects.filter(outfall__in=some).update(digest=None)
    checks.check_outfalls(some)
    assert dropped == [SpatialFinding] and _stored_rows() == expected


def test_a_rollback_restores_the_indexes_set_aside():
    from django.db import transaction

    from outfalls.core import bulk

    indexes, keys = _index_definitions(), _foreign_keys()
    # (the test runs in a transaction: a savepoint stands for the rollback)
    with pytest.raises(ValueError), transaction.atomic():
        with bulk.indexes_set_aside(SpatialFinding, foreign_keys=True):
            assert len(_index_definitions()) < len(indexes)
            if connection.vendor == "postgresql":
                assert _foreign_keys() == ([], [])
            raise ValueError
    assert _index_definitions() == indexes and _foreign_keys() == keys


def test_a_finding_that_breaks_a_foreign_key_set_aside_fails_the_rewrite():
    """With the foreign keys set aside (PostgreSQL) a row naming no outfall is caught when they are added
    back, and nothing of the rewrite stays."""
    from django.db import IntegrityError, transaction

    from outfalls.core import bulk

    checks.check_outfalls()
    expected, keys = _stored_rows(), _foreign_keys()
    finding = SpatialFinding.objects.order_by("pk").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        with bulk.indexes_set_aside(SpatialFinding, foreign_keys=True):
            SpatialFinding.objects.filter(pk=finding.pk).update(outfall_id=10**9)
        connection.check_constraints()  # SQLite keeps its keys: they are checked here
    assert _stored_rows() == expected and _foreign_keys() == keys


def test_a_large_subset_reads_the_box_around_it_and_finds_what_a_whole_check_found(monkeypatch, demo_user):
    """A check of more than SMALL_BATCH outfalls reads the outfalls and protected areas in the box around
    them (not the whole ledger): after a whole check, checking the outfalls of one county but one (whose
    duplicate partner that one is) changes no stored finding, and reads fewer outfalls than the ledger."""
    anchor = outfall_in(PINGCHENG)
    partner = clone_near(anchor, 10, demo_user("bureau"))
    square_area(anchor.lon, anchor.lat)
    checks.check_outfalls()
    expected = _stored_rows()
    monkeypatch.setattr(checks, "SMALL_BATCH", 2)
    ids = list(
        Outfall.objects.filter(county__code=PINGCHENG).exclude(pk=partner.pk).values_list("pk", flat=True)
    )
    partners = SpatialFinding.objects.filter(kind=FindingKind.DUPLICATE, outfall_id__in=ids).exclude(
        other_outfall_id__in=ids
    )
    in_areas = SpatialFinding.objects.filter(kind=FindingKind.PROTECTED_AREA, outfall_id__in=ids)
    pooled = []
    real = checks._load_pool

    def spy(*args):
        pool = real(*args)
        pooled.append(len(pool[0]))
        return pool

    monkeypatch.setattr(checks, "_load_pool", spy)
    report = checks.check_outfalls(ids)
    assert report.written["inserted"] == 0 and report.written["deleted"] == 0, report.written
    assert _stored_rows() == expected
    assert len(ids) > 2 and pooled and pooled[0] < Outfall.objects.count()
    assert partners.exists() and in_areas.exists()  # findings that reach outside the checked outfalls


def test_compute_writes_nothing():
    before = SpatialFinding.objects.count()
    outfall = outfall_in(PINGCHENG)
    Outfall.objects.filter(pk=outfall.pk).update(lon=110.5, lat=36.0)
    computation = checks.compute([outfall.pk])
    assert any(kind == FindingKind.COUNTY_MISMATCH for _, kind, *_ in computation.findings)
    assert SpatialFinding.objects.count() == before and not kinds(outfall, FindingKind.COUNTY_MISMATCH)


def test_ledger_import_commit_runs_the_checks(tmp_path, demo_user):
    from .test_ledger_import import make_record, new_row

    user = demo_user("pingcheng")
    row = new_row(1, section_interval="")
    lon, lat = point_on("御河", 0.45, offset_m=80)
    row.update(lon=round(lon, 6), lat=round(lat, 6), location=f"{lon:.6f},{lat:.6f}")
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, [row]))
    ledger_import.run_preview(record)
    ledger_import.commit(record, user)
    record.refresh_from_db()
    outfall = Outfall.objects.get(pk=record.created_ids[0])
    assert outfall.section_interval == "孤山—艾庄"
    (finding,) = kinds(outfall, FindingKind.SECTION_INTERVAL)
    assert finding.filled == "孤山—艾庄"
    # The interval is filled before the outfall's first history row is written: one row, naming the import,
    # that already holds it, and the outfall's first version.
    (history,) = outfall.history.all()
    assert f"台账导入 #{record.pk}" in history.history_change_reason and history.history_type == "+"
    assert history.section_interval == "孤山—艾庄" and history.history_user_id == user.pk
    assert outfall.version == 1


# The findings list and the outfall card ----------------------------------------------------------------
URL = reverse("registry:finding_list")


def test_findings_list_scope(client_for):
    response = client_for("pingcheng").get(URL)
    assert response.status_code == 200
    expected = SpatialFinding.objects.filter(outfall__county__code=PINGCHENG)
    assert response.context["paginator"].count == expected.count() > 0
    assert {f.outfall.county.code for f in response.context["object_list"]} == {PINGCHENG}
    # Another county's findings are not counted either.
    counts = {label: n for _, label, n, _ in response.context["severity_counts"]}
    assert sum(counts.values()) == expected.count() and counts["严重"] == 0
    bureau = client_for("bureau").get(URL)
    assert bureau.context["paginator"].count == SpatialFinding.objects.count()
    assert [f.severity for f in bureau.context["object_list"]][
        0
    ] == FindingSeverity.ERROR  # most serious first


def test_findings_list_filters(client_for):
    client = client_for("bureau")
    errors = client.get(URL, {"severity": "error"})
    assert errors.context["paginator"].count == SpatialFinding.objects.filter(severity="error").count()
    assert "应依法取缔" in errors.content.decode()
    lingqiu = client.get(URL, {"kind": "protected_area", "county": "140224"})
    expected = SpatialFinding.objects.filter(kind="protected_area", outfall__county__code="140224")
    assert lingqiu.context["paginator"].count == expected.count() > 0
    water = WaterBody.objects.get(name="壶流河")
    by_water = client.get(URL, {"water_body": water.pk, "q": "泉域"})
    assert by_water.context["paginator"].count == (
        SpatialFinding.objects.filter(outfall__water_body=water, message__contains="泉域").count()
    )
    code = SpatialFinding.objects.filter(kind="protected_area").first().outfall.code
    assert client.get(URL, {"q": code}).context["paginator"].count >= 2  # its area and its interval
    assert client.get(URL, {"severity": "nonsense"}).context["paginator"].count == 0


# (with the navigation's one query for its 排查 items: survey/templatetags/survey_nav.py)
@pytest.mark.parametrize("username, pinned", [("bureau", 12), ("pingcheng", 12)])
def test_findings_list_query_count_is_pinned(client_for, username, pinned):
    client = client_for(username)
    counts = []
    for params in ({}, {"severity": "warning"}, {"page": 2}):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, params).status_code == 200
        counts.append(len(ctx.captured_queries))
    # Page 2 (only section-interval rows) skips the related-outfalls query.
    assert counts == [pinned, pinned, pinned - 1]


def test_outfall_card_shows_findings_and_section_position(client_for):
    finding = SpatialFinding.objects.filter(kind="protected_area").select_related("outfall").first()
    response = client_for("bureau").get(reverse("registry:outfall_detail", args=[finding.outfall_id]))
    html = response.content.decode()
    assert 'data-testid="spatial-card"' in html and finding.message in html
    assert 'data-testid="section-position"' in html and "上游断面" in html and "最近水体" in html


def test_duplicate_in_another_county_is_not_named_to_a_county_user(client_for):
    mine = outfall_in(PINGCHENG)
    theirs = outfall_in(ZONE_CODE)
    place_at(theirs, mine.lon + 10 / shapes.metres_per_degree(mine.lat)[0], mine.lat)
    assert [f.other_outfall_id for f in kinds(mine, FindingKind.DUPLICATE)] == [theirs.pk]
    url = reverse("registry:outfall_detail", args=[mine.pk])
    county_page = client_for("pingcheng").get(url).content.decode()
    assert "可能为重复排口" in county_page and theirs.name not in county_page
    assert theirs.name in client_for("bureau").get(url).content.decode()
    listing = client_for("pingcheng").get(URL, {"kind": "duplicate"}).content.decode()
    assert "可能为重复排口" in listing and theirs.name not in listing


# Parsed reference data --------------------------------------------------------------------------------
def _shifted(geometry, dlon):
    """A GeoJSON geometry moved dlon degrees east."""

    def move(coords):
        if coords and isinstance(coords[0], (int, float)):
            return [coords[0] + dlon, *coords[1:]]
        return [move(c) for c in coords]

    return {**geometry, "coordinates": move(geometry["coordinates"])}


def test_parsed_counties_and_rivers_are_kept_until_they_change():
    """A save's check parses the county boundaries and the rivers once and keeps them (per thread) while
    the reference version holds; a river or a boundary saved since is parsed again at the next check."""
    checks.forget_reference()
    outfall = place_at(outfall_in("140212", water="御河"), *point_on("御河", 0.3, offset_m=100))
    assert (
        kinds(outfall, FindingKind.FAR_FROM_RIVER) == [] and kinds(outfall, FindingKind.COUNTY_MISMATCH) == []
    )
    with CaptureQueriesContext(connection) as ctx:
        checks.check_outfalls([outfall.pk])
    reads = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SELECT (SELECT count(*)")]
    assert not [
        sql for sql in reads if "boundary" in sql or "registry_waterbody" in sql or "registry_section" in sql
    ]

    river = WaterBody.objects.get(name="御河")
    river.geometry = _shifted(river.geometry, 0.2)  # about 17 km east
    river.save()
    checks.check_outfalls([outfall.pk])
    (far,) = kinds(outfall, FindingKind.FAR_FROM_RIVER)
    assert far.message.startswith("距所填受纳水体“御河”约 ")

    xinrong = county("140212")
    xinrong.boundary = _shifted(xinrong.boundary, 0.5)
    xinrong.save()
    checks.check_outfalls([outfall.pk])
    (mismatch,) = kinds(outfall, FindingKind.COUNTY_MISMATCH)
    assert "所填县区“新荣区”边界" in mismatch.message
    assert len(checks.reference_version()) == 4 * len(checks.REFERENCE_MODELS)
