"""Scope for every role on the monitoring pages and API: a user sees rows of the outfalls they see (section data
is shared reference data), 404 for anything else; lists keep a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import issue_token
from outfalls.monitoring.models import Finding, Sample, Station
from outfalls.registry.models import Outfall


def outfall_ids(user):
    return set(Outfall.objects.visible_to(user).values_list("pk", flat=True))


@pytest.mark.parametrize("username", DEMO_USERS)
def test_lists_and_pages_show_only_what_the_role_sees(client_for, demo_user, username):
    user = demo_user(username)
    visible = outfall_ids(user)
    client = client_for(username)
    matrix = client.get("/monitoring/matrix/?from=2020-01-01").content.decode()
    shown = set(re.findall(r'href="/monitoring/outfalls/(\d+)/', matrix))
    assert {int(i) for i in shown} <= visible
    token = issue_token(user, name="test")[1]
    api = client.__class__(HTTP_AUTHORIZATION=f"Token {token}")
    for path, key in (("samples", "outfall"), ("exceedances", "outfall_code")):
        rows = api.get(f"/api/v1/{path}/", {"page_size": 500}).json()["results"]
        codes = {r[key] for r in rows if r[key]}
        assert codes <= set(Outfall.objects.filter(pk__in=visible).values_list("code", flat=True))
    hidden = Finding.objects.exclude(outfall_id__in=visible).first()
    if hidden is not None:
        assert client.get(f"/monitoring/outfalls/{hidden.outfall_id}/").status_code == 404
        assert api.get(f"/api/v1/exceedances/{hidden.pk}/").status_code == 404
        sample = Sample.objects.filter(outfall_id=hidden.outfall_id).first()
        assert client.get(f"/monitoring/samples/{sample.pk}/").status_code == 404
        assert api.get(f"/api/v1/limits/{hidden.outfall_id}/").status_code == 404
    station = Station.objects.exclude(outfall_id__in=visible).first()
    if station is not None:
        assert client.get(f"/monitoring/stations/{station.pk}/").status_code == 404


def test_section_samples_are_shared_reference_data(client_for, demo_user):
    section_sample = Sample.objects.filter(section__isnull=False).first()
    for username in ("pingcheng", "enterprise", "river_chief"):
        assert client_for(username).get(f"/monitoring/samples/{section_sample.pk}/").status_code == 200


def test_a_county_matrix_lists_only_its_outfalls(client_for, demo_user):
    body = client_for("yunzhou").get("/monitoring/matrix/?from=2020-01-01").content.decode()
    assert "云州区" in body and "平城区" not in re.sub(r"<select.*?</select>", "", body, flags=re.S)


@pytest.mark.parametrize(
    "url, queries",
    [
        # session and user (2), the user's scope (2), then the page's own: filter choices, count, rows, prefetches;
        # pages add the menu's question whether the user has survey campaigns
        ("/monitoring/samples/", 11),
        ("/monitoring/findings/", 9),
        ("/monitoring/stations/", 8),
        ("/monitoring/matrix/", 12),
        # (an API list reads the filter's counties and towns only to check one it was given)
        ("/api/v1/samples/", 7),
        ("/api/v1/exceedances/", 6),
        ("/api/v1/stations/", 6),
        ("/api/v1/limits/", 13),  # with the permits app's limits and duties (registry.limits providers)
    ],
)
def test_lists_keep_their_query_count(client_for, url, queries):
    client = client_for("yunzhou")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    assert len(context.captured_queries) == queries, [q["sql"][:120] for q in context.captured_queries]


@pytest.mark.parametrize("username", DEMO_USERS)
def test_draws_show_each_role_only_its_outfalls_and_counties(client_for, demo_user, username):
    """The demo's published city-wide draw (dated today): items only of outfalls the role sees, pools only of
    its counties unless it is a citywide role; the seed only for those who see every pool."""
    user = demo_user(username)
    codes = set(Outfall.objects.visible_to(user).values_list("code", flat=True))
    token = issue_token(user, name="test")[1]
    api = client_for(username).__class__(HTTP_AUTHORIZATION=f"Token {token}")
    [draw] = [d for d in api.get("/api/v1/draws/").json()["results"] if d["name"].endswith("（演示）")]
    assert {item["outfall"] for item in draw["items"]} <= codes
    scope = scope_of(user)
    if scope.citywide:
        assert draw["seed"].startswith("demo-") and len(draw["items"]) == sum(
            p["count"] for p in draw["pools"]
        )
    else:
        counties = set(Jurisdiction.objects.filter(pk__in=scope.county_ids).values_list("name", flat=True))
        assert {p["county_name"] for p in draw["pools"]} <= counties and draw["seed"] == ""
