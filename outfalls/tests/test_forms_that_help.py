"""Forms that help (issue 16): filters offer 全部 once and 未填写 only where a field may be empty; pick-lists
carry what they narrow by; a one-county user's county is preselected; a refusal sits on the field it concerns
and says what to change; import results link to their outfalls; a page answering a POST reloads as a GET;
the menu has no dead ends. (In the browser: test_browser_phone.py.)"""

import json
import re

import django_filters
import lxml.html
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.core.filters import EMPTY
from outfalls.core.models import Jurisdiction
from outfalls.registry.choices import ledger_steps
from outfalls.registry.classification import LEVEL2_CODE, LEVEL3_PARENT
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.helpers import import_through_the_pages
from outfalls.registry.tests.test_ledger_import import new_row
from outfalls.survey.choices import CaseStatus
from outfalls.survey.models import Campaign, TracingCase

pytestmark = pytest.mark.django_db

# Every list page with a filter form (the map's is the ledger's).
FILTER_PAGES = [
    "registry:outfall_list",
    "registry:unit_list",
    "registry:waterbody_list",
    "registry:section_list",
    "registry:finding_list",
    "core:jurisdiction_list",
    "survey:campaign_list",
    "survey:case_list",
    "survey:case_awaiting",
    "survey:borrowed_list",
    "remediation:plan_list",
    "remediation:retained_list",
    "remediation:proposal_list",
    "survey:coverage",
    "survey:reconciliation",
    "maps:map",
]


def filter_selects(html):
    doc = lxml.html.fromstring(html)
    forms = doc.xpath("//form[@method='get']")
    return {
        select.get("name"): [(o.get("value"), o.text_content()) for o in select.xpath(".//option")]
        for form in forms
        for select in form.xpath(".//select")
    }


def model_field(filterset_class, name):
    """The model field a filter of a FilterSet reads (through relations: town__code → Outfall.town)."""
    model = filterset_class._meta.model
    path = filterset_class.base_filters[name].field_name.split("__")
    field = model._meta.get_field(path[0])
    return field


def filter_pages(username):
    """(name, address) of every page with a filter form that the user opens: the lists, a campaign's points
    and, for the city's administrator, the login audit."""
    pages = [(name, reverse(name)) for name in FILTER_PAGES]
    campaign = Campaign.objects.filter(county__code="140213").order_by("pk").first()
    pages.append(("survey:campaign_detail", reverse("survey:campaign_detail", args=[campaign.pk])))
    if username == "city_admin":
        pages.append(("accounts:audit", reverse("accounts:audit")))
    return pages


@pytest.mark.parametrize("username", ["bureau", "pingcheng", "city_admin"])
def test_filters_offer_all_once_and_empty_only_where_a_field_may_be_empty(client_for, username):
    client = client_for(username)
    offered_empty, selects = set(), set()
    for name, url in filter_pages(username):
        response = client.get(url)
        assert response.status_code == 200, name
        for select, options in filter_selects(response.content.decode()).items():
            selects.add((name, select))
            values = [value for value, _ in options]
            labels = [label for _, label in options]
            assert values.count("") <= 1, (name, select, options[:3])
            assert sum(label.startswith("全部") for label in labels) <= 1, (name, select, labels[:3])
            assert "(descending)" not in " ".join(labels)
            if "null" in values:
                assert labels[values.index("null")] == EMPTY
                offered_empty.add((name, select))
    # 未填写 where the field may be empty: a town, a level-2 type, a plan's programme, an open case's basis.
    assert offered_empty >= {
        ("registry:outfall_list", "town"),
        ("registry:outfall_list", "type_level2"),
        ("remediation:plan_list", "programme"),
        ("survey:case_list", "basis"),
    }
    assert ("registry:outfall_list", "county") not in offered_empty
    assert {("survey:campaign_detail", "outcome"), ("survey:coverage", "county")} <= selects
    assert ("registry:outfall_list", "status") not in offered_empty


def filtersets():
    from outfalls.core import filters as core_filters
    from outfalls.registry import filters as registry_filters
    from outfalls.remediation import plan_filters, proposal_forms
    from outfalls.survey import filters as survey_filters
    from outfalls.survey import tracing_forms

    for module in (
        core_filters,
        registry_filters,
        plan_filters,
        proposal_forms,
        survey_filters,
        tracing_forms,
    ):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, django_filters.FilterSet) and value._meta.model:
                yield value


def test_every_empty_choice_is_on_a_field_that_may_be_empty():
    checked = 0
    for filterset in filtersets():
        for name, flt in filterset.base_filters.items():
            if flt.extra.get("null_label") is None or flt.method is not None:
                continue
            field = model_field(filterset, name)
            assert field.null or field.blank, f"{filterset.__name__}.{name}: 未填写 on a field never empty"
            checked += 1
    assert checked >= 4


def test_the_empty_choice_finds_null_and_blank_values(client_for):
    client = client_for("bureau")
    page = client.get(reverse("registry:outfall_list"), {"type_level2": "null"})
    assert page.context["paginator"].count == Outfall.objects.filter(type_level2="").count() > 0
    page = client.get(reverse("registry:outfall_list"), {"town": "null"})
    assert page.context["paginator"].count == Outfall.objects.filter(town=None).count()
    api = client.get("/api/v1/outfalls/", {"type_level2": "null", "page_size": 1})
    assert api.json()["count"] == Outfall.objects.filter(type_level2="").count()
    # A filter on a field that is never empty refuses "null" like any unknown value.
    assert client.get("/api/v1/outfalls/", {"status": "null"}).status_code == 400


def narrowing(html, select_id):
    doc = lxml.html.fromstring(html)
    select = doc.get_element_by_id(select_id)
    data = json.loads(doc.get_element_by_id(f"{select_id}-narrow").text_content())
    return select.get("data-narrow-by").split(), data, [o.get("value") for o in select.xpath(".//option")]


def test_pick_lists_carry_what_they_narrow_by(client_for):
    client = client_for("bureau")
    html = client.get(reverse("registry:outfall_create")).content.decode()
    by, parents, values = narrowing(html, "id_town")
    towns = Jurisdiction.objects.filter(level="town")
    assert by == ["county"] and set(parents) == {str(t.pk) for t in towns} == set(values) - {""}
    assert all(parents[str(t.pk)] == {"county": str(t.county_id)} for t in towns)
    by, parents, _ = narrowing(html, "id_village")
    village = Jurisdiction.objects.filter(level="village").first()
    assert by == ["town", "county"]
    assert parents[str(village.pk)] == {"town": str(village.parent_id), "county": str(village.county_id)}
    by, parents, _ = narrowing(html, "id_type_level2")
    assert by == ["type_code"] and parents == {l2: {"type_code": code} for l2, code in LEVEL2_CODE.items()}
    by, parents, _ = narrowing(html, "id_type_level3")
    assert by == ["type_level2"] and parents == {l3: {"type_level2": l2} for l3, l2 in LEVEL3_PARENT.items()}
    # The ledger's filter: every town the user sees (by code), narrowed by the county chosen.
    html = client.get(reverse("registry:outfall_list"), {"county": "140213"}).content.decode()
    by, parents, values = narrowing(html, "id_town")
    assert by == ["county"] and len(values) == towns.count() + 2  # 全部乡镇, 未填写
    assert parents["140213001"] == {"county": "140213"}
    by, parents, _ = narrowing(html, "id_type_level2")
    assert by == ["type_code"] and parents["urban_storm"] == {"type_code": "YH"}


def test_a_one_county_users_county_is_preselected(client_for):
    pingcheng = Jurisdiction.objects.get(code="140213")
    for name in ("registry:outfall_create", "registry:unit_create", "survey:campaign_create"):
        form = client_for("pingcheng").get(reverse(name)).context["form"]
        assert form["county"].value() == pingcheng.pk, name
    # Not for someone with several counties to choose from.
    form = client_for("bureau").get(reverse("registry:outfall_create")).context["form"]
    assert form["county"].value() is None


def outfall_post(client, **changes):
    """A complete new-outfall form as the page sends it, with changes."""
    form = client.get(reverse("registry:outfall_create")).context["form"]
    near = Outfall.objects.filter(county__code="140213").order_by("pk").first()  # a place beside it
    data = {
        "water_body": near.water_body_id,
        "county": near.county_id,
        "coord_text": f"{near.lon + 0.0008:.6f}, {near.lat:.6f}",
        "coord_crs": "cgcs2000",
        "landmark": "表单测试",
        "name_auto": "on",
        "type_code": "YH",
        "type_level2": "urban_storm",
        "status": "verified",
        "responsibility_basis": "unknown",
        "version": form["version"].value() if "version" in form.fields else "",
    }
    data.update(changes)
    return client.post(reverse("registry:outfall_create"), {k: v for k, v in data.items() if v is not None})


def test_a_refusal_says_what_to_change_on_the_field(client_for, demo_user):
    enterprise = client_for("enterprise")
    unit = DischargeUnit.objects.get(pk=demo_user("enterprise").memberships.get().unit_id)
    refused = outfall_post(enterprise, responsible_entity="")
    assert refused.status_code == 400
    assert refused.context["form"].errors["responsible_entity"] == [
        f"您以“{unit.name}”的身份登录，只能登记和修改本单位为责任主体的排污口：责任主体请选择“{unit.name}”。"
    ]
    assert 'class="form-select is-invalid"' in refused.content.decode()  # the field is marked
    saved = outfall_post(enterprise, responsible_entity=unit.pk)
    assert saved.status_code == 302, saved.context["form"].errors
    assert Outfall.objects.filter(landmark="表单测试", responsible_entity=unit).exists()
    # A department: the level-2 types it is responsible for.
    refused = outfall_post(client_for("chengguan"), type_code="GY", type_level2="industrial_mining")
    assert "城镇雨洪排口" in refused.context["form"].errors["type_level2"][0]


def test_a_bad_credit_code_sits_on_the_tracing_link_field(client_for):
    case = TracingCase.objects.filter(status=CaseStatus.OPEN).order_by("pk").first()
    response = client_for("bureau").post(
        reverse("survey:case_detail", args=[case.pk]),
        {
            "action": "link",
            "new_name": "新发现的洗车行",
            "new_kind": "other",
            "new_credit_code": "91140200ABCDEFGHIJ",
            "role": "owner",
        },
    )
    assert response.status_code == 400
    form = response.context["link_form"]
    assert "统一社会信用代码" in form.errors["new_credit_code"][0]
    assert not form.non_field_errors()
    assert not DischargeUnit.objects.filter(name="新发现的洗车行").exists()


def test_import_results_link_to_the_outfalls_written(client_for, tmp_path):
    client = client_for("pingcheng")
    built = ledger_files.write_csv(tmp_path / "links.csv", [new_row(1), new_row(2)])
    record = import_through_the_pages(client, built.path)
    html = client.get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    linked = set(map(int, re.findall(r'href="/ledger/outfalls/(\d+)/" data-testid="row-outfall"', html)))
    assert linked == set(record.created_ids) and len(linked) == 2
    assert "坐标系 CGCS2000" in html
    # A second file changing one of them: its row links to the outfall it updated.
    changed = ledger_files.write_csv(tmp_path / "again.csv", [new_row(1, outlet="右岸，雨水管出口")])
    again = import_through_the_pages(client, changed.path)
    assert again.updated_ids and not again.created_ids
    html = client.get(reverse("registry:import_detail", args=[again.pk])).content.decode()
    linked = set(map(int, re.findall(r'href="/ledger/outfalls/(\d+)/" data-testid="row-outfall"', html)))
    assert linked == set(again.updated_ids) and linked < set(record.created_ids)


def test_a_page_answering_a_post_reloads_as_a_get_of_its_page(client_for):
    client = client_for("bureau")
    assert "data-reload-url" not in client.get(reverse("registry:outfall_create")).content.decode()
    refused = client.post(reverse("registry:outfall_create"), {})
    assert 'data-reload-url="/ledger/outfalls/new/"' in refused.content.decode()
    refused = client.post(reverse("accounts:password"), {"old_password": "x"})
    assert refused.status_code == 400 and 'data-reload-url="/accounts/"' in refused.content.decode()


def test_the_menu_leads_nowhere_empty(client_for):
    def menu(username):
        html = client_for(username).get(reverse("registry:outfall_list")).content.decode()
        return set(re.findall(r'data-testid="nav-([a-z-]+)"', html)), html

    for username in DEMO_USERS:
        items, html = menu(username)
        assert "建设中" not in html and "nav-link disabled" not in html
        field = username in ("city_admin", "bureau", "pingcheng", "yunzhou")
        assert ("field" in items) == field, username
        assert ("campaigns" in items) == (username not in ("chengguan", "enterprise")), username
        assert {"cases", "borrowed", "progress", "plans", "retained", "supervision"} <= items


def test_the_outfall_pages_small_forms_are_refused_on_their_fields(client_for):
    """The status change, unit link and attachment forms of an outfall's page: a refusal shows the page again
    with the message on the field (not only a banner after a redirect), and a reload asks for the page."""
    client = client_for("pingcheng")
    outfall = next(
        o for o in Outfall.objects.filter(county__code="140213").order_by("pk") if ledger_steps(o.status)
    )
    page = reverse("registry:outfall_detail", args=[outfall.pk])
    before = (outfall.status, outfall.unit_links.count(), outfall.history.count())

    refused = client.post(reverse("registry:outfall_status", args=[outfall.pk]), {"to_status": "closed"})
    assert refused.status_code == 400
    form = refused.context["status_form"]
    assert form.errors["reason"] == ["该字段是必填项。"] and "to_status" in form.errors
    html = refused.content.decode()
    assert f'data-reload-url="{page}#lifecycle"' in html
    assert 'data-field="reason"' in html and 'data-field="to_status"' in html

    refused = client.post(reverse("registry:outfall_link_unit", args=[outfall.pk]), {"role": "owner"})
    assert refused.status_code == 400 and "unit" in refused.context["link_form"].errors
    assert 'data-field="unit"' in refused.content.decode()

    upload = SimpleUploadedFile("x.exe", b"MZ")
    refused = client.post(
        reverse("registry:outfall_add_attachment", args=[outfall.pk]), {"kind": "photo_close", "file": upload}
    )
    assert refused.status_code == 400
    assert "类型 .exe 不允许" in refused.context["attachment_form"].errors["file"][0]
    assert not refused.context["attachment_form"].non_field_errors()

    outfall.refresh_from_db()
    assert (outfall.status, outfall.unit_links.count(), outfall.history.count()) == before
