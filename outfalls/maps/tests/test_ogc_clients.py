"""What GIS clients need from /ogcapi/ (issue 16): filters on the values a client sees, queryables, HTTP Basic
counted by the login lockout, discharge units and chain lines in the user's scope, style files, JSON 405 and
404, RFC 7946 polygon rings, dates as dates, ASCII download names. The real clients (GDAL's ogrinfo and
ogr2ogr, OWSLib) run against a live server in test_ogc_gdal.py."""

import base64
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from outfalls.core.choices import LoginChannel, LoginOutcome
from outfalls.core.downloads import ascii_filename, attachment
from outfalls.core.models import LoginEvent
from outfalls.maps import config, ogc_styles
from outfalls.registry.choices import LifecycleStatus, ProtectedAreaKind
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, ProtectedArea

from .test_ogcapi import BASE, PINGCHENG, get_json, token_header

pytestmark = pytest.mark.django_db
ITEMS = f"{BASE}collections/outfalls/items"


def basic(username, password=None, address="127.0.0.1"):
    pair = f"{username}:{settings.DEMO_PASSWORD if password is None else password}"
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair.encode()).decode(),
        "REMOTE_ADDR": address,
    }


@pytest.fixture(autouse=True)
def forget_remembered_passwords():
    cache.clear()
    yield
    cache.clear()


def matched(client, params, **headers):
    _, data = get_json(client, ITEMS, {"limit": 1, **params}, **headers)
    return data["numberMatched"]


# Filters on shown values ------------------------------------------------------------------------------------
def test_filters_take_the_names_and_labels_a_client_sees_as_well_as_codes(client, demo_user):
    headers = token_header(demo_user, "bureau")
    outfall = (
        Outfall.objects.select_related("county", "water_body", "town").filter(town__isnull=False).first()
    )
    pingcheng = Outfall.objects.filter(county__code=PINGCHENG)
    assert matched(client, {"county": "平城区"}, **headers) == pingcheng.count()
    assert matched(client, {"county": PINGCHENG}, **headers) == pingcheng.count()
    kept = Outfall.objects.filter(status=LifecycleStatus.KEPT).count()
    assert (
        matched(client, {"status": "保留"}, **headers)
        == kept
        == matched(client, {"status": "kept"}, **headers)
    )
    on_river = Outfall.objects.filter(water_body=outfall.water_body).count()
    assert matched(client, {"water_body": outfall.water_body.name}, **headers) == on_river
    assert matched(client, {"water_body": str(outfall.water_body_id)}, **headers) == on_river
    in_town = Outfall.objects.filter(town__name=outfall.town.name).count()
    assert matched(client, {"town": outfall.town.name, "county": outfall.county.name}, **headers) == in_town
    done = Outfall.objects.filter(rectification_status="completed").count()
    assert matched(client, {"rect_stat": "已完成"}, **headers) == done > 0
    removed = Outfall.objects.filter(rectification_measure="remove").count()
    assert matched(client, {"rect_meas": "依法取缔"}, **headers) == removed > 0
    both = pingcheng.filter(status=LifecycleStatus.KEPT, type_code="YH").count()
    assert matched(client, {"county": "平城区", "status": "保留", "type_code": "YH"}, **headers) == both


@pytest.mark.parametrize(
    "params",
    [
        {"county": "不存在区"},
        {"status": "不存在"},
        {"water_body": "不存在河"},
        {"town": "不存在镇"},
        {"rect_stat": "x"},
    ],
)
def test_a_value_that_is_neither_a_code_nor_a_shown_value_is_a_400(client, demo_user, params):
    response = client.get(ITEMS, params, **token_header(demo_user, "bureau"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and next(iter(params)) in body["description"]


def test_a_county_officer_cannot_filter_on_another_county_by_name(client, demo_user):
    headers = token_header(demo_user, "pingcheng")
    assert (
        matched(client, {"county": "平城区"}, **headers)
        == Outfall.objects.filter(county__code=PINGCHENG).count()
    )
    assert client.get(ITEMS, {"county": "云州区"}, **headers).status_code == 400


def test_anonymous_clients_filter_public_attributes_by_name(client):
    Outfall.objects.update(disclosed=False)
    kept = Outfall.objects.filter(status=LifecycleStatus.KEPT, county__code=PINGCHENG)
    kept.update(disclosed=True)
    assert matched(client, {"county": "平城区"}) == kept.count() > 0
    assert client.get(ITEMS, {"status": "保留"}).status_code == 400  # status is not public


def test_reference_collections_filter_by_shown_values(client):
    _, data = get_json(client, f"{BASE}collections/sections/items", {"level": "国考"})
    assert data["numberMatched"] > 0 and {f["properties"]["level"] for f in data["features"]} == {"国考"}
    _, data = get_json(client, f"{BASE}collections/water-bodies/items", {"name": "御河"})
    assert [f["properties"]["name"] for f in data["features"]] == ["御河"]
    assert client.get(f"{BASE}collections/sections/items", {"level": "县考"}).status_code == 400


def test_queryables_list_the_filterable_properties_with_the_values_they_show(client, demo_user):
    response, schema = get_json(
        client, f"{BASE}collections/outfalls/queryables", **token_header(demo_user, "pingcheng")
    )
    assert response["Content-Type"] == "application/schema+json"
    assert schema["type"] == "object" and schema["$id"].endswith("/collections/outfalls/queryables")
    properties = schema["properties"]
    assert {"county", "town", "water_body", "status", "type_code", "registered", "rect_stat"} <= set(
        properties
    )
    assert properties["county"] == {"title": "县区", "type": "string", "enum": ["平城区"]}
    assert "保留" in properties["status"]["enum"] and properties["registered"]["enum"] == ["是", "否"]
    _, public = get_json(client, f"{BASE}collections/outfalls/queryables")
    assert set(public["properties"]) == {"county", "water_body", "type_code"}
    assert (
        "平城区" in public["properties"]["county"]["enum"]
        and "云州区" in public["properties"]["county"]["enum"]
    )
    _, collection = get_json(client, f"{BASE}collections/outfalls")
    rels = {link["rel"]: link for link in collection["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"]["type"] == "application/schema+json"
    html = client.get(f"{BASE}collections/outfalls/queryables", {"f": "html"}).content.decode()
    assert 'data-testid="ogc-queryables"' in html and "平城区" in html


def test_the_openapi_document_names_each_collections_filters(client, demo_user):
    _, document = get_json(client, f"{BASE}api", **token_header(demo_user, "bureau"))
    names = {p["name"] for p in document["paths"]["/collections/outfalls/items"]["get"]["parameters"]}
    assert {"county", "status", "water_body", "rect_stat", "bbox", "limit"} <= names
    units = {p["name"] for p in document["paths"]["/collections/discharge-units/items"]["get"]["parameters"]}
    assert {"kind", "county", "name"} <= units and "status" not in units
    _, public = get_json(client, f"{BASE}api")
    names = {p["name"] for p in public["paths"]["/collections/outfalls/items"]["get"]["parameters"]}
    assert "status" not in names and "county" in names


# HTTP Basic --------------------------------------------------------------------------------------------------
def test_basic_auth_gives_the_users_scope(client):
    assert matched(client, {}, **basic("pingcheng")) == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert matched(client, {}, **basic("bureau")) == Outfall.objects.count()
    # Remembered: a second request does not hash the password again, and still gives the scope.
    assert matched(client, {}, **basic("pingcheng")) == Outfall.objects.filter(county__code=PINGCHENG).count()


def test_basic_auth_only_over_https_or_from_this_machine(client):
    over_http = client.get(ITEMS, **basic("bureau", address="10.1.2.3"))
    assert over_http.status_code == 401 and "HTTPS" in over_http.json()["description"]
    assert "Basic" not in over_http["WWW-Authenticate"]
    over_https = client.get(ITEMS, {"limit": 1}, secure=True, **basic("bureau", address="10.1.2.3"))
    assert over_https.status_code == 200 and over_https.json()["numberMatched"] == Outfall.objects.count()
    with override_settings(OGCAPI_BASIC_AUTH="off"):
        assert client.get(ITEMS, secure=True, **basic("bureau")).status_code == 401
    with override_settings(OGCAPI_BASIC_AUTH="always"):
        assert client.get(ITEMS, **basic("bureau", address="10.1.2.3")).status_code == 200


def test_a_wrong_password_is_a_401_that_the_lockout_counts_and_audits(client):
    response = client.get(ITEMS, **basic("yunzhou", "wrong"))
    assert response.status_code == 401
    assert response.json() == {"code": "Unauthorized", "description": "用户名或密码不正确。"}
    assert 'Basic realm="ogcapi"' in response["WWW-Authenticate"]
    assert AccessAttempt.objects.filter(username="yunzhou").get().failures_since_start == 1
    event = LoginEvent.objects.filter(username="yunzhou").latest("pk")
    assert (event.outcome, event.channel) == (LoginOutcome.FAILURE, LoginChannel.API)
    bad = client.get(ITEMS, HTTP_AUTHORIZATION="Basic !!!", REMOTE_ADDR="127.0.0.1")
    assert bad.status_code == 401 and "Base64" in bad.json()["description"]


def test_repeated_wrong_passwords_lock_the_name_out_of_the_ogc_api_too(client):
    limit = settings.LOGIN_FAILURE_LIMIT
    answers = [client.get(ITEMS, **basic("yunzhou", f"wrong-{i}")).status_code for i in range(limit + 2)]
    assert answers[: limit - 1] == [401] * (limit - 1) and set(answers[limit - 1 :]) == {429}
    right = client.get(ITEMS, **basic("yunzhou"))
    assert right.status_code == 429 and right["Content-Type"] == "application/json"
    assert right.json()["code"] == "TooManyRequests" and "登录失败次数过多" in right.json()["description"]
    # The page login is locked for that name as well: one counter.
    page = client.post("/accounts/login/", {"username": "yunzhou", "password": settings.DEMO_PASSWORD})
    assert page.status_code == 429


# Units and chains ---------------------------------------------------------------------------------------------
def test_units_and_chains_follow_the_scope(client, demo_user):
    headers = token_header(demo_user, "pingcheng")
    user = demo_user("pingcheng")
    _, units = get_json(client, f"{BASE}collections/discharge-units/items", {"limit": 5000}, **headers)
    assert {f["id"] for f in units["features"]} == set(
        DischargeUnit.objects.visible_to(user).values_list("pk", flat=True)
    )
    assert (
        units["features"][0]["geometry"]["type"] == "Point"
        and "credit_code" in units["features"][0]["properties"]
    )
    _, chains = get_json(client, f"{BASE}collections/unit-chains/items", {"limit": 5000}, **headers)
    mine = set(Outfall.objects.visible_to(user).values_list("code", flat=True))
    assert chains["features"] and {f["properties"]["outfall_cd"] for f in chains["features"]} <= mine
    link = OutfallUnitLink.objects.select_related("unit", "outfall").get(pk=chains["features"][0]["id"])
    assert chains["features"][0]["geometry"] == {
        "type": "LineString",
        "coordinates": [[link.unit.lon, link.unit.lat], [link.outfall.lon, link.outfall.lat]],
    }
    assert chains["features"][0]["properties"]["role"] == link.get_role_display()
    bureau = token_header(demo_user, "bureau")
    _, all_chains = get_json(client, f"{BASE}collections/unit-chains/items", {"limit": 1}, **bureau)
    assert all_chains["numberMatched"] > chains["numberMatched"]
    # By role label, and in a box (the line's own shape).
    _, borrowed = get_json(client, f"{BASE}collections/unit-chains/items", {"role": "借道排污"}, **bureau)
    assert borrowed["numberMatched"] == OutfallUnitLink.objects.filter(role="borrows").count() > 0
    lon, lat = link.outfall.lon, link.outfall.lat
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    _, boxed = get_json(client, f"{BASE}collections/unit-chains/items", {"bbox": box}, **headers)
    assert link.pk in {f["id"] for f in boxed["features"]}
    # Another county's unit is a 404 for this officer; anonymous clients get none at all.
    other = DischargeUnit.objects.exclude(pk__in=DischargeUnit.objects.visible_to(user)).first()
    assert client.get(f"{BASE}collections/discharge-units/items/{other.pk}", **headers).status_code == 404
    for collection in ("discharge-units", "unit-chains"):
        _, data = get_json(client, f"{BASE}collections/{collection}/items")
        assert data["numberMatched"] == 0


# Styles ------------------------------------------------------------------------------------------------------
def test_styles_are_linked_from_the_collection_and_follow_the_maps_colours(client):
    _, collection = get_json(client, f"{BASE}collections/outfalls")
    styles = {link["type"]: link["href"] for link in collection["links"] if link["rel"] == "stylesheet"}
    assert set(styles) == {"application/vnd.qgis.qml", "application/vnd.ogc.sld+xml"}
    sld = client.get(styles["application/vnd.ogc.sld+xml"])
    assert sld.status_code == 200 and 'filename="outfalls-style.sld"' in sld["Content-Disposition"]
    assert "filename*=UTF-8''" in sld["Content-Disposition"]
    ns = {"sld": "http://www.opengis.net/sld", "ogc": "http://www.opengis.net/ogc"}
    root = ET.fromstring(sld.content)
    rules = root.findall(".//sld:Rule", ns)
    assert len(rules) == len(TypeCode) * (len(LifecycleStatus) + 1)
    kept_gy = next(r for r in rules if r.find("sld:Name", ns).text == "GY-kept")
    literals = [e.text for e in kept_gy.findall(".//ogc:Literal", ns)]
    assert literals == ["GY", "保留"]
    fill = kept_gy.find(".//sld:Fill/sld:CssParameter[@name='fill']", ns).text
    assert fill == config.TYPE_COLOURS[TypeCode.GY]
    stroke = kept_gy.find(".//sld:Stroke/sld:CssParameter[@name='stroke']", ns).text
    assert stroke == config.STATUS_STYLES[LifecycleStatus.KEPT]["stroke"]

    qml = client.get(styles["application/vnd.qgis.qml"])
    root = ET.fromstring(qml.content.decode().split("\n", 1)[1])  # after the DOCTYPE line
    assert root.find("renderer-v2").get("type") == "RuleRenderer"
    type_rules = root.findall("renderer-v2/rules/rule")
    assert [r.get("filter") for r in type_rules] == [f"\"type_code\" = '{code.value}'" for code in TypeCode]
    children = type_rules[0].findall("rule")
    assert children[-1].get("filter") == "ELSE" and len(children) == len(LifecycleStatus) + 1
    symbols = {s.get("name"): s for s in root.findall("renderer-v2/symbols/symbol")}
    suspected = symbols[children[0].get("symbol")]
    values = {o.get("name"): o.get("value") for o in suspected.iter("Option") if o.get("name")}
    assert values["outline_style"] == "dash" and values["color"].startswith("214,39,40,")
    assert client.get(f"{BASE}collections/sections/styles/qml").status_code == 404
    assert ogc_styles.rules()[0][1] == TypeCode.GY


# Formats ------------------------------------------------------------------------------------------------------
def test_post_is_a_json_405_and_unknown_paths_a_json_404(client):
    for url in (BASE, ITEMS, f"{BASE}collections", f"{BASE}api"):
        response = client.post(url, {"x": 1})
        assert response.status_code == 405, url
        assert response.json()["code"] == "MethodNotAllowed" and response["Allow"] == "GET, HEAD"
    for path in ("nothing", "collections/outfalls/nothing", "collections/outfalls/items/1/more", "a/b/c"):
        response = client.get(BASE + path)
        assert response.status_code == 404 and response.json()["code"] == "NotFound", path
    browser = client.get(f"{BASE}nothing", HTTP_ACCEPT="text/html")
    assert browser.status_code == 404 and "ogc-error" in browser.content.decode()


def test_polygon_rings_follow_the_right_hand_rule(client):
    clockwise = [[113.30, 40.05], [113.30, 40.06], [113.31, 40.06], [113.31, 40.05], [113.30, 40.05]]
    hole = [[113.302, 40.052], [113.308, 40.052], [113.308, 40.058], [113.302, 40.058], [113.302, 40.052]]
    area = ProtectedArea.objects.create(
        name="顺时针测试区",
        kind=ProtectedAreaKind.DRINKING_WATER_1,
        geometry={"type": "Polygon", "coordinates": [clockwise, hole]},
    )
    _, feature = get_json(client, f"{BASE}collections/protected-areas/items/{area.pk}")
    exterior, interior = feature["geometry"]["coordinates"]
    assert shapely.LinearRing(exterior).is_ccw and not shapely.LinearRing(interior).is_ccw
    assert shapely.Polygon(exterior, [interior]).equals(shapely.Polygon(clockwise, [hole]))


def test_gis_exports_have_date_fields_and_an_ascii_file_name(client_for, tmp_path):
    client = client_for("bureau")
    dated = Outfall.objects.filter(approval_date__isnull=False).order_by("code").first()
    response = client.get("/gis/export/outfalls.gpkg", {"county": dated.county.code})
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert f'filename="outfalls-{dated.county.code}-' in disposition and "filename*=UTF-8''" in disposition
    path = tmp_path / "export.gpkg"
    path.write_bytes(b"".join(response.streaming_content))
    info = pyogrio.read_info(path)
    fields = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert fields["设置审批或排污许可批准时间"] == "datetime64[D]"
    _, _, _, columns = pyogrio.raw.read(path, columns=["排污口编码", "设置审批或排污许可批准时间"])
    by_code = dict(zip(columns[0], columns[1], strict=True))
    assert by_code[dated.code] == np.datetime64(dated.approval_date, "D")
    shp = client.get("/gis/export/outfalls.shp")
    with zipfile.ZipFile(io.BytesIO(b"".join(shp.streaming_content))) as archive:
        dbf = archive.read("outfalls.dbf")
    # dBASE field descriptors: 32 bytes each from byte 32, type at offset 11.
    descriptors = {
        dbf[i : i + 11].rstrip(b"\0").decode(): chr(dbf[i + 11]) for i in range(32, dbf.index(b"\r"), 32)
    }
    assert descriptors["appr_date"] == "D"


def test_ascii_file_names():
    assert ascii_filename("入河排污口-平城区-20260101.gpkg") == "download-20260101.gpkg"
    assert ascii_filename("ledger 2026.xlsx") == "ledger-2026.xlsx"
    assert ascii_filename("通报.docx") == "download.docx"
    header = attachment('台账"x".csv')
    assert header.startswith('attachment; filename="x.csv"; ')
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6" in header
    assert json.dumps(header).isascii()
