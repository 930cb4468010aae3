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
