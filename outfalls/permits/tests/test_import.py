"""The permit import (permits/importer.py): CSV and xlsx, all or nothing, messages naming the row and column."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outfalls.permits import importer
from outfalls.permits.models import DischargePermit, PermitLimit
from outfalls.registry.models import DischargeUnit, Outfall

pytestmark = pytest.mark.django_db

HEADER = ["许可证编号", "单位名称", "统一社会信用代码", "有效期起", "有效期至", "发证机关", "排放口编号",
          "入河排污口编码", "责任份额（%）", "污染物", "许可限值", "限值下限", "单位", "平均时间", "执行标准", "监测频次"]  # fmt: skip


def unit_and_outfalls():
    unit = (
        DischargeUnit.objects.filter(credit_code__isnull=False, permits__isnull=True)
        .order_by("credit_code")
        .first()
    )
    outfalls = list(Outfall.objects.order_by("code")[:2])
    return unit, outfalls


def rows_for(unit, outfalls, number=None):
    number = number or f"{unit.credit_code}009P"
    a, b = outfalls
    return [
        [number, unit.name, unit.credit_code, "2024-01-01", "2028-12-31", "大同市生态环境局", "DW001", a.code, "",
         "化学需氧量", "50", "", "mg/L", "日均值", "GB 18918-2002 一级A", "自动监测"],
        [number, "", unit.credit_code, "2024/1/1", "2028年12月31日", "", "DW001", a.code, "",
         "pH值", "9", "6", "无量纲", "", "", "1次/日"],
        [number, "", unit.credit_code, "", "", "", "DW002", b.code, "40", "氨氮", "5", "", "", "小时均值", "", ""],
    ]  # fmt: skip


def csv_file(rows, header=HEADER, name="permits.csv", encoding="utf-8-sig"):
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows, header=HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["排污许可证信息（整理自全国排污许可证管理信息平台）"])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("permits.xlsx", buffer.getvalue())


@pytest.mark.parametrize("make", [csv_file, xlsx_file])
def test_a_permit_comes_in_with_its_outfalls_limits_and_duties(demo_user, make):
    unit, outfalls = unit_and_outfalls()
    result = importer.import_file(make(rows_for(unit, outfalls)), filename="x." + ("csv" if make is csv_file else "xlsx"),
                                  user=demo_user("bureau"))  # fmt: skip
    assert result.ok, result.errors
    permit = DischargePermit.objects.get(number=f"{unit.credit_code}009P")
    assert (
        permit.unit == unit
        and str(permit.valid_from) == "2024-01-01"
        and str(permit.valid_until) == "2028-12-31"
    )
    entries = {e.outlet_code: e for e in permit.covered.all()}
    assert set(entries) == {"DW001", "DW002"} and entries["DW002"].share_percent == 40
    ph = PermitLimit.objects.get(entry=entries["DW001"], parameter="pH值")
    assert (ph.lower_value, ph.limit_value, ph.averaging) == (6, 9, "daily")
    assert entries["DW002"].limits.get().averaging == "hourly"
    assert {m.frequency for m in entries["DW001"].monitoring.all()} == {"自动监测", "1次/日"}
    assert "导入" in permit.source


def test_one_bad_row_writes_nothing_and_every_message_names_row_and_column(demo_user):
    unit, outfalls = unit_and_outfalls()
    rows = rows_for(unit, outfalls)
    rows[1][10] = "九"  # 许可限值
    rows[2][7] = "NO-SUCH-CODE"  # 入河排污口编码
    rows.append([f"{unit.credit_code}010P", "", "91000000000000000X", "2024-01-01", "2023-01-01", "", "", outfalls[0].code,
                 "", "", "", "", "", "", "", ""])  # fmt: skip
    before = DischargePermit.objects.count()
    result = importer.import_file(csv_file(rows), filename="x.csv", user=demo_user("bureau"))
    assert not result.ok and DischargePermit.objects.count() == before
    text = "\n".join(result.errors)
    assert "第 3 行“许可限值”：“九”不是数字" in text
    assert "第 4 行“入河排污口编码”：台账中没有编码为 NO-SUCH-CODE" in text
    assert "第 5 行“统一社会信用代码”" in text


def test_a_missing_column_and_an_inconsistent_permit_are_refused(demo_user):
    unit, outfalls = unit_and_outfalls()
    result = importer.import_file(csv_file(rows_for(unit, outfalls), header=HEADER[:7] + ["X"] + HEADER[8:]),
                                  filename="x.csv", user=demo_user("bureau"))  # fmt: skip
    assert "缺少列：入河排污口编码" in result.errors[0]
    rows = rows_for(unit, outfalls)
    rows[2][4] = "2029-12-31"
    result = importer.import_file(csv_file(rows), filename="x.csv", user=demo_user("bureau"))
    assert any("第 4 行“有效期至”：与同一许可证前面的行不一致" in e for e in result.errors)


def test_gbk_csv_dry_run_and_replacing_a_permit(demo_user):
    unit, outfalls = unit_and_outfalls()
    result = importer.import_file(csv_file(rows_for(unit, outfalls), encoding="gb18030"), filename="x.csv",
                                  user=demo_user("bureau"), dry_run=True)  # fmt: skip
    assert result.ok and result.dry_run and not DischargePermit.objects.filter(unit=unit).exists()
    importer.import_file(csv_file(rows_for(unit, outfalls)), filename="x.csv", user=demo_user("bureau"))
    rows = rows_for(unit, outfalls)[:1]
    result = importer.import_file(csv_file(rows), filename="x.csv", user=demo_user("bureau"))
    assert result.ok and result.permits[0][4] is False  # an update
    permit = DischargePermit.objects.get(unit=unit)
    assert permit.covered.count() == 1 and permit.history.count() == 2


def test_a_damaged_workbook_is_refused_before_reading(demo_user):
    upload = SimpleUploadedFile("permits.xlsx", b"not a zip at all")
    result = importer.import_file(upload, filename="permits.xlsx", user=demo_user("bureau"))
    assert not result.ok and "不是 .xlsx 格式" in result.errors[0]


def test_only_the_bureau_imports(client_for):
    for username in ("pingcheng", "enterprise", "auditor"):
        assert client_for(username).get(reverse("permits:permit_import")).status_code == 403
    client = client_for("bureau")
    page = client.get(reverse("permits:permit_import"))
    assert page.status_code == 200 and "入河排污口编码" in page.content.decode()
    unit, outfalls = unit_and_outfalls()
    response = client.post(reverse("permits:permit_import"), {"file": csv_file(rows_for(unit, outfalls))})
    assert response.status_code == 302 and DischargePermit.objects.filter(unit=unit).exists()
    bad = rows_for(unit, outfalls)
    bad[0][3] = "去年"
    response = client.post(reverse("permits:permit_import"), {"file": csv_file(bad)})
    assert response.status_code == 400 and "第 2 行“有效期起”" in response.content.decode()
