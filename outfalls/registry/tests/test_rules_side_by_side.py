"""The same rule, refused the same way in the outfall form and in the ledger import (tested side by side).

Each case changes one outfall of 平城区 through the edit form and through an import row that updates it (by
its code), as the same city editor (whose choices hold every town); both must refuse (the form on the field, the import on the row and
column), or, for what only workflows and the city write, both must leave the ledger as it was."""

import pytest
from django.urls import reverse

from outfalls.core.models import Jurisdiction
from outfalls.registry import ledger_import
from outfalls.registry.choices import LifecycleStatus, RectificationMeasure
from outfalls.registry.classification import TypeCode
from outfalls.registry.ledger_values import classification_text
from outfalls.registry.models import Outfall

from . import ledger_files
from .test_ledger_import import make_record, new_row
from .test_pages import form_data

pytestmark = pytest.mark.django_db
PINGCHENG = "140213"


def subject():
    """An 平城区 outfall with a merge measure (so a storm type would break the storm rule), not registered."""
    return (
        Outfall.objects.filter(
            county__code=PINGCHENG,
            rectification_measure=RectificationMeasure.MERGE,
            registered=False,
            status=LifecycleStatus.RECTIFYING,
        )
        .exclude(type_code=TypeCode.YH)
        .select_related("county", "town", "village", "water_body")
        .order_by("code")
        .first()
    )


def other_county_town():
    return Jurisdiction.objects.filter(level="town", county__code="140215").order_by("code").first()


def taken_national_code(outfall):
    return (
        Outfall.objects.exclude(pk=outfall.pk)
        .exclude(national_code=None)
        .filter(county__code=PINGCHENG)
        .values_list("national_code", flat=True)
        .first()
    )


# (name, form changes, import cell changes, form field at fault, import column at fault, words in both)
def cases(outfall):
    yunzhou_town = other_county_town()
    foreign_village = (
        Jurisdiction.objects.filter(level="village", county=outfall.county)
        .exclude(parent=outfall.town)
        .first()
    )
    national = taken_national_code(outfall)
    return [
        ("town in another county", {"town": yunzhou_town.pk, "village": ""}, {"town": yunzhou_town.name,
         "village": None}, "town", "乡镇", ["乡镇"]),
        ("village under another town", {"village": foreign_village.pk}, {"village": foreign_village.name},
         "village", "村", ["村"]),
        ("level 2 of another type code", {"type_code": "GY", "type_level2": "urban_storm", "type_level3": ""},
         {"classification": "GY 城镇雨洪排口"}, "type_level2", "分类", ["城镇雨洪排口"]),
        ("a storm outfall cannot keep a merge measure", {"type_code": "YH", "type_level2": "urban_storm",
         "type_level3": ""}, {"classification": "城镇雨洪排口"}, "type_code", "分类", ["严禁合并、封堵"]),
        ("permit number checksum", {"permit_number": "911302006992296170001P"},
         {"permit_number": "911302006992296170001P"}, "permit_number", "排污许可证编号", ["第 18 位"]),
        ("coordinates outside the city", {"lon": "120.15", "lat": "30.28"},
         {"location": "120.15, 30.28", "lon": 120.15, "lat": 30.28}, "lon", "地理坐标", ["不在大同市范围内"]),
        ("national code used by another outfall", {"national_code": national}, {"national_code": national},
         "national_code", "国家统一编码", ["已被"]),
    ]  # fmt: skip


def import_row(outfall, changes):
    county = outfall.county
    row = new_row(1, PINGCHENG, lon=outfall.lon, lat=outfall.lat)
    row.update(
        name=outfall.name,
        county=county.name,
        town=outfall.town.name if outfall.town else None,
        village=outfall.village.name if outfall.village else None,
        water_body=outfall.water_body.name,
        classification=classification_text(outfall.type_code, outfall.type_level2, outfall.type_level3),
        code=outfall.code,
        rectification=None,
        registered=None,
        approval_date=None,
        responsible_entity=None,
        unit_location=None,
        unit_kind=None,
    )
    row.update(changes)
    return row


def preview(tmp_path, user, rows):
    path = ledger_files.messy_xlsx(tmp_path, rows, code_columns=True)
    record = make_record(user, path)
    ledger_import.run_preview(record)
    record.refresh_from_db()
    return record


@pytest.mark.parametrize("index", range(7))
def test_a_rule_refused_in_the_form_is_refused_in_the_import(client_for, demo_user, tmp_path, index):
    outfall = subject()
    name, form_changes, cells, field, column, words = cases(outfall)[index]
    before = Outfall.objects.filter(pk=outfall.pk).values().get()

    response = client_for("bureau").post(
        reverse("registry:outfall_edit", args=[outfall.pk]), form_data(outfall, **form_changes)
    )
    assert response.status_code == 400, name
    form_errors = response.context["form"].errors
    assert field in form_errors, (name, form_errors)
    for word in words:
        assert word in " ".join(form_errors[field]), (name, form_errors)

    record = preview(tmp_path, demo_user("bureau"), [import_row(outfall, cells)])
    (row,) = record.report()
    assert row["action"] == "error", (name, row)
    text = " ".join(row["messages"])
    assert column in text, (name, text)
    for word in words:
        assert word in text, (name, text)
    assert Outfall.objects.filter(pk=outfall.pk).values().get() == before


def test_what_workflows_and_the_city_write_is_left_alone_by_both(client_for, demo_user, tmp_path):
    """整治进展 (workflows) and 登记建档 / 批准时间 (the city): the form shows them read-only or disabled, the
    import notes them on the row; neither writes them for a county officer."""
    outfall = subject()
    before = Outfall.objects.filter(pk=outfall.pk).values().get()
    response = client_for("pingcheng").post(
        reverse("registry:outfall_edit", args=[outfall.pk]),
        form_data(outfall, rectification_status="completed", registered="on", approval_date="2024-01-02"),
    )
    assert response.status_code == 302
    after_form = Outfall.objects.filter(pk=outfall.pk).values().get()
    for name in ("rectification_status", "registered", "approval_date", "status"):
        assert after_form[name] == before[name], name

    cells = {"rectification": "已完成", "registered": "是", "approval_date": "2024-01-02"}
    record = preview(tmp_path, demo_user("pingcheng"), [import_row(outfall, cells)])
    (row,) = record.report()
    assert row["action"] in ("unchanged", "update"), row
    notes = " ".join(row["notes"])
    assert "整治进展由一口一策方案和销号审核产生" in notes and "“已完成”不导入" in notes
    assert "只能由市生态环境局填写" in notes
    if row["action"] == "update":
        ledger_import.commit(record, demo_user("pingcheng"))
    after_import = Outfall.objects.filter(pk=outfall.pk).values().get()
    for name in ("rectification_status", "registered", "approval_date", "status"):
        assert after_import[name] == before[name], name
