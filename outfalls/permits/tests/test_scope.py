"""Scope of the setup review and the permits for all eight demo roles: pages, API, exports, counts.

The expected rows are computed from the raw data and the rules in docs/architecture.md, not through
visible_to(), so a wrong scope rule fails here."""

import csv
import io
import re

import pytest
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import Department, Jurisdiction, Membership
from outfalls.permits import services
from outfalls.permits.choices import ApplicationStatus
from outfalls.permits.models import Decision, DischargePermit, PermitOutfall, SetupApplication
from outfalls.registry.models import Outfall

pytestmark = pytest.mark.django_db

CITY = ("city_admin", "bureau", "auditor")


def expected_application_ids(username):
    rows = SetupApplication.objects.all()
    if username in CITY:
        pass
    elif username == "pingcheng":
        rows = rows.filter(county__code="140213")
    elif username == "yunzhou":
        rows = rows.filter(county__code="140215")
    elif username == "chengguan":
        rows = rows.filter(type_level2__in=Department.objects.get(name="市城市管理局").responsible_types)
    elif username == "enterprise":
        rows = rows.filter(applicant=Membership.objects.get(user__username="enterprise").unit)
    elif username == "river_chief":
        rows = rows.filter(water_body__name="御河")
    return set(rows.values_list("id", flat=True))


def expected_permit_ids(username):
    if username in CITY:
        return set(DischargePermit.objects.values_list("id", flat=True))
    outfalls = Outfall.objects.all()
    units = set()
    if username in ("pingcheng", "yunzhou"):
        code = {"pingcheng": "140213", "yunzhou": "140215"}[username]
        outfalls = outfalls.filter(county__code=code)
        units = set(DischargePermit.objects.filter(unit__county__code=code).values_list("id", flat=True))
    elif username == "chengguan":
        outfalls = outfalls.filter(
            type_level2__in=Department.objects.get(name="市城市管理局").responsible_types
        )
    elif username == "enterprise":
        unit = Membership.objects.get(user__username="enterprise").unit
        outfalls = Outfall.objects.filter(responsible_entity=unit) | Outfall.objects.filter(
            unit_links__unit=unit, unit_links__role="owner"
        )
        units = set(DischargePermit.objects.filter(unit=unit).values_list("id", flat=True))
    elif username == "river_chief":
        outfalls = outfalls.filter(water_body__name="御河")
    covering = set(PermitOutfall.objects.filter(outfall__in=outfalls).values_list("permit_id", flat=True))
    return covering | units


def api_ids(client, url):
    ids, next_url = [], f"{url}?page_size=500"
    while next_url:
        data = client.get(next_url).json()
        ids += [row["id"] for row in data["results"]]
        next_url = data["next"]
    return set(ids)


def test_demo_gives_the_roles_different_applications():
    assert len(expected_application_ids("bureau")) >= 8
    for username in ("pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief"):
        assert 0 < len(expected_application_ids(username)) < len(expected_application_ids("bureau")), username
    assert 0 < len(expected_permit_ids("pingcheng")) < DischargePermit.objects.count()


@pytest.mark.parametrize("username", DEMO_USERS)
def test_applications_pages_api_export_and_counts(client_for, username):
    client = client_for(username)
    expected = expected_application_ids(username)
    page = client.get(reverse("permits:application_list"))
    assert page.status_code == 200
    assert page.context["paginator"].count == len(expected)
    assert api_ids(client, "/api/v1/setup-applications/") == expected
    export = client.get(reverse("permits:application_export"))
    header, *rows = csv.reader(io.StringIO(export.content.decode("utf-8-sig")))
    numbers = set(SetupApplication.objects.filter(id__in=expected).values_list("number", flat=True))
    assert {r[header.index("申请编号")] for r in rows} == numbers
    decisions = set(Decision.objects.filter(application_id__in=expected).values_list("id", flat=True))
    assert api_ids(client, "/api/v1/setup-decisions/") == decisions
    assert client.get(reverse("permits:decision_list")).context["paginator"].count == len(decisions)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_application_details_outside_scope_are_404(client_for, username):
    client = client_for(username)
    expected = expected_application_ids(username)
    inside = SetupApplication.objects.filter(id__in=expected).order_by("id").first()
    outside = SetupApplication.objects.exclude(id__in=expected).order_by("id").first()
    if inside is not None:
        assert client.get(reverse("permits:application_detail", args=[inside.pk])).status_code == 200
        assert client.get(f"/api/v1/setup-applications/{inside.pk}/").status_code == 200
    if outside is not None:
        assert client.get(reverse("permits:application_detail", args=[outside.pk])).status_code == 404
        assert client.get(f"/api/v1/setup-applications/{outside.pk}/").status_code == 404
        assert client.post(reverse("permits:application_submit", args=[outside.pk])).status_code == 404
        assert (
            client.post(f"/api/v1/setup-applications/{outside.pk}/decide/", {"outcome": "refuse"}).status_code
            == 404
        )


@pytest.mark.parametrize("username", DEMO_USERS)
def test_permits_pages_and_api(client_for, username):
    client = client_for(username)
    expected = expected_permit_ids(username)
    page = client.get(reverse("permits:permit_list"))
    assert page.status_code == 200
    assert page.context["paginator"].count == len(expected)
    assert api_ids(client, "/api/v1/permits/") == expected
    outside = DischargePermit.objects.exclude(id__in=expected).order_by("id").first()
    if outside is not None:
        assert client.get(reverse("permits:permit_detail", args=[outside.pk])).status_code == 404
        assert client.get(f"/api/v1/permits/{outside.pk}/").status_code == 404
    # A permit's page and API list only the covered outfalls the reader sees.
    seen = set(Outfall.objects.visible_to(page.wsgi_request.user).values_list("id", flat=True))
    for row in client.get("/api/v1/permits/?page_size=500").json()["results"]:
        assert {e["outfall"] for e in row["outfalls"]} <= seen


@pytest.mark.parametrize("username", DEMO_USERS)
def test_todo_counts_are_the_roles_own(client_for, username, demo_user):
    client = client_for(username)
    page = client.get(reverse("permits:todo"))
    assert page.status_code == 200
    counts = {key: count for key, _, _, count in page.context["lists"]}
    expected = expected_application_ids(username)
    user = demo_user(username)
    rows = SetupApplication.objects.filter(id__in=expected)
    if username in ("auditor", "river_chief", "chengguan"):
        assert counts == {}
    if username == "enterprise":
        assert counts == {"drafts": rows.filter(status__in=("draft", "returned")).count()}
        assert counts["drafts"] >= 1
    if username in ("pingcheng", "yunzhou"):
        assert counts["to_forward"] == rows.filter(status=ApplicationStatus.SUBMITTED).count()
        assert counts["drafts"] == rows.filter(status__in=("draft", "returned"), filed_by=user).count()
    if username == "pingcheng":
        assert counts["to_forward"] >= 1
    if username in ("bureau", "city_admin"):
        assert counts["to_decide"] == rows.filter(status=ApplicationStatus.UNDER_REVIEW).count() >= 2
        assert counts["to_forward"] == rows.filter(status=ApplicationStatus.SUBMITTED).count()


@pytest.mark.parametrize("username", ["pingcheng", "yunzhou"])
def test_county_pages_name_no_other_county(client_for, username):
    own = {"pingcheng": "140213", "yunzhou": "140215"}[username]
    others = list(Jurisdiction.objects.counties().exclude(code=own).values_list("name", flat=True))
    client = client_for(username)
    for name in ("permits:application_list", "permits:todo", "permits:decision_list", "permits:permit_list"):
        text = client.get(reverse(name)).content.decode()
        text = text[text.index("<main") :]
        text = re.sub(r"<select.*?</select>", "", text, flags=re.S)
        assert not [c for c in others if c in text], name


@pytest.mark.parametrize("username", DEMO_USERS)
def test_follow_ups_on_the_supervision_page_are_scoped(client_for, username, demo_user):
    client = client_for(username)
    page = client.get(reverse("remediation:supervision"))
    assert page.status_code == 200
    panel = next(p for p in page.context["follow_ups"] if p["template"] == "permits/supervision_panel.html")
    expected = expected_application_ids(username)
    overdue = services.overdue_applications(None)  # nobody: nothing
    assert not overdue.exists()
    assert {a.pk for a in panel["overdue"]} <= expected
    assert {c.decision.application_id for c in panel["conditions"]} <= expected
    if username in CITY:
        assert panel["counts"]["overdue"] >= 1 and panel["counts"]["conditions"] >= 1
    if username == "enterprise":
        assert panel["counts"] == {"overdue": 0, "due_soon": 0, "conditions": 0}


def test_anonymous_is_sent_to_login(client):
    for name in ("permits:application_list", "permits:todo", "permits:permit_list", "permits:decision_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response.url
    assert client.get("/api/v1/setup-applications/").status_code == 401
