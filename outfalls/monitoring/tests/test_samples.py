"""Recording samples: the form, the service's identity rule (the same sample twice changes nothing, the same
identity with other values is refused), who may record what, and the lab file import (all or nothing, row
and column messages, the same file twice)."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from outfalls.monitoring import sample_import, services
from outfalls.monitoring.choices import ImportStatus, Qualifier, SampleSource
from outfalls.monitoring.models import Finding, Sample, SampleImport, SampleValue
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall

from .helpers import at, new_outfall, record


def test_a_sample_keeps_given_and_converted_values(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    sample, created = record(
        outfall,
        "2025-04-01 09:30",
        {"COD": 32, "NH3N": ("850", "μg/L"), "TP": "0.02L"},
        flow=2,
        flow_unit="L/s",
    )
    assert created and sample.flow_m3h == pytest.approx(7.2)
    values = {
        v.parameter.code: v for v in SampleValue.objects.filter(sample=sample).select_related("parameter")
    }
    assert (values["NH3N"].value, values["NH3N"].unit, values["NH3N"].value_std) == (
        850,
        "μg/L",
        pytest.approx(0.85),
    )
    assert (values["TP"].qualifier, values["TP"].detection_limit_std, values["TP"].shown) == (
        Qualifier.BELOW_LOD,
        0.02,
        "<0.02",
    )
    assert all(v.outfall_id == outfall.pk and v.sampled_at == sample.sampled_at for v in values.values())


def test_the_same_sample_twice_changes_nothing_and_other_values_are_refused(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    first, created = record(outfall, "2025-04-01 09:30", {"COD": 32}, lab="某检测公司", lab_sample_id="S-001")
    again, created_again = record(
        outfall, "2025-04-01 09:30", {"COD": "32.0"}, lab="某检测公司", lab_sample_id="S-001"
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(ValidationError) as error:
        record(outfall, "2025-04-01 09:30", {"COD": 33}, lab="某检测公司", lab_sample_id="S-001")
    assert "监测值不同：化学需氧量" in str(error.value)
    assert Sample.objects.filter(outfall=outfall).count() == 1


def test_without_a_lab_number_place_source_and_time_identify_a_sample(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-04-01 09:30", {"COD": 32})
    assert record(outfall, "2025-04-01 09:30", {"COD": 32})[1] is False
    assert record(outfall, "2025-04-01 09:30", {"COD": 32}, source=SampleSource.SELF)[1] is True


def test_bad_values_are_named(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    with pytest.raises(ValidationError) as error:
        record(outfall, "2025-04-01 09:30", {"COD": "abc", "pH": 15, "NH3N": ("3", "mg/kg")}, flow=3)
    messages = error.value.message_dict
    assert "flow_unit" in messages
    text = " ".join(messages["values"])
    assert "“abc”无法识别" in text and "pH值" in text and "mg/kg" in text
    assert not Sample.objects.filter(outfall=outfall).exists()


def test_who_may_record_what(db, demo_user):
    pingcheng = new_outfall(Level2.MUNICIPAL_WWTP, county="140213")
    yunzhou = new_outfall(Level2.MUNICIPAL_WWTP, county="140215")
    assert record(pingcheng, "2025-04-01 09:30", {"COD": 20}, user=demo_user("pingcheng"))[1]
    with pytest.raises(PermissionDenied):
        record(yunzhou, "2025-04-01 09:30", {"COD": 20}, user=demo_user("pingcheng"))
    for username in ("auditor", "river_chief"):
        with pytest.raises(PermissionDenied):
            record(pingcheng, "2025-04-02 09:30", {"COD": 20}, user=demo_user(username))
    assert services.allowed_sources(demo_user("enterprise")) == (SampleSource.SELF,)
    entity_outfall = Outfall.objects.editable_by(demo_user("enterprise")).first()
    with pytest.raises(PermissionDenied):
        record(entity_outfall, "2025-04-01 09:30", {"COD": 20}, user=demo_user("enterprise"))
    assert record(
        entity_outfall,
        "2025-04-01 09:30",
        {"COD": 20},
        user=demo_user("enterprise"),
        source=SampleSource.SELF,
    )[1]


def test_the_form_records_a_sample_and_judges_it(client_for):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    client = client_for("pingcheng")
    page = client.get(f"/monitoring/samples/new/?outfall={outfall.pk}")
    assert page.status_code == 200 and outfall.code in page.content.decode()
    response = client.post(
        "/monitoring/samples/new/",
        {
            "outfall_code": outfall.code,
            "source": "supervisory",
            "sampled_at": "2025-06-01T10:00",
            "value_COD": "80",
            "unit_COD": "mg/L",
            "value_pH": "7.1",
            "flow_unit": "m3/h",
        },
    )
    sample = Sample.objects.get(outfall=outfall)
    assert response.status_code == 302 and response.url == f"/monitoring/samples/{sample.pk}/"
    assert Finding.objects.get(outfall=outfall).multiple == pytest.approx(0.6)
    detail = client.get(response.url).content.decode()
    assert "超标" in detail and "0.60 倍" in detail


def test_the_form_keeps_what_was_typed_and_names_the_fault(client_for):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    response = client_for("bureau").post(
        "/monitoring/samples/new/",
        {
            "outfall_code": outfall.code,
            "source": "supervisory",
            "sampled_at": "2025-06-01T10:00",
            "value_COD": "8O",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400 and "“8O”无法识别" in body and 'value="8O"' in body


# The lab file ---------------------------------------------------------------------------------------------
def csv_file(text, name="results.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def import_(upload, user, source=SampleSource.SUPERVISORY):
    record_ = sample_import.create_record(upload, user=user, source=source, lab="市监测站")
    result = sample_import.import_samples(record_, user=user)
    record_.refresh_from_db()
    return record_, result


def lab_csv(outfall):
    return (
        "排污口编码,采样时间,样品编号,流量(m3/d),天气,化学需氧量(mg/L),NH3-N(mg/L),总磷,pH\n"
        f"{outfall.code},2025-03-05 10:30,L-1,240,旱天,72,850,<0.01,7.2\n"
        f"{outfall.code},2025/3/12 10:30,L-2,,,45,4.1,0.3L,7.0\n"
    ).replace("NH3-N(mg/L)", "NH3-N(μg/L)")


def test_a_lab_file_is_imported_and_a_second_time_changes_nothing(db, demo_user):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    user = demo_user("bureau")
    first, result = import_(csv_file(lab_csv(outfall)), user)
    assert (first.status, result.created, result.values) == (ImportStatus.IMPORTED, 2, 8)
    samples = list(Sample.objects.filter(outfall=outfall).order_by("sampled_at"))
    assert [s.lab_sample_id for s in samples] == ["L-1", "L-2"] and samples[0].flow_m3h == pytest.approx(10)
    assert samples[0].weather == "dry" and samples[0].lab == "市监测站"
    nh3n = SampleValue.objects.get(sample=samples[0], parameter__code="NH3N")
    assert nh3n.value_std == pytest.approx(0.85)
    assert Finding.objects.filter(outfall=outfall, kind="exceedance").count() == 1  # COD 72 > 50
    again, _ = import_(csv_file(lab_csv(outfall)), user)
    assert again.status == ImportStatus.UNCHANGED and "内容相同" in again.errors[0]
    # The same sample in another file (other columns, other order): recognised by its lab number, unchanged.
    other = f"样品编号,pH,排污口编码,采样时间,总磷,化学需氧量(mg/L),NH3-N(mg/L),流量(m3/h),天气\nL-1,7.2,{outfall.code},2025-03-05 10:30,<0.01,72,0.85,10,旱天\n"
    third, result = import_(csv_file(other, "again.csv"), user)
    assert (third.status, result.created, result.unchanged) == (ImportStatus.IMPORTED, 0, 1)
    assert Sample.objects.filter(outfall=outfall).count() == 2


def test_a_file_with_one_bad_row_imports_nothing_and_names_row_and_column(db, demo_user):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    text = f"排污口编码,采样时间,化学需氧量(mg/L),氨氮(mg/kg)\n{outfall.code},2025-03-05 10:30,72,1\n"
    record_, result = import_(csv_file(text), demo_user("bureau"))
    assert record_.status == ImportStatus.FAILED and "第 2 行“氨氮(mg/kg)”" in record_.errors[0]
    text = (
        "排口编码,采样时间,化学需氧量(mg/L)\n"
        f"{outfall.code},2025-03-05 10:30,72\n"
        "NOPE-1,2025-03-06 10:30,40\n"
        f"{outfall.code},昨天,40\n"
        f"{outfall.code},2025-03-07 10:30,\n"
    )
    record_, result = import_(csv_file(text), demo_user("bureau"))
    assert record_.status == ImportStatus.FAILED
    assert record_.errors == [
        "第 3 行“排口编码”：没有编码为“NOPE-1”的入河排污口。",
        "第 4 行“采样时间”：“昨天”不是可识别的采样时间（如 2024-03-05 10:30）。",
        "第 5 行：没有任何监测项目的数值。",
    ]
    assert not Sample.objects.filter(outfall=outfall).exists()


def test_unknown_columns_and_other_counties_are_refused(db, demo_user):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP, county="140215")
    record_, _ = import_(
        csv_file(f"排污口编码,采样时间,化学需氧量,叶绿素a\n{outfall.code},2025-03-05 10:30,12,3\n"),
        demo_user("bureau"),
    )
    assert record_.status == ImportStatus.FAILED and "无法识别的列：“叶绿素a”" in record_.errors[0]
    record_, _ = import_(
        csv_file(f"排污口编码,采样时间,化学需氧量\n{outfall.code},2025-03-05 10:30,12\n"),
        demo_user("pingcheng"),
    )
    assert (
        record_.status == ImportStatus.FAILED
        and "第 2 行：排口" in record_.errors[0]
        and "不在您可录入" in record_.errors[0]
    )


def test_a_sample_already_recorded_with_other_values_fails_the_whole_file(db, demo_user):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-03-05 10:30", {"COD": 70}, lab="市监测站", lab_sample_id="L-1")
    record_, _ = import_(csv_file(lab_csv(outfall)), demo_user("bureau"))
    assert record_.status == ImportStatus.FAILED and "已录入" in record_.errors[0]
    assert Sample.objects.filter(outfall=outfall).count() == 1


def test_an_xlsx_file_and_a_gbk_csv(db, demo_user):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    book = Workbook()
    sheet = book.active
    sheet.append(["排污口编码", "采样时间", "COD（mg/L）", "氨氮"])
    sheet.append([outfall.code, at("2025-05-01 08:00").replace(tzinfo=None), 30, "ND(0.025)"])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("lab.xlsx", data.getvalue())
    record_, result = import_(upload, demo_user("bureau"))
    assert record_.status == ImportStatus.IMPORTED and result.values == 2
    value = SampleValue.objects.get(outfall=outfall, parameter__code="NH3N")
    assert (value.qualifier, value.detection_limit) == (Qualifier.BELOW_LOD, 0.025)
    gbk = SimpleUploadedFile(
        "gbk.csv", f"排污口编码,采样时间,总磷\n{outfall.code},2025-05-02 08:00,0.2\n".encode("gbk")
    )
    record_, result = import_(gbk, demo_user("bureau"))
    assert record_.status == ImportStatus.IMPORTED and result.created == 1


def test_the_import_page_runs_the_job(client_for):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    client = client_for("pingcheng")
    response = client.post(
        "/monitoring/imports/",
        {"file": csv_file(lab_csv(outfall)), "source": "supervisory", "lab": "区监测站"},
    )
    record_ = SampleImport.objects.latest("created_at")
    assert response.status_code == 302 and response.url == f"/monitoring/imports/{record_.pk}/"
    page = client.get(response.url).content.decode()
    assert record_.status == ImportStatus.IMPORTED and "已导入样品 2 个" in page
    assert client_for("yunzhou").get(response.url).status_code == 404
