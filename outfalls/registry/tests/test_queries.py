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
        # session, user, memberships (+ their rivers), jurisdiction choices, count, rows, ...
        (reverse("registry:outfall_list"), 8),
        (reverse("registry:unit_list"), 7),
        (reverse("registry:waterbody_list"), 7),
        (reverse("registry:section_list"), 7),
        (reverse("core:jurisdiction_list"), 6),
        ("/api/v1/outfalls/", 7),
        ("/api/v1/units/", 7),
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
    assert count_queries(client, "/api/v1/outfalls/", params) == 9
