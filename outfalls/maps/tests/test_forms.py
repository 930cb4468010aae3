"""Typed coordinates in the outfall and unit forms: any written form and CRS, converted by geo.coords."""

import pytest
from django.urls import reverse

from outfalls.geo.coords import bd09_to_wgs84, from_cgcs2000, gcj02_to_wgs84
from outfalls.registry.forms import DischargeUnitForm, OutfallForm
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.registry.tests.test_pages import form_data as outfall_data

pytestmark = pytest.mark.django_db


def unit_data(unit, **changes):
    data = {
        "name": unit.name,
        "credit_code": unit.credit_code or "",
        "kind": unit.kind,
        "industry": unit.industry,
        "park": unit.park,
        "county": unit.county_id,
        "town": unit.town_id or "",
        "address": unit.address,
        "lon": unit.lon if unit.lon is not None else "",
        "lat": unit.lat if unit.lat is not None else "",
        "permit_number": unit.permit_number,
        "contact": unit.contact,
        "phone": unit.phone,
        "notes": unit.notes,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None) or k in changes}


def pingcheng_outfall():
    return Outfall.objects.filter(county__code="140213").order_by("id").first()


# The true point, and how Amap and Baidu would report it.
TRUE_LON, TRUE_LAT = 113.3125, 40.0901


@pytest.mark.parametrize("crs, convert", [("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)])
def test_gcj02_and_bd09_text_is_saved_as_cgcs2000(demo_user, crs, convert):
    outfall = pingcheng_outfall()
    shown_lon, shown_lat = from_cgcs2000(TRUE_LON, TRUE_LAT, crs)
    text = f"{shown_lon:.7f}, {shown_lat:.7f}"
    form = OutfallForm(
        outfall_data(outfall, lon="", lat="", coord_text=text, coord_crs=crs),
        instance=outfall,
        user=demo_user("pingcheng"),
    )
    assert form.is_valid(), form.errors
    expected = convert(float(f"{shown_lon:.7f}"), float(f"{shown_lat:.7f}"))
    assert (form.instance.lon, form.instance.lat) == expected
    # ... which is the true point, to well under a metre.
    assert form.instance.lon == pytest.approx(TRUE_LON, abs=2e-6)
    assert form.instance.lat == pytest.approx(TRUE_LAT, abs=2e-6)


def test_dms_text_overrides_the_number_boxes_and_is_saved(client_for):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    response = client.post(
        reverse("registry:outfall_edit", args=[outfall.pk]),
        outfall_data(
            outfall,
            lon="not a number",
            coord_text="北纬40°05′24″，东经113°18′45″",
            coord_crs="cgcs2000",
            confirm_placement="on",  # a point this test chose, not one on the outfall's river
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    outfall.refresh_from_db()
    assert outfall.lon == pytest.approx(113.3125, abs=1e-12)
    assert outfall.lat == pytest.approx(40.09, abs=1e-12)


@pytest.mark.parametrize(
    "text, message",
    [
        ("113.3125", "需要经度和纬度两个值"),
        ("113°75′00″E, 40°05′24″N", "分值必须小于 60"),
        ("40.0901, 113.3125", "经纬度疑似填反"),
        ("大同市政府", "无法识别的坐标"),
        ("13.3, 40.1", "经度 13.3 超出范围"),
    ],
)
def test_unreadable_text_is_an_error_on_that_field_and_the_input_is_kept(client_for, text, message):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    before = (outfall.lon, outfall.lat)
    response = client.post(
        reverse("registry:outfall_edit", args=[outfall.pk]),
        outfall_data(outfall, lon="", lat="", coord_text=text, coord_crs="gcj02"),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"coord_text"}
    assert message in form.errors["coord_text"][0]
    html = response.content.decode()
    assert f'value="{text}"' in html  # kept as typed
    assert '<option value="gcj02" selected>' in html
    assert 'data-field="coord_text"' in html
    outfall.refresh_from_db()
    assert (outfall.lon, outfall.lat) == before


def test_without_text_the_number_boxes_stay_required(demo_user):
    outfall = pingcheng_outfall()
    form = OutfallForm(outfall_data(outfall, lon="", lat=""), instance=outfall, user=demo_user("pingcheng"))
    assert not form.is_valid()
    assert {"lon", "lat"} <= set(form.errors)


def test_a_new_outfall_from_typed_coordinates(client_for, demo_user):
    client = client_for("pingcheng")
    template = pingcheng_outfall()
    data = outfall_data(
        template,
        name="",
        name_auto="on",
        national_code="",
        lon="",
        lat="",
        coord_text="E113.30 N40.10",
        coord_crs="wgs84",
        status="verified",
        confirm_placement="on",
    )
    response = client.post(reverse("registry:outfall_create"), data)
    assert response.status_code == 302, response.context["form"].errors
    created = Outfall.objects.order_by("-id").first()
    assert (created.lon, created.lat) == (113.30, 40.10)


def test_unit_form_takes_typed_coordinates(client_for, demo_user):
    client = client_for("bureau")
    unit = DischargeUnit.objects.filter(county__code="140213").order_by("id").first()
    shown = from_cgcs2000(113.2801, 40.0702, "bd09")
    response = client.post(
        reverse("registry:unit_edit", args=[unit.pk]),
        unit_data(unit, lon="", lat="", coord_text=f"{shown[0]} {shown[1]}", coord_crs="bd09"),
    )
    assert response.status_code == 302, response.context["form"].errors
    unit.refresh_from_db()
    assert (unit.lon, unit.lat) == bd09_to_wgs84(*shown)
    assert unit.lon == pytest.approx(113.2801, abs=2e-6)

    form = DischargeUnitForm(
        unit_data(unit, coord_text="113°61′E 40°N"), instance=unit, user=demo_user("bureau")
    )
    assert not form.is_valid()
    assert "分值必须小于 60" in form.errors["coord_text"][0]


def test_the_forms_show_the_picker(client_for):
    client = client_for("pingcheng")
    for url in (
        reverse("registry:outfall_edit", args=[pingcheng_outfall().pk]),
        reverse("registry:outfall_create"),
        reverse("registry:unit_create"),
    ):
        html = client.get(url).content.decode()
        assert 'id="location-picker"' in html
        assert 'id="picker-config"' in html
        assert "maps/picker.js" in html
        assert 'name="coord_text"' in html and 'name="coord_crs"' in html
        assert "https://" not in html and "http://" not in html
