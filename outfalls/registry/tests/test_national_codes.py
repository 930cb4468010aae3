"""国家统一编码回写: a file of (local code, national code) pairs; all or nothing, each refusal naming its row; the
codes go through save_outfall (history) and come back out in the attachment-1 export."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from outfalls.registry import national_codes
from outfalls.registry.ledger_export import write_xlsx
from outfalls.registry.ledger_reader import read_table
from outfalls.registry.models import Outfall

pytestmark = pytest.mark.django_db


def xlsx(rows, title="国家平台入河排污口赋码清单"):
    """A workbook as the national platform might hand it out: a title row, then the header and the pairs."""
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append(["序号", "入河排污口名称", "入河排污口编码", "国家统一编码"])
    for i, (local, national) in enumerate(rows, 1):
        sheet.append([i, "某排口", local, national])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pingcheng(n):
    return list(Outfall.objects.filter(county__code="140213").order_by("code")[:n])


def test_national_codes_are_written_with_history_and_come_back_out_in_the_export(demo_user):
    bureau = demo_user("bureau")
    outfalls = pingcheng(3)
    pairs = [(o.code, f"T1402130{i}GY{i:04d}") for i, o in enumerate(outfalls, 1)]
    result = national_codes.write_back(io.BytesIO(xlsx(pairs)), filename="赋码.xlsx", user=bureau)
    assert result.rows == 3 and len(result.changed) == 3 and result.unchanged == 0
    for outfall, (_, national) in zip(outfalls, pairs, strict=True):
        outfall.refresh_from_db()
        assert outfall.national_code == national
        assert outfall.history.latest().history_change_reason == "国家统一编码回写（赋码.xlsx）"
    # The attachment-1 export carries them, and the import's reader reads them back.
    out = io.BytesIO()
    write_xlsx(Outfall.objects.filter(pk__in=[o.pk for o in outfalls]), out, title_subject="平城区")
    table = read_table(io.BytesIO(out.getvalue()), filename="附件1.xlsx")
    assert {(r.values["code"], r.values["national_code"]) for r in table.rows()} == set(pairs)
    # The same file again changes nothing.
    again = national_codes.write_back(io.BytesIO(xlsx(pairs)), filename="赋码.xlsx", user=bureau)
    assert again.changed == [] and again.unchanged == 3


def test_one_bad_row_writes_nothing_and_every_bad_row_is_named(demo_user):
    bureau = demo_user("bureau")
    a, b, c, d = pingcheng(4)
    before = a.national_code
    c.national_code = "T140213QT9999"
    c.save()
    rows = [
        (a.code, "T140213GY9001"),  # fine on its own
        ("NO-SUCH-CODE", "T140213GY9002"),
        (b.code, ""),
        (b.code, "T140213GY9001"),  # repeats row 3's national code
        (a.code, "T140213GY9003"),  # repeats row 3's outfall
        (d.code, "T140213QT9999"),  # another outfall's
        ("", "T140213GY9004"),
        (b.code, "=HYPERLINK(1)"),  # openpyxl writes it as a formula without a value: an empty cell
    ]
    with pytest.raises(national_codes.WriteBackError) as refused:
        national_codes.write_back(io.BytesIO(xlsx(rows)), filename="赋码.xlsx", user=bureau)
    text = "\n".join(refused.value.messages)
    assert "第 4 行：平台中没有编码为 NO-SUCH-CODE" in text
    assert f"第 5 行：排口 {b.code} 的国家统一编码为空" in text
    assert "第 6 行：国家统一编码 T140213GY9001 与第 3 行重复" in text
    assert f"第 7 行：排口 {a.code} 与第 3 行重复" in text
    assert f"第 8 行：国家统一编码 T140213QT9999 已被排口 {c.code} 使用" in text
    assert "第 9 行：入河排污口编码为空" in text
    assert f"第 10 行：排口 {b.code} 的国家统一编码为空" in text
    a.refresh_from_db()
    assert a.national_code == before  # row 3 was fine, but nothing is written


def test_a_dry_run_writes_nothing_and_a_file_without_the_columns_is_refused(demo_user):
    bureau = demo_user("bureau")
    (a,) = pingcheng(1)
    before = a.national_code
    result = national_codes.write_back(
        io.BytesIO(xlsx([(a.code, "T140213GY9001")])), filename="赋码.xlsx", user=bureau, dry_run=True
    )
    assert result.changed == [(3, a.code, before, "T140213GY9001")]
    a.refresh_from_db()
    assert a.national_code == before
    odd = f'入河排污口编码,国家统一编码\n{a.code},=HYPERLINK("http://x")\n'.encode("utf-8-sig")
    with pytest.raises(national_codes.WriteBackError, match="第 2 行：国家统一编码“=HYPERLINK"):
        national_codes.write_back(io.BytesIO(odd), filename="x.csv", user=bureau)
    csv = "排口,编号\nA,B\n".encode("utf-8-sig")
    with pytest.raises(national_codes.WriteBackError, match="没有找到表头"):
        national_codes.write_back(io.BytesIO(csv), filename="x.csv", user=bureau)
    with pytest.raises(national_codes.WriteBackError):
        national_codes.write_back(io.BytesIO(b"PK\x03\x04 not a workbook"), filename="x.xlsx", user=bureau)


def test_only_the_city_bureau_writes_back(demo_user, client_for):
    (a,) = pingcheng(1)
    with pytest.raises(PermissionDenied):
        national_codes.write_back(
            io.BytesIO(xlsx([(a.code, "T140213GY9001")])), filename="赋码.xlsx", user=demo_user("pingcheng")
        )
    assert client_for("pingcheng").get("/ledger/national-codes/").status_code == 403
    page = client_for("bureau").post(
        "/ledger/national-codes/",
        {
            "file": SimpleUploadedFile(
                "赋码.xlsx", xlsx([(a.code, "T140213GY9001"), ("NOPE", "T140213GY9002")])
            )
        },
    )
    assert page.status_code == 400 and "第 4 行：平台中没有编码为 NOPE" in page.content.decode()
    page = client_for("bureau").post(
        "/ledger/national-codes/",
        {"file": SimpleUploadedFile("赋码.xlsx", xlsx([(a.code, "T140213GY9001")]))},
    )
    assert page.status_code == 200 and "已回写 1 个排口" in page.content.decode()
    a.refresh_from_db()
    assert a.national_code == "T140213GY9001"


def test_the_command_prints_each_refused_row(tmp_path, demo_user):
    (a,) = pingcheng(1)
    good = tmp_path / "赋码.xlsx"
    good.write_bytes(xlsx([(a.code, "T140213GY9001")]))
    out = io.StringIO()
    call_command("national_codes", str(good), "--user", "bureau", "--dry-run", stdout=out)
    assert "将更新 1 个" in out.getvalue()
    bad = tmp_path / "错.xlsx"
    bad.write_bytes(xlsx([("NOPE", "T140213GY9001")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="未写入"):
        call_command("national_codes", str(bad), "--user", "bureau", stderr=err)
    assert "第 3 行" in err.getvalue()
    with pytest.raises(CommandError, match="市生态环境局"):
        call_command("national_codes", str(good), "--user", "pingcheng")
