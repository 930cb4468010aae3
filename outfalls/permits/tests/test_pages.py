"""Pages of the setup review beyond scope: filing with a coordinate in another CRS, and the outfall's file
showing its permits and limits and its setup-review applications."""

import pytest
from django.urls import reverse

from outfalls.core.models import Jurisdiction
from outfalls.geo.coords import wgs84_to_gcj02
from outfalls.permits.models import PermitOutfall, SetupApplication

from .helpers import enterprise_unit, point_on, water

pytestmark = pytest.mark.django_db


def form_data(**fields):
    data = {
        "kind": "new",
        "applicant": enterprise_unit().pk,
        "county": Jurisdiction.objects.get(code="140213").pk,
        "authority": "city",
        "outfall_name": "坐标测试排口",
        "type_level2": "industrial_mining",
        "entry_mode": "pipe",
        "discharge_mode": "continuous",
        "water_body": water("NYH01").pk,
        "daily_volume_m3": "80",
        "pollutants-TOTAL_FORMS": "1",
        "pollutants-INITIAL_FORMS": "0",
        "pollutants-MIN_NUM_FORMS": "0",
        "pollutants-MAX_NUM_FORMS": "20",
        "pollutants-0-parameter": "化学需氧量",
        "pollutants-0-concentration": "60",
        "pollutants-0-unit": "mg/L",
    }
    data.update(fields)
    return data


def test_the_position_may_be_typed_in_a_phone_map_crs(client_for):
    lon, lat = point_on("NYH01", 60)
    shown_lon, shown_lat = wgs84_to_gcj02(lon, lat)  # what a 高德 map shows for the spot (CGCS2000 ≈ WGS84)
    client = client_for("enterprise")
    data = form_data(coord_text=f"{shown_lon:.6f}, {shown_lat:.6f}", coord_crs="gcj02")
    response = client.post(reverse("permits:application_create"), data)
    assert response.status_code == 302, response.context["form"].errors
    application = SetupApplication.objects.get(outfall_name="坐标测试排口")
    assert abs(application.lon - lon) < 2e-5 and abs(application.lat - lat) < 2e-5  # within about 2 m
    assert abs(application.lon - shown_lon) > 1e-3  # the GCJ-02 offset (hundreds of metres) was removed

    bad = client.post(reverse("permits:application_create"), form_data(coord_text="东经一百一十三度"))
    assert bad.status_code == 400 and "coord_text" in bad.context["form"].errors


def test_the_outfall_file_shows_its_permits_limits_and_applications(client_for):
    entry = (
        PermitOutfall.objects.filter(limits__isnull=False, outfall__county__code="140213")
        .select_related("permit", "outfall")
        .first()
    )
    page = client_for("bureau").get(reverse("registry:outfall_detail", args=[entry.outfall_id]))
    html = page.content.decode()
    assert 'data-testid="permits-panel"' in html and entry.permit.number in html
    assert entry.limits.first().parameter in html
    decided = SetupApplication.objects.filter(outfall__isnull=False, decision__isnull=False).first()
    page = client_for("bureau").get(reverse("registry:outfall_detail", args=[decided.outfall_id]))
    assert decided.number in page.content.decode()
    # The county officer sees their county's outfall with its permit; another county's officer gets a 404.
    own = client_for("pingcheng").get(reverse("registry:outfall_detail", args=[entry.outfall_id]))
    assert own.status_code == 200 and entry.permit.number in own.content.decode()
    other = client_for("yunzhou").get(reverse("registry:outfall_detail", args=[entry.outfall_id]))
    assert other.status_code == 404
