"""Every role against every list, detail, API, export and count: no row from outside its scope.

The expected rows are computed here from the raw data and the rules in the issue, not through
visible_to(), so a wrong scope rule fails the test.
"""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from outfalls.core.models import Department, Jurisdiction, Membership
from outfalls.registry.choices import LinkRole
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody

from ...conftest import DEMO_USERS

pytestmark = pytest.mark.django_db


def expected_outfall_ids(username):
    everything = set(Outfall.objects.values_list("id", flat=True))
    if username in ("city_admin", "bureau", "auditor"):
        return everything
    if username == "pingcheng":
        return set(Outfall.objects.filter(county__code="140213").values_list("id", flat=True))
    if username == "yunzhou":
        return set(Outfall.objects.filter(county__code="140215").values_list("id", flat=True))
    if username == "chengguan":
        types = Department.objects.get(name="市城市管理局").responsible_types
        return {o.id for o in Outfall.objects.all() if o.type_level2 in types}
    if username == "enterprise":
        unit = Membership.objects.get(user__username="enterprise").unit
        owned = set(
            OutfallUnitLink.objects.filter(unit=unit, role=LinkRole.OWNER).values_list(
                "outfall_id", flat=True
            )
        )
        return owned | set(Outfall.objects.filter(responsible_entity=unit).values_list("id", flat=True))
    if username == "river_chief":
        return set(Outfall.objects.filter(water_body__name="御河").values_list("id", flat=True))
    raise AssertionError(username)


def expected_unit_ids(username):
    outfalls = expected_outfall_ids(username)
    if username in ("city_admin", "bureau", "auditor"):
        return set(DischargeUnit.objects.values_list("id", flat=True))
    ids = set(OutfallUnitLink.objects.filter(outfall_id__in=outfalls).values_list("unit_id", flat=True))
    ids |= set(
        Outfall.objects.filter(id__in=outfalls, responsible_entity__isnull=False).values_list(
            "responsible_entity_id", flat=True
        )
    )
    if username == "pingcheng":
        ids |= set(DischargeUnit.objects.filter(county__code="140213").values_list("id", flat=True))
    if username == "yunzhou":
        ids |= set(DischargeUnit.objects.filter(county__code="140215").values_list("id", flat=True))
    if username == "enterprise":
        ids.add(Membership.objects.get(user__username="enterprise").unit_id)
    return ids


def api_ids(client, url):
    ids, count, next_url = [], None, f"{url}?page_size=500"
    while next_url:
        data = client.get(next_url).json()
        count = data["count"] if count is None else count
        ids += [row["id"] for row in data["results"]]
        next_url = data["next"]
    assert count == len(ids)
    return set(ids)


def test_demo_data_gives_every_role_something_and_not_everything():
    total = Outfall.objects.count()
    for username in DEMO_USERS:
        size = len(expected_outfall_ids(username))
        assert size > 0, username
        if username not in ("city_admin", "bureau", "auditor"):
            assert size < total, username


@pytest.mark.parametrize("username", DEMO_USERS)
def test_outfall_list_api_export_and_counts(client_for, username):
    client = client_for(username)
    expected = expected_outfall_ids(username)

    page = client.get(reverse("registry:outfall_list"))
    assert page.status_code == 200
    assert page.context["paginator"].count == len(expected)
    assert {o.id for o in page.context["object_list"]} <= expected

    assert api_ids(client, "/api/v1/outfalls/") == expected

    codes = set(Outfall.objects.filter(id__in=expected).values_list("code", flat=True))
    export = client.get(reverse("registry:outfall_export"), {"format": "csv"})
    header, *rows = csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    assert {r[header.index("入河排污口编码")] for r in rows} == codes
    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(reverse("registry:outfall_export")).streaming_content)), read_only=True
    )
    cells = [r for r in workbook.active.iter_rows(min_row=4, values_only=True) if r and isinstance(r[0], int)]
    assert {row[-2] for row in cells} == codes  # (the rows numbered in 序号: not the sign-off line)

    waters = client.get(reverse("registry:waterbody_list"))
    assert sum(w.visible_outfalls for w in waters.context["object_list"]) == len(expected)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_outfall_details_outside_scope_are_404(client_for, username):
    client = client_for(username)
    expected = expected_outfall_ids(username)
    inside = Outfall.objects.filter(id__in=expected).order_by("id").first()
    outside = Outfall.objects.exclude(id__in=expected).order_by("id").first()
    assert client.get(reverse("registry:outfall_detail", args=[inside.id])).status_code == 200
    assert client.get(f"/api/v1/outfalls/{inside.id}/").status_code == 200
    if outside is not None:
        assert client.get(reverse("registry:outfall_detail", args=[outside.id])).status_code == 404
        assert client.get(f"/api/v1/outfalls/{outside.id}/").status_code == 404
        assert client.get(reverse("registry:outfall_edit", args=[outside.id])).status_code == 404


@pytest.mark.parametrize("username", DEMO_USERS)
def test_units_list_api_and_detail(client_for, username):
    client = client_for(username)
    expected = expected_unit_ids(username)
    page = client.get(reverse("registry:unit_list"))
    assert page.context["paginator"].count == len(expected)
    assert api_ids(client, "/api/v1/units/") == expected
    outside = DischargeUnit.objects.exclude(id__in=expected).first()
    if outside is not None:
        assert client.get(reverse("registry:unit_detail", args=[outside.id])).status_code == 404
        assert client.get(f"/api/v1/units/{outside.id}/").status_code == 404


@pytest.mark.parametrize("username", ["pingcheng", "yunzhou"])
def test_county_staff_see_only_their_jurisdictions(client_for, username):
    client = client_for(username)
    own = Membership.objects.get(user__username=username).jurisdiction
    codes = {row["code"] for row in client.get("/api/v1/jurisdictions/?page_size=500").json()["results"]}
    other_counties = set(Jurisdiction.objects.counties().exclude(pk=own.pk).values_list("code", flat=True))
    assert own.code in codes
    assert not codes & other_counties
    assert all(c == "140200" or c.startswith(own.code) for c in codes)
    other = Jurisdiction.objects.counties().exclude(pk=own.pk).first()
    assert client.get(reverse("core:jurisdiction_detail", args=[other.code])).status_code == 404
    # A filter naming another county returns nothing rather than that county's rows.
    page = client.get(reverse("registry:outfall_list"), {"county": other.code})
    assert page.context["paginator"].count == 0
    api = client.get("/api/v1/outfalls/", {"county": other.code})
    assert api.status_code == 400 or api.json()["count"] == 0


@pytest.mark.parametrize("username", ["auditor", "river_chief"])
def test_read_only_roles_change_nothing(client_for, username):
    client = client_for(username)
    outfall = Outfall.objects.filter(id__in=expected_outfall_ids(username)).first()
    assert client.get(reverse("registry:outfall_edit", args=[outfall.id])).status_code == 404
    response = client.post(reverse("registry:outfall_edit", args=[outfall.id]), {"name": "改名"})
    assert response.status_code == 404
    assert client.get(reverse("registry:outfall_create")).status_code == 403
    before = outfall.history.count()
    client.post(reverse("registry:outfall_status", args=[outfall.id]), {"to_status": "closed", "reason": "x"})
    assert outfall.history.count() == before
    page = client.get(reverse("registry:outfall_detail", args=[outfall.id]))
    assert page.context["editable"] is False


def test_river_chief_sees_only_their_river():
    chief = Membership.objects.get(user__username="river_chief")
    assert list(chief.water_bodies.values_list("name", flat=True)) == ["御河"]
    assert WaterBody.objects.filter(name="御河").exists()
