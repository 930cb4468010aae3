import pytest

from outfalls.registry.models import Outfall

pytestmark = pytest.mark.django_db

REQUIRED = {
    "id",
    "code",
    "national_code",
    "name",
    "type_code",
    "county",
    "lon",
    "lat",
    "water_body",
    "status",
}


def test_token_auth_and_pagination(client):
    response = client.post("/api/v1/auth/token/", {"username": "pingcheng", "password": "Datong@2023"})
    assert response.status_code == 200
    token = response.json()["token"]
    data = client.get("/api/v1/outfalls/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert REQUIRED <= set(data["results"][0])
    assert {row["county"] for row in data["results"]} == {"140213"}


def test_wrong_password_gets_no_token(client):
    assert client.post("/api/v1/auth/token/", {"username": "pingcheng", "password": "x"}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/outfalls/",
        "/api/v1/units/",
        "/api/v1/water-bodies/",
        "/api/v1/sections/",
        "/api/v1/jurisdictions/",
        "/api/schema/",
    ],
)
def test_anonymous_is_refused(client, url):
    assert client.get(url).status_code in (401, 403)


def test_filters_match_the_list_page(client_for):
    client = client_for("bureau")
    data = client.get("/api/v1/outfalls/", {"county": "140215", "type_code": "GY", "page_size": 500}).json()
    expected = Outfall.objects.filter(county__code="140215", type_code="GY")
    assert data["count"] == expected.count() > 0
    assert {r["id"] for r in data["results"]} == set(expected.values_list("id", flat=True))
    by_status = client.get("/api/v1/outfalls/", {"status": "kept", "registered": "true"}).json()
    assert by_status["count"] == Outfall.objects.filter(status="kept", registered=True).count()


def test_detail_carries_unit_links(client_for):
    client = client_for("bureau")
    outfall = Outfall.objects.filter(unit_links__isnull=False).first()
    data = client.get(f"/api/v1/outfalls/{outfall.id}/").json()
    assert {link["unit"] for link in data["unit_links"]} == set(
        outfall.unit_links.values_list("unit_id", flat=True)
    )


def test_openapi_schema(client_for):
    client = client_for("bureau")
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/outfalls/",
        "/api/v1/units/",
        "/api/v1/water-bodies/",
        "/api/v1/sections/",
        "/api/v1/jurisdictions/",
        "/api/v1/auth/token/",
    ):
        assert path in paths


def test_reference_registers(client_for):
    client = client_for("pingcheng")
    waters = client.get("/api/v1/water-bodies/").json()
    assert waters["count"] >= 8
    river = client.get(f"/api/v1/water-bodies/{waters['results'][0]['id']}/").json()
    assert river["geometry"]["type"] in ("LineString", "MultiLineString")
    sections = client.get("/api/v1/sections/", {"level": "national"}).json()
    assert {s["name"] for s in sections["results"]} >= {"固定桥", "利仁皂"}


# Strict query parameters and one error shape (core/rest.py) ---------------------------------------------------
@pytest.mark.parametrize(
    "url, params, name",
    [
        ("/api/v1/outfalls/", {"registered": "xyz"}, "registered"),  # was ignored: every outfall came back
        ("/api/v1/outfalls/", {"status": "nope"}, "status"),
        ("/api/v1/outfalls/", {"water_body": "²"}, "water_body"),
        ("/api/v1/outfalls/", {"water_body": "null"}, "water_body"),
        ("/api/v1/outfalls/", {"registred": "true"}, "registred"),  # a misspelt filter was ignored too
        ("/api/v1/outfalls/", {"page": "abc"}, "page"),
        ("/api/v1/outfalls/", {"page": "0"}, "page"),
        ("/api/v1/outfalls/", {"page_size": "²"}, "page_size"),  # was the default page size
        ("/api/v1/units/", {"has_permit": "maybe"}, "has_permit"),
        ("/api/v1/jurisdictions/", {"colour": "red"}, "colour"),
        ("/api/v1/measure-proposals/", {"rule": "no_such_rule"}, "rule"),
    ],
)
def test_a_bad_or_unknown_query_parameter_is_a_400_naming_it(client_for, url, params, name):
    response = client_for("bureau").get(url, params)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert name in body["errors"] and name in body["detail"]
    assert isinstance(body["detail"], str) and any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])


def test_an_unknown_parameter_answer_lists_the_known_ones(client_for):
    body = client_for("bureau").get("/api/v1/sections/", {"foo": "1"}).json()
    assert "可用参数" in body["detail"] and "water_body" in body["detail"] and "page_size" in body["detail"]


def test_a_parameter_given_twice_is_a_400(client_for):
    response = client_for("bureau").get("/api/v1/outfalls/?status=kept&status=merged")
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_yes_no_filters_read_the_attribute_words_too(client_for):
    client = client_for("bureau")
    unregistered = Outfall.objects.filter(registered=False).count()
    for value in ("false", "否", "0"):
        assert client.get("/api/v1/outfalls/", {"registered": value}).json()["count"] == unregistered


def test_empty_values_mean_no_filter(client_for):
    client = client_for("pingcheng")
    everything = client.get("/api/v1/outfalls/").json()["count"]
    assert (
        client.get("/api/v1/outfalls/", {"registered": "", "status": "", "page": ""}).json()["count"]
        == everything
    )


def test_every_error_has_the_same_shape(client_for):
    client = client_for("pingcheng")
    beyond = client.get("/api/v1/outfalls/", {"page": "9999"})
    assert beyond.status_code == 404 and isinstance(beyond.json()["detail"], str)
    outside = Outfall.objects.exclude(county__code="140213").first()
    missing = client.get(f"/api/v1/outfalls/{outside.pk}/")
    assert missing.status_code == 404 and set(missing.json()) == {"detail"}
    # An id the router's pattern refuses is the API's JSON 404 too, not the HTML page.
    odd = client.get("/api/v1/outfalls/0.5/")
    assert odd.status_code == 404 and odd["Content-Type"] == "application/json" and odd.json()["detail"]


def test_the_html_ledger_shows_the_filter_error_and_no_rows(client_for):
    response = client_for("bureau").get("/ledger/outfalls/", {"registered": "xyz"})
    assert response.status_code == 200
    assert "registered" in response.context["filter"].errors
    assert response.context["paginator"].count == 0
    assert "应为 true（是）或 false（否）" in response.content.decode()


# The OpenAPI document --------------------------------------------------------------------------------------
@pytest.fixture
def openapi(client_for):
    return client_for("bureau").get("/api/schema/", {"format": "json"}).json()


def test_schema_says_which_fields_may_be_null(openapi):
    """A validated crawl found 1,244 responses with null where the schema said non-nullable."""
    schemas = openapi["components"]["schemas"]
    for component, fields in {
        "Outfall": ("town", "village", "responsible_entity_name"),
        "OutfallDetail": ("town", "village", "responsible_entity_name"),
        "Jurisdiction": ("parent", "county"),
        "WaterBody": ("parent_name",),
        "Section": ("county",),
        "MeasureProposal": ("decided_by",),
    }.items():
        for field in fields:
            assert schemas[component]["properties"][field].get("nullable") is True, (component, field)
    # And the data has such nulls, so the flags matter.
    assert (
        Outfall.objects.filter(town=None).exists()
        and Outfall.objects.filter(responsible_entity=None).exists()
    )


def test_schema_documents_the_decision_bodies_and_the_errors(openapi):
    paths = openapi["paths"]
    accept = paths["/api/v1/measure-proposals/{id}/accept/"]["post"]
    assert "requestBody" not in accept  # it takes no body (it was documented as a whole proposal)
    override = paths["/api/v1/measure-proposals/{id}/override/"]["post"]
    ref = override["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    body = openapi["components"]["schemas"][ref]
    assert set(body["properties"]) == {"measure", "reason"} and body["required"] == ["measure"]
    error = openapi["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"] and set(error["properties"]) == {"detail", "errors"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            for code in ("400", "401", "403", "404"):
                content = operation["responses"][code]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    ordering = next(p for p in paths["/api/v1/outfalls/"]["get"]["parameters"] if p["name"] == "ordering")
    assert ordering["explode"] is False and ordering["allowEmptyValue"] is True
