"""OGC API - Features at /ogcapi/: documents, items with bbox/limit/paging, scope for anonymous, county and
bureau tokens, JSON/HTML negotiation, errors, query counts; and OWSLib against a live server."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outfalls.core.services import issue_token
from outfalls.maps import gis_features
from outfalls.registry.choices import LifecycleStatus, ProtectedAreaKind
from outfalls.registry.models import Outfall, ProtectedArea, Section, WaterBody

from . import gis_files as g

BASE = "/ogcapi/"
PUBLIC_KEYS = set(gis_features.PUBLIC_KEYS)
PINGCHENG = "140213"
COLLECTION_IDS = ["outfalls", "water-bodies", "sections", "protected-areas", "discharge-units", "unit-chains"]


def disclose(count_per_county=3):
    """Make exactly a few outfalls in every county public, of any status (the disclosure state decides, not
    the status), and every other outfall not public. Returns the public ids."""
    Outfall.objects.update(disclosed=False)
    chosen = []
    per_county = {}
    for o in Outfall.objects.order_by("county__code", "status", "code").select_related("county"):
        if per_county.get(o.county.code, 0) < count_per_county:
            per_county[o.county.code] = per_county.get(o.county.code, 0) + 1
            chosen.append(o.pk)
    Outfall.objects.filter(pk__in=chosen).update(disclosed=True)
    return set(chosen)


def token_header(demo_user, username):
    _, key = issue_token(demo_user(username), name="test")
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def get_json(client, url, params=None, **headers):
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.content[:500]
    return response, response.json()


def all_items(client, collection, params=None, **headers):
    """Every feature of a collection, following the next links."""
    url, query = f"{BASE}collections/{collection}/items", {"limit": 50, **(params or {})}
    features, seen_pages = [], 0
    while url:
        response, data = get_json(client, url, query, **headers)
        assert response["Content-Type"] == "application/geo+json"
        features.extend(data["features"])
        following = [link["href"] for link in data["links"] if link["rel"] == "next"]
        url, query = (following[0], None) if following else (None, None)
        seen_pages += 1
        assert seen_pages < 100
    return features


# Documents --------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_landing_conformance_collections(client):
    response, landing = get_json(client, BASE)
    assert response["Content-Type"] == "application/json"
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].startswith("http://testserver/ogcapi/collections")
    # No client may keep one caller's answer for another (QGIS's cache ignores Vary: test_ogc_qgis.py).
    assert {v.strip() for v in response["Cache-Control"].split(",")} == {"private", "no-cache", "no-store"}

    _, conformance = get_json(client, f"{BASE}conformance")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance["conformsTo"]

    _, collections = get_json(client, f"{BASE}collections")
    ids = [c["id"] for c in collections["collections"]]
    assert ids == COLLECTION_IDS
    for c in collections["collections"]:
        assert c["itemType"] == "feature"
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        item_links = [link for link in c["links"] if link["rel"] == "items"]
        assert {link["type"] for link in item_links} == {"application/geo+json", "text/html"}
    rivers = next(c for c in collections["collections"] if c["id"] == "water-bodies")
    minx, miny, maxx, maxy = rivers["extent"]["spatial"]["bbox"][0]
    assert 112 < minx < maxx < 115 and 39 < miny < maxy < 41

    _, one = get_json(client, f"{BASE}collections/sections")
    assert one["id"] == "sections" and one["extent"]["spatial"]["crs"].endswith("CRS84")
    assert client.get(f"{BASE}collections/nothing").status_code == 404
    # A trailing slash is tolerated, as some clients add one.
    assert client.get(f"{BASE}collections/").status_code == 200


@pytest.mark.django_db
def test_openapi_definition(client):
    response = client.get(f"{BASE}api")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in document["paths"]


# Anonymous --------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_anonymous_sees_only_disclosed_outfalls_with_public_fields(client):
    public = disclose()
    features = all_items(client, "outfalls")
    assert {f["id"] for f in features} == public
    for f in features:
        assert set(f["properties"]) == PUBLIC_KEYS
        assert f["geometry"]["type"] == "Point"
    sample = Outfall.objects.select_related("county", "water_body").get(pk=features[0]["id"])
    props = features[0]["properties"]
    assert props["name"] == sample.name and props["county"] == sample.county.name
    assert props["water_body"] == sample.water_body.name
    assert features[0]["geometry"]["coordinates"] == [sample.lon, sample.lat]
    assert len({f["properties"]["status"] for f in features}) > 1  # public whatever the status
    # Nothing off the public-field list anywhere in the response.
    _, page = get_json(client, f"{BASE}collections/outfalls/items", {"limit": 1000})
    text = str(page)
    for key in ("entity", "resp_basis", "registered", "outlet", "disclosed", "conveyance"):
        assert key not in PUBLIC_KEYS and f"'{key}'" not in text


@pytest.mark.django_db
def test_anonymous_item_outside_the_public_set_is_404(client):
    public = disclose()
    hidden_kept = Outfall.objects.filter(status=LifecycleStatus.KEPT, disclosed=False).first()
    hidden_other = Outfall.objects.exclude(status=LifecycleStatus.KEPT).filter(disclosed=False).first()
    for outfall in (hidden_kept, hidden_other):
        response = client.get(f"{BASE}collections/outfalls/items/{outfall.pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "NotFound"
    shown = next(iter(public))
    response, feature = get_json(client, f"{BASE}collections/outfalls/items/{shown}")
    assert response["Content-Type"] == "application/geo+json"
    assert feature["id"] == shown and set(feature["properties"]) == PUBLIC_KEYS
    assert {link["rel"] for link in feature["links"]} >= {"self", "alternate", "collection"}
    assert client.get(f"{BASE}collections/outfalls/items/abc").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("feature_id", ["²", "١", "1.0", "-1", "0", "99999999999999999999999", "1e400"])
def test_an_item_id_that_no_feature_has_is_a_404_never_a_500(client, feature_id):
    """ "²".isdigit() is True, and int("²") raised: the item view answered 500."""
    client.raise_request_exception = False
    response = client.get(f"{BASE}collections/sections/items/{feature_id}", {"f": "json"})
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


@pytest.mark.django_db
def test_a_yes_no_filter_reads_the_attribute_values_and_refuses_others(client, demo_user):
    """registered=否 (the value the features show, as GDAL sends it for a where clause) used to return
    every outfall; now it filters, and a value that is neither yes nor no is a 400."""
    headers = token_header(demo_user, "bureau")
    items = f"{BASE}collections/outfalls/items"
    unregistered = Outfall.objects.filter(registered=False).count()
    assert 0 < unregistered < Outfall.objects.count()
    for value in ("否", "false"):
        _, data = get_json(client, items, {"registered": value, "limit": 1}, **headers)
        assert data["numberMatched"] == unregistered
    _, data = get_json(client, items, {"registered": "是", "limit": 5000}, **headers)
    assert {f["properties"]["registered"] for f in data["features"]} == {"是"}
    response = client.get(items, {"registered": "xyz"}, **headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and "registered" in body["description"]


@pytest.mark.django_db
def test_anonymous_filters_only_on_public_attributes(client):
    disclose()
    features = all_items(client, "outfalls", {"county": PINGCHENG})
    assert features and {f["properties"]["county"] for f in features} == {"平城区"}
    # Filters on hidden attributes (or a search on unit names) would reveal them: refused.
    for name, value in (("status", "kept"), ("q", "集团"), ("rectification_status", "completed")):
        response = client.get(f"{BASE}collections/outfalls/items", {name: value})
        assert response.status_code == 400
        assert response.json()["code"] == "InvalidParameterValue"


@pytest.mark.django_db
def test_reference_collections_are_public(client):
    rivers = all_items(client, "water-bodies")
    assert len(rivers) == WaterBody.objects.count()
    yuhe = next(f for f in rivers if f["properties"]["name"] == "御河")
    assert yuhe["geometry"]["type"] in ("LineString", "MultiLineString")
    sections = all_items(client, "sections")
    assert len(sections) == Section.objects.count()
    assert {"name", "level", "water_body", "county"} <= set(sections[0]["properties"])


# Tokens -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_county_token_sees_its_county_with_every_field(client, demo_user):
    disclose()
    headers = token_header(demo_user, "pingcheng")
    features = all_items(client, "outfalls", **headers)
    expected = set(Outfall.objects.filter(county__code=PINGCHENG).values_list("pk", flat=True))
    assert {f["id"] for f in features} == expected
    assert {f["properties"]["county"] for f in features} == {"平城区"}
    assert set(features[0]["properties"]) == {key for key, _, _ in gis_features.OUTFALL_FIELDS}
    # Another county's outfall, even a public one, is not theirs: 404.
    other = Outfall.objects.exclude(county__code=PINGCHENG).filter(disclosed=True).first()
    assert client.get(f"{BASE}collections/outfalls/items/{other.pk}", **headers).status_code == 404
    # The ledger's filters work, within the scope.
    yh = all_items(client, "outfalls", {"type_code": "YH", "status": "kept"}, **headers)
    assert {f["id"] for f in yh} == set(
        Outfall.objects.filter(county__code=PINGCHENG, type_code="YH", status="kept").values_list(
            "pk", flat=True
        )
    )
    # A county officer filtering on another county gets nothing from it.
    response = client.get(f"{BASE}collections/outfalls/items", {"county": "140215"}, **headers)
    assert response.status_code == 400 or response.json()["numberMatched"] == 0


@pytest.mark.django_db
def test_bureau_token_sees_the_whole_city(client, demo_user):
    headers = token_header(demo_user, "bureau")
    _, data = get_json(client, f"{BASE}collections/outfalls/items", {"limit": 1}, **headers)
    assert data["numberMatched"] == Outfall.objects.count()
    _, data = get_json(
        client, f"{BASE}collections/outfalls/items", {"county": "140215", "limit": 5}, **headers
    )
    assert data["numberMatched"] == Outfall.objects.filter(county__code="140215").count()
    # Bearer is accepted for clients that only send that form.
    key = headers["HTTP_AUTHORIZATION"].split()[1]
    _, data = get_json(
        client, f"{BASE}collections/outfalls/items", {"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert data["numberMatched"] == Outfall.objects.count()


@pytest.mark.django_db
def test_extent_follows_the_scope(client, demo_user):
    headers = token_header(demo_user, "pingcheng")
    _, data = get_json(client, f"{BASE}collections/outfalls", **headers)
    minx, miny, maxx, maxy = data["extent"]["spatial"]["bbox"][0]
    mine = Outfall.objects.filter(county__code=PINGCHENG)
    assert minx == min(o.lon for o in mine) and maxy == max(o.lat for o in mine)
    # Nobody disclosed: the anonymous collection has no extent to give away.
    Outfall.objects.update(disclosed=False)
    _, data = get_json(client, f"{BASE}collections/outfalls")
    assert "extent" not in data


@pytest.mark.django_db
def test_invalid_token_is_401_not_anonymous(client):
    response = client.get(f"{BASE}collections/outfalls/items", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_session_user_gets_their_scope_in_html(client_for):
    client = client_for("yunzhou")
    response = client.get(f"{BASE}collections/outfalls/items", {"limit": 500}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "云州区" in html and "平城区" not in html.split("ogc-items")[1]


# Paging, bbox, parameters ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_limit_offset_and_links(client, demo_user):
    headers = token_header(demo_user, "bureau")
    total = Outfall.objects.count()
    _, first = get_json(
        client, f"{BASE}collections/outfalls/items", {"limit": 10, "type_code": "GY"}, **headers
    )
    gy = Outfall.objects.filter(type_code="GY").count()
    assert first["numberMatched"] == gy and first["numberReturned"] == 10
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in links
    query = parse_qs(urlparse(links["next"]).query)
    assert query["offset"] == ["10"] and query["limit"] == ["10"] and query["type_code"] == ["GY"]
    _, second = get_json(client, links["next"], **headers)
    assert second["numberReturned"] == 10
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}
    back = parse_qs(urlparse(next(link["href"] for link in second["links"] if link["rel"] == "prev")).query)
    assert back["offset"] == ["0"]
    # The last page has no next link; past the end is an empty page.
    _, last = get_json(
        client, f"{BASE}collections/outfalls/items", {"limit": 10, "offset": total - 3}, **headers
    )
    assert last["numberReturned"] == 3 and "next" not in {link["rel"] for link in last["links"]}
    _, beyond = get_json(client, f"{BASE}collections/outfalls/items", {"offset": total + 10}, **headers)
    assert beyond["features"] == [] and beyond["numberMatched"] == total
    # A limit above the maximum is not an error: the maximum is used.
    _, capped = get_json(client, f"{BASE}collections/outfalls/items", {"limit": 10**6}, **headers)
    assert capped["numberReturned"] == total


@pytest.mark.django_db
def test_bbox_on_points(client, demo_user):
    headers = token_header(demo_user, "bureau")
    bbox = (113.2, 40.0, 113.4, 40.15)
    features = all_items(client, "outfalls", {"bbox": ",".join(map(str, bbox))}, **headers)
    expected = Outfall.objects.filter(lon__gte=113.2, lon__lte=113.4, lat__gte=40.0, lat__lte=40.15)
    assert expected.exists()
    assert {f["id"] for f in features} == set(expected.values_list("pk", flat=True))
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    # Six numbers (with heights) are accepted too.
    _, six = get_json(
        client,
        f"{BASE}collections/outfalls/items",
        {"bbox": "113.2,40.0,0,113.4,40.15,100", "limit": 1},
        **headers,
    )
    assert six["numberMatched"] == expected.count()


@pytest.mark.django_db
def test_bbox_on_polygons_is_exact(client):
    ProtectedArea.objects.create(
        name="测试一级区", kind=ProtectedAreaKind.DRINKING_WATER_1, geometry=shapely_geojson(g.SQUARE)
    )
    ProtectedArea.objects.create(
        name="测试泉域", kind=ProtectedAreaKind.SPRING, geometry=shapely_geojson(g.TRIANGLE)
    )
    # A box inside the square's bounding box but outside the triangle's; then one overlapping only
    # the triangle's bounding box corner, not the triangle itself.
    hit = all_items(client, "protected-areas", {"bbox": "113.31,40.06,113.32,40.07"})
    assert [f["properties"]["name"] for f in hit if f["properties"]["name"].startswith("测试")] == [
        "测试一级区"
    ]
    corner = all_items(client, "protected-areas", {"bbox": "113.50,40.135,113.505,40.14"})
    assert "测试泉域" not in [f["properties"]["name"] for f in corner]
    area = next(f for f in hit if f["properties"]["name"] == "测试一级区")
    assert area["properties"]["kind"] == "drinking_water_1"
    assert area["properties"]["kind_label"] == "饮用水水源一级保护区"
    assert area["geometry"]["type"] == "Polygon"


def shapely_geojson(geom):
    import json

    import shapely

    return json.loads(shapely.to_geojson(geom))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "113,40,114"},
        {"bbox": "a,b,c,d"},
        {"bbox": "113,41,114,40"},
        {"limit": "0"},
        {"limit": "x"},
        {"offset": "-1"},
        {"datetime": "yesterday"},
        {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
        {"crs": "EPSG:3857"},
        {"f": "xml"},
        {"unknown": "1"},
        {"type_code": "NOPE"},
        {"limit": "²"},
        {"limit": "١٠"},
        {"offset": " 5"},
        {"bbox": "113,40,1e400,41"},
        {"bbox": "113,40,inf,41"},
        {"water_body": "²"},
    ],
)
def test_bad_parameters_are_400_with_a_chinese_reason(client, params):
    response = client.get(f"{BASE}collections/outfalls/items", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and body["description"]


@pytest.mark.django_db
def test_datetime_and_crs84_are_accepted(client):
    for params in (
        {"datetime": "2023-09-30T00:00:00Z"},
        {"datetime": "2023-01-01/.."},
        {"datetime": "../2023-09-30"},
        {"bbox-crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "bbox": "113,39,115,41"},
        {"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
    ):
        assert client.get(f"{BASE}collections/sections/items", params).status_code == 200


# Formats ----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_html_and_json_by_f_and_accept(client):
    disclose()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for url in (BASE, f"{BASE}conformance", f"{BASE}collections", f"{BASE}collections/outfalls"):
        html = client.get(url, HTTP_ACCEPT=browser)
        assert html.status_code == 200 and html["Content-Type"].startswith("text/html"), url
        assert client.get(url, {"f": "json"}, HTTP_ACCEPT=browser)["Content-Type"] == "application/json"
        assert client.get(url, {"f": "html"})["Content-Type"].startswith("text/html")
    page = client.get(f"{BASE}collections/outfalls/items", HTTP_ACCEPT=browser)
    assert page["Content-Type"].startswith("text/html")
    assert "ogc-items" in page.content.decode()
    assert (
        client.get(f"{BASE}collections/outfalls/items", HTTP_ACCEPT="application/geo+json")["Content-Type"]
        == "application/geo+json"
    )
    public = Outfall.objects.filter(disclosed=True).first()
    item = client.get(f"{BASE}collections/outfalls/items/{public.pk}", {"f": "html"})
    assert public.name in item.content.decode()
    missing = client.get(f"{BASE}collections/outfalls/items/999999", HTTP_ACCEPT=browser)
    assert missing.status_code == 404 and "ogc-error" in missing.content.decode()
    assert client.post(f"{BASE}collections").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("username", [None, "pingcheng", "bureau"])
def test_items_query_count_is_pinned(client, demo_user, username):
    disclose()
    headers = token_header(demo_user, username) if username else {}

    def count(limit):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{BASE}collections/outfalls/items", {"limit": limit}, **headers)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    count(1)  # a token's first use records its last_used_at (then at most once a minute)
    small, large = count(2), count(300)
    # token (+ user), memberships (+ rivers), count, rows
    assert small == large == (2 if username is None else 5)


# OWSLib against a live server ------------------------------------------------------------------------------
@pytest.fixture
def owslib_headers():
    """OWSLib 0.35 keeps headers in a module-level dict that every client shares and mutates: give each test a
    clean copy and put it back afterwards, or a token from one client leaks into the next."""
    from owslib import ogcapi

    saved = dict(ogcapi.REQUEST_HEADERS)
    yield ogcapi.REQUEST_HEADERS
    ogcapi.REQUEST_HEADERS.clear()
    ogcapi.REQUEST_HEADERS.update(saved)


@pytest.mark.django_db(transaction=True)
def test_owslib_reads_the_api_anonymously_and_with_tokens(demo_db, live_server, owslib_headers):
    from django.contrib.auth import get_user_model
    from owslib.ogcapi.features import Features

    public = disclose(count_per_county=4)
    url = live_server.url + BASE

    anonymous = Features(url)
    assert anonymous.feature_collections() == COLLECTION_IDS
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in anonymous.conformance()["conformsTo"]
    )
    assert anonymous.collection("outfalls")["itemType"] == "feature"
    assert "paths" in anonymous.api()

    # Page through the public outfalls with limit and the next links.
    page = anonymous.collection_items("outfalls", limit=7)
    assert page["numberMatched"] == len(public) and page["numberReturned"] == 7
    seen = [f["id"] for f in page["features"]]
    while True:
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        query = {k: v[0] for k, v in parse_qs(urlparse(following[0]).query).items()}
        page = anonymous.collection_items("outfalls", **query)
        seen.extend(f["id"] for f in page["features"])
    assert set(seen) == public and len(seen) == len(public)
    assert all(set(f["properties"]) == PUBLIC_KEYS for f in page["features"])

    # bbox: only public outfalls inside it.
    bbox = [113.1, 39.9, 113.6, 40.3]
    boxed = anonymous.collection_items("outfalls", bbox=bbox, limit=1000)
    inside = Outfall.objects.filter(
        pk__in=public, lon__gte=bbox[0], lon__lte=bbox[2], lat__gte=bbox[1], lat__lte=bbox[3]
    )
    assert {f["id"] for f in boxed["features"]} == set(inside.values_list("pk", flat=True))
    one = anonymous.collection_item("outfalls", next(iter(public)))
    assert one["type"] == "Feature" and set(one["properties"]) == PUBLIC_KEYS
    rivers = anonymous.collection_items("water-bodies", limit=100)
    assert "御河" in {f["properties"]["name"] for f in rivers["features"]}

    # A county token: its county, every field, more than the public view of that county.
    users = get_user_model().objects
    _, county_token = issue_token(users.get(username="pingcheng"))
    county = Features(url, headers={"Authorization": f"Token {county_token}"})
    mine = county.collection_items("outfalls", limit=1000)
    assert mine["numberMatched"] == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert mine["numberMatched"] > Outfall.objects.filter(pk__in=public, county__code=PINGCHENG).count()
    assert {f["properties"]["county"] for f in mine["features"]} == {"平城区"}
    assert "entity" in mine["features"][0]["properties"]
    other = Outfall.objects.exclude(county__code=PINGCHENG).first()
    with pytest.raises(RuntimeError):
        county.collection_item("outfalls", other.pk)

    # A bureau token: the whole city.
    owslib_headers.pop("Authorization", None)
    _, bureau_token = issue_token(users.get(username="bureau"))
    bureau = Features(url, headers={"Authorization": f"Token {bureau_token}"})
    assert bureau.collection_items("outfalls", limit=1)["numberMatched"] == Outfall.objects.count()

    # Without the header again, anonymous once more.
    owslib_headers.pop("Authorization", None)
    again = Features(url)
    assert again.collection_items("outfalls", limit=1)["numberMatched"] == len(public)

    # GDAL's OAPIF driver (what pyogrio, fiona and GeoPandas use) pages through the same API; with a
    # Bearer token it gets the county's outfalls. It runs in a child process: pyogrio holds the GIL while
    # GDAL waits for the answer, which the live server (a thread of this process) could then never give.
    assert gdal_oapif(url) == {"count": len(public), "fields": sorted(PUBLIC_KEYS), "counties": None}
    mine = gdal_oapif(url, county_token)
    assert mine["count"] == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert mine["counties"] == ["平城区"] and "entity" in mine["fields"]
    # A where clause on a yes/no attribute: GDAL sends it as registered=否, which the API now reads.
    unregistered = gdal_oapif(url, county_token, "registered='否' AND type_code='YH'")
    expected = Outfall.objects.filter(county__code=PINGCHENG, registered=False, type_code="YH").count()
    assert 0 < unregistered["count"] == expected


GDAL_CLIENT = """
import json, sys
import pyogrio, pyogrio.raw
url, token, where = sys.argv[1], sys.argv[2], sys.argv[3] or None
if token:
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
source = "OAPIF:" + url
layers = [str(name) for name, _ in pyogrio.list_layers(source)]
assert layers[:4] == ["outfalls", "water-bodies", "sections", "protected-areas"], layers
meta, _, geometry, columns = pyogrio.raw.read(source, layer="outfalls", where=where)
fields = [str(f) for f in meta["fields"]]
counties = sorted(set(columns[fields.index("county")])) if token else None
print(json.dumps({"count": len(geometry), "fields": sorted(fields), "counties": counties}))
"""


def gdal_oapif(url, token="", where=""):
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", GDAL_CLIENT, url, token, where],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
