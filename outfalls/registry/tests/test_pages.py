"""Ledger pages: search, filters, sorting, forms with Chinese messages, history, status steps."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outfalls.core.models import Jurisdiction, StatusChange
from outfalls.registry import services
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def form_data(outfall, **changes):
    """The edit form's fields as the browser would post them for this outfall."""
    data = {
        "name_auto": "on" if outfall.name_auto else "",
        "name": outfall.name,
        "landmark": outfall.landmark,
        "number": outfall.number,
        "national_code": outfall.national_code or "",
        "type_code": outfall.type_code,
        "type_level2": outfall.type_level2,
        "type_level3": outfall.type_level3,
        "county": outfall.county_id,
        "town": outfall.town_id or "",
        "village": outfall.village_id or "",
        "lon": outfall.lon,
        "lat": outfall.lat,
        "water_body": outfall.water_body_id,
        "section_interval": outfall.section_interval,
        "entry_mode": outfall.entry_mode,
        "outlet_position": outfall.outlet_position,
        "outlet_description": outfall.outlet_description,
        "conveyance": outfall.conveyance,
        "responsible_entity": outfall.responsible_entity_id or "",
        "responsibility_basis": outfall.responsibility_basis,
        "responsibility_note": outfall.responsibility_note,
        "registered": "on" if outfall.registered else "",
        "approval_date": outfall.approval_date.isoformat() if outfall.approval_date else "",
        "approval_number": outfall.approval_number,
        "permit_number": outfall.permit_number,
        "sign_installed": "on" if outfall.sign_installed else "",
        "notes": outfall.notes,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None) or k in changes}


def pingcheng_outfall():
    return Outfall.objects.filter(county__code="140213").order_by("id").first()


def test_search_finds_by_name_code_and_linked_unit(client_for):
    client = client_for("bureau")
    outfall = Outfall.objects.filter(unit_links__isnull=False).order_by("id").first()
    unit = outfall.unit_links.first().unit
    for term in (outfall.code, outfall.name[-8:], unit.name):
        ids = {
            o.id
            for o in client.get(reverse("registry:outfall_list"), {"q": term})
            .context["paginator"]
            .object_list
        }
        assert outfall.id in ids, term


def test_filters_combine_and_sorting_orders(client_for):
    client = client_for("bureau")
    params = {"county": "140213", "type_code": "YH", "ordering": "-name"}
    page = client.get(reverse("registry:outfall_list"), params)
    rows = list(page.context["paginator"].object_list)
    expected = Outfall.objects.filter(county__code="140213", type_code="YH")
    assert len(rows) == expected.count() > 0
    assert [o.name for o in rows] == sorted((o.name for o in rows), reverse=True)
    registered = (
        client.get(reverse("registry:outfall_list"), {"registered": "false"}).context["paginator"].count
    )
    assert registered == Outfall.objects.filter(registered=False).count()


def test_pagination_and_count(client_for):
    client = client_for("bureau")
    total = Outfall.objects.count()
    second = client.get(reverse("registry:outfall_list"), {"page": 2})
    assert second.context["paginator"].count == total
    assert len(second.context["object_list"]) == min(50, total - 50)
    assert "共 <strong>" in second.content.decode()


def test_detail_shows_every_attachment1_field(client_for):
    client = client_for("bureau")
    outfall = Outfall.objects.filter(responsible_entity__isnull=False, unit_links__isnull=False).first()
    html = client.get(reverse("registry:outfall_detail", args=[outfall.id])).content.decode()
    for label in (
        "受纳河流名称",
        "断面区间",
        "县区",
        "乡镇（街道）",
        "村（社区）",
        "入河排污口名称",
        "入河排污口地理坐标",
        "入河方式",
        "入河排污口口门及位置",
        "引流方式",
        "排污责任主体单位名称",
        "排污单位地理坐标",
        "排污单位类型",
        "入河排污口分类",
        "整治进展情况",
        "是否完成登记建档",
        "设置审批或排污许可批准时间",
        "排污许可证编号",
    ):
        assert label in html, label
    assert outfall.responsible_entity.name in html
    assert outfall.unit_links.first().unit.name in html


def test_edit_records_history_with_user_and_change(client_for):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    response = client.post(
        reverse("registry:outfall_edit", args=[outfall.id]), form_data(outfall, section_interval="孤山—艾庄")
    )
    assert response.status_code == 302, response.context["form"].errors
    outfall.refresh_from_db()
    assert outfall.section_interval == "孤山—艾庄"
    html = client.get(reverse("registry:outfall_detail", args=[outfall.id])).content.decode()
    assert "断面区间" in html and "孤山—艾庄" in html
    latest = outfall.history.first()
    assert latest.history_user.username == "pingcheng"


def test_ledger_as_of_a_past_date(demo_user):
    from django.utils import timezone

    from outfalls.registry.history import outfalls_as_of

    user = demo_user("pingcheng")
    outfall = pingcheng_outfall()
    before = timezone.now()
    old = outfall.section_interval
    outfall.section_interval = "新区间"
    services.save_outfall(outfall, user=user)
    then = {o.id: o for o in outfalls_as_of(before, user)}
    now = {o.id: o for o in outfalls_as_of(timezone.now(), user)}
    assert then[outfall.id].section_interval == old
    assert now[outfall.id].section_interval == "新区间"
    assert set(then) == set(Outfall.objects.filter(county__code="140213").values_list("id", flat=True))
    assert not outfalls_as_of(before, demo_user("yunzhou")).filter(id=outfall.id).exists()


def test_invalid_form_keeps_input_and_names_fields_in_chinese(client_for):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    bad = form_data(outfall, lat="95", permit_number="91130200699229617Y001P", notes="保留这段备注")
    response = client.post(reverse("registry:outfall_edit", args=[outfall.id]), bad)
    assert response.status_code == 400
    form = response.context["form"]
    assert "纬度应在 3–54 之间" in form.errors["lat"][0]
    assert "统一社会信用代码" in form.errors["permit_number"][0]
    assert "保留这段备注" in response.content.decode()
    outfall.refresh_from_db()
    assert outfall.lat != 95


def test_town_must_belong_to_county(client_for):
    client = client_for("bureau")
    outfall = pingcheng_outfall()
    foreign_town = Jurisdiction.objects.filter(level="town").exclude(county=outfall.county).first()
    response = client.post(
        reverse("registry:outfall_edit", args=[outfall.id]),
        form_data(outfall, town=foreign_town.id, village=""),
    )
    assert response.status_code == 400
    assert "不属于平城区" in response.context["form"].errors["town"][0]


def test_county_staff_cannot_move_an_outfall_to_another_county(client_for):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    other = Jurisdiction.objects.get(code="140215")
    response = client.post(
        reverse("registry:outfall_edit", args=[outfall.id]),
        form_data(outfall, county=other.id, town="", village=""),
    )
    assert response.status_code == 400
    outfall.refresh_from_db()
    assert outfall.county.code == "140213"


def test_create_generates_code_and_hj1235_name(client_for):
    client = client_for("pingcheng")
    county = Jurisdiction.objects.get(code="140213")
    town = Jurisdiction.objects.filter(level="town", county=county).first()
    water = WaterBody.objects.get(name="御河")
    data = {
        "name_auto": "on",
        "landmark": "测试桥",
        "number": "2",
        "type_code": "YH",
        "type_level2": "urban_storm",
        "county": county.id,
        "town": town.id,
        "lon": "113.30",
        "lat": "40.09",
        "water_body": water.id,
        "responsibility_basis": "unknown",
        "status": "verified",
        "confirm_placement": "on",  # 2 km from the demo's approximate 御河 line
    }
    response = client.post(reverse("registry:outfall_create"), data)
    assert response.status_code == 302, response.context["form"].errors
    outfall = Outfall.objects.get(landmark="测试桥")
    assert outfall.name == f"大同市平城区{town.name}测试桥2#城镇雨洪排口"
    assert outfall.code.startswith(f"{water.code}-140213-YH-")
    assert StatusChange.objects.filter(object_id=outfall.id, to_value="verified").exists()


def test_service_refuses_out_of_scope_create(demo_user):
    water = WaterBody.objects.first()
    outfall = Outfall(county=Jurisdiction.objects.get(code="140215"), lon=113.5, lat=40.0, water_body=water)
    # Refused before anything is written, on the field to change (registry.services.scope_errors).
    with pytest.raises(ValidationError) as refused:
        services.save_outfall(outfall, user=demo_user("pingcheng"))
    assert refused.value.message_dict == {"county": ["您只能登记和修改平城区的排污口：县区请选择“平城区”。"]}
    assert not Outfall.objects.filter(
        lon=113.5, lat=40.0, county__code="140215", water_body=water, landmark=""
    ).exists()


def test_photo_upload_and_type_check(client_for):
    client = client_for("pingcheng")
    outfall = pingcheng_outfall()
    url = reverse("registry:outfall_add_attachment", args=[outfall.id])
    client.post(url, {"kind": "photo_close", "title": "近景", "file": SimpleUploadedFile("a.png", PNG)})
    page = client.get(reverse("registry:outfall_detail", args=[outfall.id]))
    (photo,) = page.context["photos"]
    assert client.get(photo.file.url).status_code == 200
    bad = client.post(url, {"kind": "photo_close", "file": SimpleUploadedFile("x.exe", b"MZ")}, follow=True)
    assert "类型 .exe 不允许" in bad.content.decode()
    # Someone outside the county cannot fetch the file.
    assert client_for("yunzhou").get(photo.file.url).status_code == 404


def test_unit_form_validates_credit_code_in_chinese(client_for):
    client = client_for("pingcheng")
    county = Jurisdiction.objects.get(code="140213")
    response = client.post(
        reverse("registry:unit_create"),
        {"name": "测试企业", "credit_code": "911302006992296170", "kind": "industrial", "county": county.id},
    )
    assert response.status_code == 400
    assert "第 18 位应为 X" in response.context["form"].errors["credit_code"][0]
    assert not DischargeUnit.objects.filter(name="测试企业").exists()


def test_registers_pages_render(client_for):
    client = client_for("bureau")
    water = WaterBody.objects.get(name="桑干河")
    for url in (
        reverse("registry:waterbody_list"),
        reverse("registry:waterbody_detail", args=[water.id]),
        reverse("registry:section_list"),
        reverse("core:jurisdiction_list"),
        reverse("core:jurisdiction_detail", args=["140213"]),
        reverse("registry:unit_list"),
    ):
        assert client.get(url).status_code == 200, url
    assert "示意" in client.get(reverse("registry:waterbody_detail", args=[water.id])).content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("registry:outfall_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_filter_form_keeps_the_choice_selected(client_for):
    html = client_for("bureau").get(
        reverse("registry:outfall_list"), {"county": "140213", "registered": "true"}
    )
    text = html.content.decode()
    assert '<option value="140213" selected>平城区</option>' in text
    assert '<option value="true" selected>是</option>' in text
    assert '<option value="140215">云州区</option>' in text


def test_a_point_far_from_its_river_or_outside_its_county_is_saved_only_once_confirmed(client_for):
    """The same coordinate rules as the imports: outside the city refused; outside the declared county or far
    from the declared river shown and saved only with a confirmation; no 断面区间 filled far from the river."""
    client = client_for("pingcheng")
    outfall = Outfall.objects.filter(county__code="140213", water_body__name="御河").order_by("id").first()
    url = reverse("registry:outfall_edit", args=[outfall.id])
    yunzhou = Jurisdiction.objects.get(code="140215")
    from outfalls.geo import shapes

    inside_yunzhou = shapes.shape_of(yunzhou.boundary).representative_point()
    data = form_data(
        outfall, lon=f"{inside_yunzhou.x:.6f}", lat=f"{inside_yunzhou.y:.6f}", section_interval=""
    )
    asked = client.post(url, data)
    assert asked.status_code == 400
    form = asked.context["form"]
    messages = form.errors["confirm_placement"]
    assert any("云州区" in m for m in messages) and any("御河" in m for m in messages)
    assert "坐标已核实，仍按此保存" in asked.content.decode()
    assert Outfall.objects.get(pk=outfall.pk).lon == outfall.lon  # nothing saved yet
    assert client.post(url, {**data, "confirm_placement": "on"}).status_code == 302
    saved = Outfall.objects.get(pk=outfall.pk)
    assert saved.lon == pytest.approx(inside_yunzhou.x, abs=1e-6)
    assert saved.section_interval == ""  # far from 御河: its position along the river means nothing
    # A point in another province is refused outright.
    refused = client.post(url, {**form_data(saved, lon="120.15", lat="30.28"), "confirm_placement": "on"})
    assert refused.status_code == 400 and "不在大同市范围内" in refused.context["form"].errors["lon"][0]
