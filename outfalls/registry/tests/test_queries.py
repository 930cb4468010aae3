"""Query counts of list pages and API lists are pinned: no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


# A page asks once which 排查 items its navigation offers (survey/templatetags/survey_nav.py); for a user who
# can see no campaign at all (the enterprise) the ORM knows the answer without asking the database.
NAVIGATION_QUERIES = {"bureau": 1, "pingcheng": 1, "enterprise": 0}


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url, pinned",
    [
        # session, user, memberships (+ their rivers), jurisdiction choices (pages only: an API request
        # reads them only to check a county or town it was given), count, rows, ...
        (reverse("registry:outfall_list"), 8),
        (reverse("registry:unit_list"), 7),
        (reverse("registry:waterbody_list"), 7),
        (reverse("registry:section_list"), 7),
        (reverse("core:jurisdiction_list"), 6),
        ("/api/v1/outfalls/", 6),
        ("/api/v1/units/", 6),
        ("/api/v1/water-bodies/", 6),
        ("/api/v1/sections/", 6),
        ("/api/v1/jurisdictions/", 6),
    ],
)
@pytest.mark.parametrize("username", ["bureau", "pingcheng", "enterprise"])
def test_list_query_counts_are_pinned(client_for, url, pinned, username):
    client = client_for(username)
    if "/api/" not in url:
        pinned += NAVIGATION_QUERIES[username]
    if "outfalls" in url and username == "bureau" and connection.vendor == "postgresql":
        pinned += 1  # the whole ledger unfiltered: the table's statistics first (registry/search.py)
    small = count_queries(client, url, {"page_size": 5} if "/api/" in url else {"page": 1})
    large = count_queries(client, url, {"page_size": 200} if "/api/" in url else {"ordering": "-name"})
    assert small == large == pinned


def test_filtered_ledger_query_count(client_for):
    client = client_for("pingcheng")
    params = {"q": "排", "type_code": "YH", "registered": "true", "ordering": "-updated_at"}
    # Two more for a search: how many outfalls the gram index holds for the term (registry/search.py), and
    # the page's ids before its rows (core/pagination.py).
    assert (
        count_queries(client, reverse("registry:outfall_list"), params)
        == 10 + NAVIGATION_QUERIES["pingcheng"]
    )
    assert count_queries(client, "/api/v1/outfalls/", params) == 8


@pytest.mark.parametrize("username", ["bureau", "pingcheng"])
def test_places_are_read_for_a_page_or_a_place_given_never_for_a_plain_api_list(client_for, username):
    """A province has about a thousand counties and towns: an API list reads them only to check a county or
    town it was given, and still refuses one the user cannot see; a page reads them once for its lists."""
    client = client_for(username)

    def place_queries(url, params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, params)
        reads = [q["sql"] for q in ctx.captured_queries if '"core_jurisdiction"."level" IN' in q["sql"]]
        return response, len(reads)

    response, reads = place_queries("/api/v1/outfalls/", {"page_size": 5})
    assert response.status_code == 200 and reads == 0
    response, reads = place_queries("/api/v1/outfalls/", {"county": "140213", "town": "140213003"})
    assert response.status_code == 200 and reads == 1
    assert {row["county"] for row in response.json()["results"]} <= {"140213"}
    if username == "pingcheng":  # another county's code is no choice for 平城区's officer
        response, reads = place_queries("/api/v1/outfalls/", {"county": "140212"})
        assert response.status_code == 400 and "county" in response.json()["errors"]
    response, reads = place_queries(reverse("registry:outfall_list"), {})
    page = response.content.decode()
    assert reads == 1 and 'value="140213"' in page and 'id="id_town-narrow"' in page
    assert '"140213003": {"county": "140213"}' in page
