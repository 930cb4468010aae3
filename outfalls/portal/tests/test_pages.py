"""The public portal: no login, only disclosed outfalls, search and filters on public fields, the outfall page
at its fixed address (the signs' QR codes), notices, the own host name, the cache, and no private field on any
page or endpoint."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.disclosure import NEVER_PUBLIC, public_outfalls
from outfalls.registry.models import DischargeUnit, Outfall

pytestmark = pytest.mark.django_db
PINGCHENG = "140213"


def test_list_shows_only_disclosed_outfalls_without_login(client):
    response = client.get("/public/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"共 <strong>{public_outfalls().count()}</strong> 个" in page
    hidden = Outfall.objects.filter(disclosed=False).order_by("code").first()
    geo = client.get(reverse("portal:outfalls_geojson")).json()
    codes = {f["id"] for f in geo["features"]}
    assert codes == set(public_outfalls().values_list("code", flat=True))
    assert hidden.code not in codes
    assert client.get(reverse("portal:outfall", args=[hidden.code])).status_code == 404


def test_base_map_is_the_citys_own_reference_data(client):
    data = client.get(reverse("portal:basemap")).json()
    names = {f["properties"]["name"] for f in data["areas"]["features"]}
    assert "平城区" in names and data["rivers"]["features"] and data["mask"]


def test_search_and_filters(client):
    county = client.get("/public/", {"county": PINGCHENG}).content.decode()
    expected = public_outfalls().filter(county__code=PINGCHENG).count()
    assert f"共 <strong>{expected}</strong> 个" in county
    sample = public_outfalls().filter(county__code=PINGCHENG).order_by("code").first()
    geo = client.get(reverse("portal:outfalls_geojson"), {"q": sample.code}).json()
    assert [f["id"] for f in geo["features"]] == [sample.code]
    kept = client.get(reverse("portal:outfalls_geojson"), {"status": LifecycleStatus.KEPT}).json()
    assert len(kept["features"]) == public_outfalls().filter(status=LifecycleStatus.KEPT).count()
    bad = client.get("/public/", {"county": "999999"})
    assert bad.status_code == 200 and "共 <strong>0</strong> 个" in bad.content.decode()
    assert client.get("/public/", {"page": "x"}).status_code == 400


def test_outfall_page_at_its_fixed_address(client):
    outfall = public_outfalls().select_related("water_body").order_by("code").first()
    url = reverse("portal:outfall", args=[outfall.code])
    assert url == f"/public/outfalls/{outfall.code}/"
    page = client.get(url).content.decode()
    assert outfall.name in page and outfall.water_body.name in page and outfall.get_status_display() in page


def test_notices_list_approved_closeouts_of_public_outfalls(client):
    from outfalls.remediation.choices import PlanStatus
    from outfalls.remediation.models import RectificationPlan

    page = client.get(reverse("portal:notices")).content.decode()
    approved = RectificationPlan.objects.filter(status=PlanStatus.APPROVED, outfall__disclosed=True)
    hidden = RectificationPlan.objects.filter(status=PlanStatus.APPROVED, outfall__disclosed=False)
    for plan in approved.select_related("outfall")[:3]:
        assert plan.outfall.code in page
    for plan in hidden.select_related("outfall")[:3]:
        assert plan.outfall.code not in page


def test_pages_are_cached_until_the_public_data_changes(client, demo_user):
    from outfalls.registry.services import set_disclosure

    client.get("/public/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/public/").status_code == 200
    assert len(queries) <= 6  # the data version only: outfalls, plans, decisions, samples, findings, draws
    outfall = Outfall.objects.filter(disclosed=False).order_by("code").first()
    set_disclosure([outfall.pk], user=demo_user("bureau"), disclose=True, reason="公开")
    geo = client.get(reverse("portal:outfalls_geojson")).json()
    assert outfall.code in {f["id"] for f in geo["features"]}


@pytest.mark.parametrize(
    "url", ["/public/", "/public/?page=3", "/public/outfalls.geojson", "/public/notices/"]
)
def test_query_counts_are_pinned(client, settings, url):
    """No query per row: the list, the map's GeoJSON (every public outfall) and the notices."""
    settings.PORTAL_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= 8, [q["sql"][:120] for q in queries]


def test_own_host_name_serves_only_the_public_pages(client, settings):
    settings.PORTAL_HOST = "hpk.example.gov.cn"
    settings.ALLOWED_HOSTS = ["hpk.example.gov.cn", "testserver"]
    root = client.get("/", HTTP_HOST="hpk.example.gov.cn")
    assert root.status_code == 302 and root["Location"] == "/public/"
    assert client.get("/public/", HTTP_HOST="hpk.example.gov.cn").status_code == 200
    for staff in ("/ledger/outfalls/", "/admin/", "/accounts/login/", "/api/v1/outfalls/"):
        assert client.get(staff, HTTP_HOST="hpk.example.gov.cn").status_code == 404
    # The platform's own host keeps everything.
    assert client.get("/ledger/outfalls/").status_code == 302


def test_no_private_field_on_any_public_page_or_endpoint(client):
    """Markers planted in every never-public field of public outfalls and their units appear nowhere."""
    outfalls = list(public_outfalls().order_by("code")[:5])
    markers = []
    for i, outfall in enumerate(outfalls):
        for name in NEVER_PUBLIC["outfall"]:
            if name == "source_key":
                continue
            marker = f"PRIVATE{name}{i}"
            setattr(outfall, name, marker)
            markers.append(marker)
        outfall.save()
        unit = outfall.responsible_entity
        if unit is not None:
            for name in NEVER_PUBLIC["unit"]:
                if name == "credit_code":
                    continue
                marker = f"PRIVATE{name}{i}"
                setattr(unit, name, marker)
                markers.append(marker)
            DischargeUnit.objects.filter(pk=unit.pk).update(
                **{n: getattr(unit, n) for n in NEVER_PUBLIC["unit"] if n != "credit_code"}
            )
    urls = ["/public/", "/public/?page=2", reverse("portal:outfalls_geojson"), reverse("portal:notices")]
    urls += [reverse("portal:outfall", args=[o.code]) for o in outfalls]
    urls += [f"{reverse('portal:report_nearby')}?lon={o.lon}&lat={o.lat}" for o in outfalls]
    urls += [reverse("portal:report"), f"{reverse('portal:report')}?outfall={outfalls[0].code}"]
    urls += ["/open311/v2/services.json", "/open311/v2/requests.json", "/open311/discovery.json"]
    urls += ["/ogcapi/collections/outfalls/items?limit=1000"]
    urls += [f"/ogcapi/collections/outfalls/items/{o.pk}" for o in outfalls]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for marker in markers:
            assert marker not in text, (url, marker)
    # The responsible entity's name is public; its credit code and contact are not.
    with_unit = next(o for o in outfalls if o.responsible_entity_id)
    page = client.get(reverse("portal:outfall", args=[with_unit.code])).content.decode()
    assert with_unit.responsible_entity.name in page
    assert with_unit.responsible_entity.credit_code not in page
    json.loads(client.get(reverse("portal:outfalls_geojson")).content)
