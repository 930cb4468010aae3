"""The setup review and the permits through the REST API, as a client would drive them: the enterprise files
and submits, the county forwards, the bureau decides (a registration here: a storm outlet needs no approval),
withholds and discloses the decision, and keeps a permit; the others are refused with a message."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from outfalls.permits import services
from outfalls.permits.models import DischargePermit, SetupApplication
from outfalls.registry.models import DischargeUnit, Outfall

from .helpers import enterprise_unit, point_on, water

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def post(client_for):
    """post(username, url, body): the one test client, logged in as that user first."""

    def send(username, url, body=None):
        return client_for(username).post(url, body or {}, content_type=JSON)

    return send


def test_an_application_from_filing_to_the_public_decision(client_for, demo_user, post):
    enterprise, county, bureau = "enterprise", "pingcheng", "bureau"
    lon, lat = point_on("NYH01", 60)
    body = {
        "kind": "new",
        "applicant": enterprise_unit().pk,
        "county": "140213",
        "outfall_name": "API 雨水排口",
        "type_level2": "industrial_mining_storm",
        "lon": lon,
        "lat": lat,
        "water_body": water("NYH01").pk,
        "entry_mode": "pipe",
        "discharge_mode": "intermittent",
        "daily_volume_m3": 20,
        "pollutants": [{"parameter": "悬浮物", "concentration": 40, "unit": "mg/L"}],
    }
    created = post(enterprise, "/api/v1/setup-applications/", body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["status"], data["procedure"]) == ("draft", "registration")
    assert data["pollutants"][0]["parameter"] == "悬浮物"
    url = f"/api/v1/setup-applications/{data['id']}/"

    missing = post(enterprise, url + "submit/")
    assert missing.status_code == 400 and "材料" in str(missing.json())
    application = SetupApplication.objects.get(pk=data["id"])
    for material in application.materials.filter(required=True):
        pdf = SimpleUploadedFile("材料.pdf", b"%PDF-1.4\n% api\n", content_type="application/pdf")
        services.add_material_file(material, pdf, user=demo_user("enterprise"))
    submitted = post(enterprise, url + "submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert {c["name"] for c in submitted.json()["check_results"]} >= {
        "inside_protected_area",
        "possible_duplicates",
    }

    assert post("yunzhou", url + "forward/").status_code == 404  # another county's
    assert post(enterprise, url + "forward/").status_code == 403
    forwarded = post(county, url + "forward/", {"note": "材料齐全"})
    assert forwarded.status_code == 200 and forwarded.json()["status"] == "under_review"
    assert forwarded.json()["working_days_left"] > 0

    assert post(county, url + "decide/", {"outcome": "register", "number": "备-1"}).status_code == 403
    wrong = post(bureau, url + "decide/", {"outcome": "approve", "number": "同环排口审〔2026〕1号"})
    assert wrong.status_code == 400  # a registration is registered, not approved
    decided = post(bureau, url + "decide/", {"outcome": "register", "number": "同环排口备〔2026〕7号"})
    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "registered"
    decision_id = decided.json()["decision"]["id"]
    outfall = Outfall.objects.get(pk=SetupApplication.objects.get(pk=data["id"]).outfall_id)
    assert outfall.registered and outfall.approval_number == "同环排口备〔2026〕7号"

    decision = client_for(enterprise).get(f"/api/v1/setup-decisions/{decision_id}/").json()
    assert (decision["public"], decision["outfall"], decision["number"]) == (
        True,
        outfall.pk,
        "同环排口备〔2026〕7号",
    )
    assert post(bureau, f"/api/v1/setup-decisions/{decision_id}/withhold/").status_code == 400  # no reason
    withheld = post(bureau, f"/api/v1/setup-decisions/{decision_id}/withhold/", {"reason": "涉及商业秘密"})
    assert withheld.status_code == 200 and withheld.json()["public"] is False
    assert post(county, f"/api/v1/setup-decisions/{decision_id}/disclose/").status_code == 403
    assert post(bureau, f"/api/v1/setup-decisions/{decision_id}/disclose/").json()["public"] is True


def test_the_bureau_keeps_permits_through_the_api(client_for, post):
    unit = (
        DischargeUnit.objects.filter(permits__isnull=True, credit_code__isnull=False)
        .exclude(credit_code="")
        .order_by("credit_code")
        .first()
    )
    outfall = Outfall.objects.filter(county__code="140213").order_by("code").first()
    body = {
        "number": f"{unit.credit_code}001P",
        "unit": unit.pk,
        "valid_from": "2025-01-01",
        "valid_until": "2029-12-31",
        "outfalls": [
            {
                "outfall": outfall.pk,
                "outlet_code": "DW001",
                "limits": [{"parameter": "化学需氧量", "limit_value": 50, "averaging": "daily"}],
                "monitoring": [{"parameter": "化学需氧量", "frequency": "1次/月"}],
            }
        ],
    }
    refused = post("pingcheng", "/api/v1/permits/", body)
    assert refused.status_code == 403, refused.json()
    bad = post("bureau", "/api/v1/permits/", {**body, "valid_until": "2024-01-01"})
    assert bad.status_code == 400 and "有效期至" in str(bad.json())
    created = post("bureau", "/api/v1/permits/", body)
    assert created.status_code == 201, created.json()
    permit_id = created.json()["id"]
    changed = client_for("bureau").patch(
        f"/api/v1/permits/{permit_id}/", {"valid_until": "2030-06-30"}, content_type=JSON
    )
    assert changed.status_code == 200
    permit = DischargePermit.objects.get(pk=permit_id)
    assert permit.valid_until == date(2030, 6, 30)
    entry = permit.covered.get()  # a PATCH without outfalls keeps them, with their limits
    assert (entry.outfall, entry.limits.get().limit_value, entry.monitoring.get().frequency) == (
        outfall,
        50,
        "1次/月",
    )
    seen_by_county = client_for("pingcheng").get(f"/api/v1/permits/{permit_id}/")
    assert seen_by_county.status_code == 200 and seen_by_county.json()["outfalls"][0]["outfall"] == outfall.pk
    patch = client_for("pingcheng").patch(
        f"/api/v1/permits/{permit_id}/", {"issued_by": "x"}, content_type=JSON
    )
    assert patch.status_code == 403 and "市生态环境局" in patch.json()["detail"]
    other = DischargePermit.objects.exclude(pk__in=[permit_id]).exclude(
        covered__outfall__county__code="140213"
    )
    other = other.exclude(unit__county__code="140213").first()
    patch = client_for("pingcheng").patch(
        f"/api/v1/permits/{other.pk}/", {"issued_by": "x"}, content_type=JSON
    )
    assert patch.status_code == 404  # outside its scope
