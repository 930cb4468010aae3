"""Query counts of the setup review's and the permits' lists are pinned: no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# session, user, memberships (+ rivers), filter choices, count, rows, ...; per role where the scope query differs.
@pytest.mark.parametrize(
    "url, pinned",
    # Pages: the menu asks once whether the user has survey campaigns (现场核查 shown only then), except for an
    # enterprise, which never has them.
    [
        (reverse("permits:application_list"), {"bureau": 9, "pingcheng": 9, "enterprise": 8}),
        (reverse("permits:decision_list"), {"bureau": 8, "pingcheng": 7, "enterprise": 6}),
        (reverse("permits:permit_list"), {"bureau": 8, "pingcheng": 8, "enterprise": 7}),
        (reverse("registry:zone_list"), {"bureau": 8, "pingcheng": 8, "enterprise": 7}),
        (reverse("permits:todo"), {"bureau": 13, "pingcheng": 9, "enterprise": 6}),
        ("/api/v1/setup-applications/", {"bureau": 7, "pingcheng": 7, "enterprise": 7}),
        ("/api/v1/setup-decisions/", {"bureau": 7, "pingcheng": 5, "enterprise": 5}),
        ("/api/v1/permits/", {"bureau": 10, "pingcheng": 11, "enterprise": 11}),
        ("/api/v1/water-zones/", {"bureau": 6, "pingcheng": 6, "enterprise": 6}),
    ],
)
@pytest.mark.parametrize("username", ["bureau", "pingcheng", "enterprise"])
def test_list_query_counts_are_pinned(client_for, url, pinned, username):
    client = client_for(username)
    api = "/api/" in url
    small = count_queries(client, url, {"page_size": 2} if api else {"page": 1})
    large = count_queries(client, url, {"page_size": 200} if api else {"ordering": "-status"})
    assert small == large == pinned[username]
