"""A NUL character anywhere in an API body (JSON, form or multipart; a value, a list item, a key) is a 400 naming
the problem, before any field reads it: PostgreSQL refuses NUL in text and jsonb, so it used to end in a server
error in the first lookup that met it (a county code in POST /campaigns/, found by the contract test)."""

import json

import pytest

from outfalls.core.rest import NUL_MESSAGE
from outfalls.survey.models import Campaign

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaigns/"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "排查", "county": "140213\x00", "deadline": "2027-01-01", "water_bodies": []},
        {"name": "排查", "county": "140213", "team": ["ok", "bad\x00"], "water_bodies": []},
        {"name": "排查", "county": "140213", "notes": {"k\x00": 1}, "water_bodies": []},
    ],
)
def test_a_json_body_with_nul_is_refused(client_for, body):
    before = Campaign.objects.count()
    response = client_for("bureau").post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": NUL_MESSAGE}
    assert Campaign.objects.count() == before


def test_a_form_and_a_multipart_body_with_nul_are_refused(client_for):
    client = client_for("bureau")
    form = client.post(URL, "name=x&county=14%0021", content_type="application/x-www-form-urlencoded")
    multipart = client.post(URL, {"name": "x", "county": "140213\x00"})  # the test client sends multipart
    assert (form.status_code, multipart.status_code) == (400, 400)
    assert form.json()["detail"] == multipart.json()["detail"] == NUL_MESSAGE


def test_a_body_without_nul_goes_on_to_the_fields(client_for):
    response = client_for("bureau").post(URL, {"name": "x", "county": "999999"})
    assert response.status_code == 400 and response.json()["detail"] != NUL_MESSAGE
