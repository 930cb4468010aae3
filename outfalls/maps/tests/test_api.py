"""The map's JSON endpoints: scope for every demo role, the ledger's filters, aggregates, layers, errors."""

import json

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outfalls.core.models import Jurisdiction
from outfalls.maps.layers import map_cache
from outfalls.registry.choices import ProtectedAreaKind
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, ProtectedArea, WaterBody

from ...conftest import DEMO_USERS

pytestmark = pytest.mark.django_db

OUTFALLS = reverse("maps:api_outfalls")
# Wider than Datong on every side.
CITY_BOX = "111.5,38.5,115.5,41.5"


def get_json(client, url, params=None, status=200):
    response = client.get(url, params or {})
    assert response.status_code == status, response.content[:300]
    return json.loads(response.content)


def outfall_box(queryset):
    box = queryset.aggregate(Min("lon"), Min("lat"), Max("lon"), Max("lat"))
    return f"{box['lon__min']},{box['lat__min']},{box['lon__max']},{box['lat__max']}"


@pytest.mark.parametrize("username", DEMO_USERS)
def test_points_are_exactly_the_visible_outfalls(client_for, demo_user, username):
    client = client_for(username)
    visible = Outfall.objects.visible_to(demo_user(username))
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14})
    assert data["mode"] == "points"  # the demo's 342 outfalls are under the point limit
    assert {p["id"] for p in data["points"]} == set(visible.values_list("id", flat=True))
    assert data["total"] == visible.count()


@pytest.mark.parametrize("username", DEMO_USERS)
@pytest.mark.parametrize("zoom", [6, 9, 11])
def test_aggregates_count_only_the_visible_outfalls(client_for, demo_user, username, zoom):
    client = client_for(username)
    visible = Outfall.objects.visible_to(demo_user(username))
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": zoom})
    assert data["mode"] == "clusters"
    assert data["total"] == sum(c["count"] for c in data["clusters"]) == visible.count()
    by_type = {}
    for cluster in data["clusters"]:
        assert sum(cluster["types"].values()) == cluster["count"]
        for code, n in cluster["types"].items():
            by_type[code] = by_type.get(code, 0) + n
    expected = {}
    for code in visible.values_list("type_code", flat=True):
        expected[code] = expected.get(code, 0) + 1
    assert by_type == expected


def test_a_county_officer_sees_only_their_county(client_for):
    client = client_for("pingcheng")
    pingcheng = set(Outfall.objects.filter(county__code="140213").values_list("id", flat=True))
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14})
    assert {p["id"] for p in data["points"]} == pingcheng
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 8})
    assert data["total"] == len(pingcheng)
    # A box around another county's outfalls holds nothing for them.
    yunzhou = Outfall.objects.filter(county__code="140215")
    data = get_json(client, OUTFALLS, {"bbox": outfall_box(yunzhou), "zoom": 14})
    others = set(Outfall.objects.filter(county__code="140215").values_list("id", flat=True))
    assert not {p["id"] for p in data["points"]} & others


def test_the_ledger_filters_apply(client_for, demo_user):
    client = client_for("bureau")
    params = {"county": "140213", "type_code": "YH", "status": "verified"}
    expected = Outfall.objects.filter(county__code="140213", type_code="YH", status="verified")
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14, **params})
    assert {p["id"] for p in data["points"]} == set(expected.values_list("id", flat=True))
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 8, **params})
    assert data["total"] == expected.count()
    # The search filter, as the ledger searches.
    outfall = Outfall.objects.order_by("id").first()
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14, "q": outfall.code})
    assert [p["id"] for p in data["points"]] == [outfall.id]


def test_the_box_limits_the_points(client_for):
    client = client_for("bureau")
    outfall = Outfall.objects.order_by("id").first()
    box = f"{outfall.lon - 0.001},{outfall.lat - 0.001},{outfall.lon + 0.001},{outfall.lat + 0.001}"
    data = get_json(client, OUTFALLS, {"bbox": box, "zoom": 16})
    inside = Outfall.objects.filter(
        lon__gte=outfall.lon - 0.001,
        lon__lte=outfall.lon + 0.001,
        lat__gte=outfall.lat - 0.001,
        lat__lte=outfall.lat + 0.001,
    )
    assert {p["id"] for p in data["points"]} == set(inside.values_list("id", flat=True))
    point = next(p for p in data["points"] if p["id"] == outfall.id)
    assert point == {
        "id": outfall.id,
        "lon": outfall.lon,
        "lat": outfall.lat,
        "type": outfall.type_code,
        "status": outfall.status,
        "name": outfall.name,
        "code": outfall.code,
    }


def test_more_than_the_point_limit_is_aggregated(client_for, settings):
    settings.MAP_POINT_LIMIT = 20
    client = client_for("bureau")
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14})
    assert data["mode"] == "clusters"
    assert data["total"] == Outfall.objects.count()


def test_cells_stay_put_when_the_map_pans(client_for):
    client = client_for("bureau")
    first = get_json(client, OUTFALLS, {"bbox": "112.0,39.0,115.0,41.0", "zoom": 9})
    moved = get_json(client, OUTFALLS, {"bbox": "112.03,39.02,115.03,41.02", "zoom": 9})

    def cells(data):
        return {tuple(c["bounds"]): c["count"] for c in data["clusters"]}

    shared = cells(first).keys() & cells(moved).keys()
    assert shared
    assert all(cells(first)[key] == cells(moved)[key] for key in shared)


@pytest.mark.parametrize(
    "params",
    [
        {"zoom": 10},
        {"bbox": "1,2,3", "zoom": 10},
        {"bbox": "a,b,c,d", "zoom": 10},
        {"bbox": "114,40,113,41", "zoom": 10},
        {"bbox": CITY_BOX},
        {"bbox": CITY_BOX, "zoom": "near"},
    ],
)
def test_bad_parameters_are_a_400_in_chinese(client_for, params):
    data = get_json(client_for("bureau"), OUTFALLS, params, status=400)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["detail"])


@pytest.mark.parametrize(
    "name",
    ["outfalls", "chains", "rivers", "sections", "protected_areas", "sewer_coverage", "boundaries", "units"],
)
@pytest.mark.parametrize("zoom", ["inf", "-inf", "1e400", "nan", "²", "١٢"])
def test_unreadable_zoom_is_a_400_on_every_endpoint(client_for, name, zoom):
    """zoom=inf and 1e400 were a 500 (int(float("inf")) overflows); "²" passed isdigit() elsewhere."""
    client = client_for("bureau")
    client.raise_request_exception = False
    response = client.get(reverse(f"maps:api_{name}"), {"bbox": CITY_BOX, "zoom": zoom})
    if name in ("sections", "units"):  # these layers take no zoom: it is ignored, never a crash
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content[:200]
    data = response.json()
    assert "zoom" in data["detail"] and "zoom" in data["errors"]


@pytest.mark.parametrize("bbox", ["inf,39,114,41", "113,39,1e400,41", "113,nan,114,41", "١١٣,39,114,41"])
def test_unreadable_bbox_is_a_400(client_for, bbox):
    data = get_json(client_for("bureau"), OUTFALLS, {"bbox": bbox, "zoom": 10}, status=400)
    assert "bbox" in data["detail"]


def test_registered_must_be_yes_or_no(client_for):
    client = client_for("bureau")
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14, "registered": "xyz"}, 400)
    assert "registered" in data["errors"]
    data = get_json(client, OUTFALLS, {"bbox": CITY_BOX, "zoom": 14, "registered": "false"})
    assert data["points"] and len(data["points"]) == Outfall.objects.filter(registered=False).count()


def test_an_invalid_filter_is_a_400_naming_the_field(client_for):
    data = get_json(client_for("bureau"), OUTFALLS, {"bbox": CITY_BOX, "zoom": 14, "type_code": "XX"}, 400)
    assert "type_code" in data["errors"]


@pytest.mark.parametrize(
    "name", ["outfalls", "chains", "rivers", "sections", "protected_areas", "boundaries", "units", "coords"]
)
def test_anonymous_requests_are_refused(client, name):
    response = client.get(reverse(f"maps:api_{name}"), {"bbox": CITY_BOX, "zoom": 10})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "params, pinned",
    [
        # session, user, memberships (+ their rivers), the points
        ({"bbox": CITY_BOX, "zoom": 14}, (5, 5)),
        # session, user, memberships (+ their rivers), the data version, the aggregates (one GROUP BY);
        # the second time the aggregates come from the cache
        ({"bbox": CITY_BOX, "zoom": 8}, (6, 5)),
        # the points query finds more than the limit, then the box's aggregates (not cached)
        ({"bbox": CITY_BOX, "zoom": 14, "_limit": 1}, (6, 6)),
        # a county: the filter form reads the jurisdictions the user may choose from, to check it (other
        # filters read none); a search also reads the ids the gram index holds for the term (registry/search.py)
        ({"bbox": CITY_BOX, "zoom": 14, "county": "140213", "q": "排"}, (7, 7)),
        ({"bbox": CITY_BOX, "zoom": 8, "type_code": "YH"}, (6, 5)),
        # a search is never cached
        ({"bbox": CITY_BOX, "zoom": 8, "q": "排"}, (6, 6)),
    ],
)
@pytest.mark.parametrize("username", ["bureau", "pingcheng", "enterprise"])
def test_box_query_counts_are_pinned(client_for, settings, params, pinned, username):
    map_cache().clear()
    params = dict(params)
    settings.MAP_POINT_LIMIT = params.pop("_limit", 500)
    client = client_for(username)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(OUTFALLS, params)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert tuple(counts) == pinned


def test_cached_aggregates_follow_every_write(client_for, ledger_version_at_once):
    map_cache().clear()
    client = client_for("pingcheng")
    params = {"bbox": CITY_BOX, "zoom": 9}

    def counts():
        data = get_json(client, OUTFALLS, params)
        by_type = {code: sum(c["types"].get(code, 0) for c in data["clusters"]) for code in ("GY", "QT")}
        return data["total"], by_type

    before, types = counts()
    assert counts() == (before, types)  # the second answer comes from the cache
    copy = Outfall.objects.filter(county__code="140213").order_by("id").first()
    copy.pk = copy.id = copy.source_key = copy.national_code = None
    copy.code = ""
    copy.type_code, copy.type_level2, copy.type_level3 = "GY", "", ""
    copy.save()
    assert counts() == (before + 1, {"GY": types["GY"] + 1, "QT": types["QT"]})
    copy.type_code = "QT"
    copy.save()
    assert counts() == (before + 1, {"GY": types["GY"], "QT": types["QT"] + 1})
    copy.delete()
    assert counts() == (before, types)
    # Another scope never shares the entry.
    assert get_json(client_for("bureau"), OUTFALLS, params)["total"] == Outfall.objects.count()


def test_cached_aggregates_follow_raw_sql_and_links(client_for, ledger_version_at_once):
    """Writes that bypass the models (raw SQL, as a bulk import may write) and link changes, which move an
    entity's scope, each make the next city view miss the cache."""
    map_cache().clear()
    params = {"bbox": CITY_BOX, "zoom": 9}
    county, entity = client_for("pingcheng"), client_for("enterprise")

    def answer(client):
        with CaptureQueriesContext(connection) as ctx:
            data = get_json(client, OUTFALLS, params)
        grouped = any("GROUP BY" in q["sql"] for q in ctx.captured_queries)
        by_type = {code: sum(c["types"].get(code, 0) for c in data["clusters"]) for code in ("GY", "QT")}
        return data["total"], by_type, grouped

    total, types, grouped = answer(county)
    assert grouped and answer(county) == (total, types, False)  # the second answer comes from the cache
    copy = Outfall.objects.filter(county__code="140213").order_by("id").first()
    copy.pk = copy.id = copy.source_key = copy.national_code = None
    copy.code = ""
    copy.type_code, copy.type_level2, copy.type_level3 = "GY", "", ""
    copy.save()
    assert answer(county) == (total + 1, {"GY": types["GY"] + 1, "QT": types["QT"]}, True)
    table, links = Outfall._meta.db_table, OutfallUnitLink._meta.db_table
    with connection.cursor() as cursor:  # no model, no updated_at
        cursor.execute(f"UPDATE {table} SET type_code = 'QT' WHERE id = %s", [copy.pk])
    assert answer(county) == (total + 1, {"GY": types["GY"], "QT": types["QT"] + 1}, True)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [copy.pk])
    assert answer(county) == (total, types, True)

    # An entity sees the outfalls it is linked to: a link added, changed and removed by raw SQL.
    unit = DischargeUnit.objects.get(name="山橡集团")
    seen, _, _ = answer(entity)
    assert answer(entity)[2] is False
    other = Outfall.objects.exclude(unit_links__unit=unit).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {links} (outfall_id, unit_id, role, via_channel, share_note, created_at)"
            " VALUES (%s, %s, 'owner', '', '', CURRENT_TIMESTAMP)",
            [(other.pk, unit.pk)],
        )
    assert answer(entity)[::2] == (seen + 1, True)
    assert answer(entity)[2] is False
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {links} SET role = 'shares' WHERE outfall_id = %s", [other.pk])
    assert answer(entity)[2] is True  # a new version, even where the answer is the same
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {links} WHERE outfall_id = %s AND unit_id = %s", [other.pk, unit.pk])
    assert answer(entity)[::2] == (seen, True)


# Reference layers ------------------------------------------------------------------------------------
def test_boundaries_follow_the_jurisdiction_scope_and_simplify(client_for, demo_user):
    city = get_json(client_for("bureau"), reverse("maps:api_boundaries"), {"zoom": 8})
    codes = {f["properties"]["code"] for f in city["features"]}
    expected = set(
        Jurisdiction.objects.filter(level__in=["city", "county", "zone"], boundary__isnull=False).values_list(
            "code", flat=True
        )
    )
    assert codes == expected
    detailed = get_json(client_for("bureau"), reverse("maps:api_boundaries"), {"zoom": 16})

    def vertices(data):
        return len(json.dumps([f["geometry"] for f in data["features"]]))

    assert vertices(city) < vertices(detailed)
    # The same request again comes from the cache, with the same answer.
    assert get_json(client_for("bureau"), reverse("maps:api_boundaries"), {"zoom": 8}) == city

    county = get_json(client_for("pingcheng"), reverse("maps:api_boundaries"), {"zoom": 8})
    assert {f["properties"]["code"] for f in county["features"]} <= {"140200", "140213"}
    assert "140213" in {f["properties"]["code"] for f in county["features"]}


def test_rivers_carry_the_approximate_flag(client_for):
    data = get_json(client_for("pingcheng"), reverse("maps:api_rivers"), {"zoom": 10})
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    for water in WaterBody.objects.exclude(geometry=None):
        assert by_code[water.code]["properties"]["approximate"] == water.geometry_approximate
        assert by_code[water.code]["geometry"]["type"] == water.geometry["type"]


def test_sections_in_the_box(client_for):
    data = get_json(client_for("bureau"), reverse("maps:api_sections"), {"bbox": CITY_BOX})
    from outfalls.registry.models import Section

    assert len(data["features"]) == Section.objects.count()
    section = Section.objects.order_by("id").first()
    box = f"{section.lon - 0.0001},{section.lat - 0.0001},{section.lon + 0.0001},{section.lat + 0.0001}"
    data = get_json(client_for("bureau"), reverse("maps:api_sections"), {"bbox": box})
    assert section.id in {f["properties"]["id"] for f in data["features"]}
    assert len(data["features"]) < Section.objects.count()


def test_protected_areas_by_their_bounding_box(client_for):
    square = {
        "type": "Polygon",
        "coordinates": [[[113.0, 40.0], [113.1, 40.0], [113.1, 40.1], [113.0, 40.1], [113.0, 40.0]]],
    }
    area = ProtectedArea.objects.create(
        name="测试水源地", kind=ProtectedAreaKind.DRINKING_WATER_1, geometry=square, approximate=True
    )
    url = reverse("maps:api_protected_areas")
    data = get_json(client_for("pingcheng"), url, {"bbox": "113.05,40.05,113.2,40.2", "zoom": 12})
    feature = next(f for f in data["features"] if f["properties"]["id"] == area.id)
    assert feature["properties"]["kind_label"] == "饮用水水源一级保护区"
    assert feature["properties"]["approximate"] is True
    data = get_json(client_for("pingcheng"), url, {"bbox": "113.2,40.2,113.3,40.3", "zoom": 12})
    assert area.id not in {f["properties"]["id"] for f in data["features"]}


@pytest.mark.parametrize("username", DEMO_USERS)
def test_units_are_the_visible_ones(client_for, demo_user, username):
    data = get_json(client_for(username), reverse("maps:api_units"), {"bbox": CITY_BOX})
    visible = DischargeUnit.objects.visible_to(demo_user(username)).exclude(lon=None)
    assert {f["properties"]["id"] for f in data["features"]} == set(visible.values_list("id", flat=True))


def test_too_many_units_are_not_drawn(client_for, settings):
    settings.MAP_UNIT_LIMIT = 5
    data = get_json(client_for("bureau"), reverse("maps:api_units"), {"bbox": CITY_BOX})
    assert data["features"] == []
    assert data["truncated"] is True
    assert data["total"] == DischargeUnit.objects.exclude(lon=None).count()
    assert "放大" in data["hint"]


# Chains ------------------------------------------------------------------------------------------------
def test_chains_link_units_outfalls_and_rivers(client_for):
    client = client_for("bureau")
    link = OutfallUnitLink.objects.filter(unit__lon__isnull=False).select_related("outfall", "unit").first()
    outfall = link.outfall
    box = f"{outfall.lon - 0.0005},{outfall.lat - 0.0005},{outfall.lon + 0.0005},{outfall.lat + 0.0005}"
    data = get_json(client, reverse("maps:api_chains"), {"bbox": box, "zoom": 15})
    mine = [f for f in data["features"] if f["properties"]["outfall_id"] == outfall.id]
    unit_lines = [f for f in mine if f["properties"]["segment"] == "unit"]
    assert any(
        f["properties"]["unit_id"] == link.unit_id
        and f["geometry"]["coordinates"] == [[link.unit.lon, link.unit.lat], [outfall.lon, outfall.lat]]
        for f in unit_lines
    )
    river = next(f for f in mine if f["properties"]["segment"] == "river")
    assert river["geometry"]["coordinates"][0] == [outfall.lon, outfall.lat]
    assert river["properties"]["water_body"] == outfall.water_body.name
    # The end lies on the river line (within rounding), at the distance reported.
    from shapely.geometry import Point, shape

    end = Point(river["geometry"]["coordinates"][1])
    assert shape(outfall.water_body.geometry).distance(end) < 1e-5
    assert river["properties"]["distance_m"] >= 0


def test_chains_wait_for_a_close_zoom_and_respect_scope(client_for, demo_user):
    data = get_json(client_for("bureau"), reverse("maps:api_chains"), {"bbox": CITY_BOX, "zoom": 9})
    assert data["features"] == [] and data["truncated"] is True
    user = demo_user("pingcheng")
    data = get_json(client_for("pingcheng"), reverse("maps:api_chains"), {"bbox": CITY_BOX, "zoom": 15})
    visible = set(Outfall.objects.visible_to(user).values_list("id", flat=True))
    units = set(DischargeUnit.objects.visible_to(user).values_list("id", flat=True))
    assert data["features"]
    assert {f["properties"]["outfall_id"] for f in data["features"]} <= visible
    assert {f["properties"]["unit_id"] for f in data["features"] if "unit_id" in f["properties"]} <= units


# Coordinates -------------------------------------------------------------------------------------------
def test_coordinate_lookup_uses_the_shared_conversion(client_for):
    from outfalls.geo.coords import bd09_to_wgs84, gcj02_to_wgs84

    client = client_for("pingcheng")
    data = get_json(client, reverse("maps:api_coords"), {"text": "113.3125, 40.0901", "crs": "gcj02"})
    assert (data["lon"], data["lat"]) == gcj02_to_wgs84(113.3125, 40.0901)
    data = get_json(client, reverse("maps:api_coords"), {"text": "113.3125, 40.0901", "crs": "bd09"})
    assert (data["lon"], data["lat"]) == bd09_to_wgs84(113.3125, 40.0901)
    data = get_json(client, reverse("maps:api_coords"), {"text": "北纬40°05′24″ 东经113°18′45″"})
    assert (data["lon"], data["lat"]) == pytest.approx((113.3125, 40.09), abs=1e-9)
    data = get_json(client, reverse("maps:api_coords"), {"text": "40.09, 113.31"}, status=400)
    assert "填反" in data["detail"]
    data = get_json(client, reverse("maps:api_coords"), {"text": "1, 2", "crs": "mars"}, status=400)
    assert "坐标系" in data["detail"]


# The offline base (MAP_BASE_LAYER=offline) -------------------------------------------------------------------
def test_the_offline_base_holds_the_visible_places_and_the_waters_with_label_points(client_for):
    from shapely.geometry import Point, shape

    from outfalls.core.models import Jurisdiction
    from outfalls.registry.models import WaterBody

    client = client_for("bureau")
    response = client.get("/maps/api/basemap/")
    assert response.status_code == 200 and "max-age=300" in response["Cache-Control"]
    data = response.json()
    areas = data["areas"]["features"]
    with_boundary = Jurisdiction.objects.exclude(boundary=None).filter(
        level__in=["city", "county", "zone", "town"]
    )
    assert len(areas) == with_boundary.count()
    for feature in areas:
        if feature["properties"]["level"] != "city":
            # Each county's name sits inside it.
            assert shape(feature["geometry"]).contains(Point(feature["properties"]["label"]))
    rivers = {f["properties"]["name"]: f for f in data["rivers"]["features"]}
    assert set(rivers) == set(WaterBody.objects.exclude(geometry=None).values_list("name", flat=True))
    yuhe = shape(rivers["御河"]["geometry"])
    # (on the line as sent, simplified to about 30 m)
    assert all(yuhe.distance(Point(p)) < 0.0005 for p in rivers["御河"]["properties"]["labels"])
    # The mask covers what lies around the city, not the city.
    mask = shape(data["mask"])
    city = shape(next(f for f in areas if f["properties"]["level"] == "city")["geometry"])
    assert not mask.contains(city.representative_point()) and mask.contains(
        Point(city.bounds[0] - 1, city.bounds[1])
    )

    # A county officer's base: the city and their county only (Jurisdiction.visible_to).
    mine = client_for("pingcheng").get("/maps/api/basemap/").json()
    assert {f["properties"]["name"] for f in mine["areas"]["features"]} == {"大同市", "平城区"}
    assert client_for("pingcheng").get("/maps/api/basemap/", REMOTE_ADDR="1.2.3.4").status_code == 200


def test_the_offline_base_needs_a_login_and_a_few_queries(client, client_for):
    assert client.get("/maps/api/basemap/").status_code == 401
    signed_in = client_for("yunzhou")
    signed_in.get("/maps/api/basemap/")
    with CaptureQueriesContext(connection) as queries:
        assert signed_in.get("/maps/api/basemap/").status_code == 200
    # session, user, memberships (+ their rivers), places, waters: not one per place or water
    assert len(queries) == 6, [q["sql"][:80] for q in queries.captured_queries]
