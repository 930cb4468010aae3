"""The exchange with the province: the file holds the ledger, decisions, rectification and monitoring in the
structure the mapping file describes; it reads back into the same records (xlsx and JSON); the province's return
with national codes filled in writes them back; scope; the mapping is data; the page, the API and the command."""

import io
import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from outfalls.core.spreadsheets import SIGN_OFF_ITEMS
from outfalls.monitoring.models import SampleValue
from outfalls.permits.models import Decision
from outfalls.registry import national_codes, services
from outfalls.registry.models import Outfall
from outfalls.remediation.models import RectificationPlan
from outfalls.reports import exchange

pytestmark = pytest.mark.django_db
PINGCHENG = "140213"
LONG_AGO = exchange.Period(date(2000, 1, 1), date(2002, 12, 31))


def all_records(**kwargs):
    return {s.key: list(exchange.records(s, **kwargs)) for s in exchange.structure().sections}


@pytest.fixture(scope="module")
def shape():
    return exchange.structure()


def test_the_workbook_reads_back_into_the_same_records_and_says_what_is_unconfirmed(demo_user, shape):
    bureau = demo_user("bureau")
    period = exchange.Period.of(until=date.today())
    file = exchange.write_xlsx(io.BytesIO(), user=bureau, period=period)
    expected = all_records(user=bureau, period=period)
    assert all(expected[key] for key in ("outfall", "decision", "rectification", "monitoring"))
    file.seek(0)
    assert exchange.read_xlsx(file) == expected

    book = load_workbook(io.BytesIO(file.getvalue()))
    assert book.sheetnames == [s.name for s in shape.sections] + [exchange.DICTIONARY_SHEET]
    outfalls = book["排污口"]
    assert outfalls["A1"].value.startswith("大同市全市入河排污口交换数据·排污口（截至")
    assert [c.value for c in outfalls[2]][:3] == ["国家统一编码", "入河排污口编码", "入河排污口名称"]
    assert outfalls.max_row == 2 + len(expected["outfall"]) + 2  # title, header, rows, spacer, sign-off
    assert outfalls.print_title_rows == "$1:$2"
    dictionary = [[c.value for c in row] for row in book[exchange.DICTIONARY_SHEET].iter_rows(min_row=3)]
    missing = [row for row in dictionary if row[4] == "本平台暂无"]
    assert [
        "排污口",
        34,
        "design_capacity",
        "设计排污能力（吨/日）",
        "本平台暂无",
        "本平台台账未采集",
    ] in missing
    assert any(row[4] == "待核实" and row[2] == "town_code" for row in dictionary)


def test_the_records_carry_the_ledger_and_the_workflows_values(demo_user):
    bureau = demo_user("bureau")
    outfall = Outfall.objects.filter(responsible_entity__isnull=False).select_related("county").first()
    rows = {
        r["local_code"]: r for r in exchange.records(exchange.structure().section("outfall"), user=bureau)
    }
    row = rows[outfall.code]
    assert row["county_code"] == outfall.county.code and row["city_code"] == "140200"
    assert row["province_code"] == "140000"
    assert (
        row["longitude"] == outfall.lon
        and row["entity_credit_code"] == outfall.responsible_entity.credit_code
    )
    assert row["design_capacity"] is None  # marked missing: always empty

    plan = RectificationPlan.objects.filter(status="approved").select_related("outfall").first()
    plans = {r["local_code"]: r for r in exchange.records(exchange.structure().section("rectification"))}
    assert plans[plan.outfall.code]["stage"] == "完成整治"
    assert plans[plan.outfall.code]["closed_out_on"] is not None

    decision = Decision.objects.select_related("application").first()
    decisions = {
        r["application_number"]: r for r in exchange.records(exchange.structure().section("decision"))
    }
    assert decisions[decision.application.number]["decided_on"] == decision.decided_on

    # Monitoring covers the period asked for, no more.
    value = SampleValue.objects.filter(outfall__isnull=False).order_by("sampled_at").first()
    day = timezone.localtime(value.sampled_at).date()
    period = exchange.Period(day, day)
    section = exchange.structure().section("monitoring")
    inside = list(exchange.records(section, period=period))
    assert inside and all(r["sampled_at"].startswith(day.isoformat()) for r in inside)
    assert len(inside) == exchange.section_rows(section, period=period).count()
    assert not list(exchange.records(section, period=LONG_AGO))


def test_the_json_document_reads_back_too_and_refuses_what_it_does_not_know(demo_user):
    pingcheng = demo_user("pingcheng")
    period = exchange.Period.of(until=date.today())
    data = json.loads(exchange.write_json(io.BytesIO(), user=pingcheng, period=period).getvalue())
    assert data["monitoring_period"]["until"] == date.today().isoformat()
    assert exchange.read_json(json.dumps(data)) == all_records(user=pingcheng, period=period)

    data["sections"]["outfall"][0]["colour"] = "红"
    data["sections"]["rectification"][0]["deadline"] = "明年"
    del data["sections"]["monitoring"]
    with pytest.raises(exchange.ExchangeFileError) as refused:
        exchange.read_json(data)
    text = "\n".join(refused.value.messages)
    assert "“排污口”第 1 条有未知的数据元：colour" in text
    assert "“整治”第 1 条“整治期限”应为日期（YYYY-MM-DD），实为“明年”" in text
    assert "缺少部分“monitoring”（监测）" in text


def test_a_damaged_workbook_is_refused_naming_the_sheet_and_row(demo_user):
    file = exchange.write_xlsx(io.BytesIO(), user=demo_user("pingcheng"), period=LONG_AGO)
    book = load_workbook(io.BytesIO(file.getvalue()))
    book["整治"]["H4"] = "明年"  # 整治期限 of the second plan
    book["设置审批"].delete_cols(3)  # 入河排污口名称
    del book["监测"]
    damaged = io.BytesIO()
    book.save(damaged)
    with pytest.raises(exchange.ExchangeFileError) as refused:
        exchange.read_xlsx(damaged)
    text = "\n".join(refused.value.messages)
    assert "工作表“整治”第 4 行“整治期限”应为日期（YYYY-MM-DD），实为“明年”" in text
    assert "工作表“设置审批”第 2 行缺少列“入河排污口名称”" in text
    assert "缺少工作表“监测”" in text
    with pytest.raises(exchange.ExchangeFileError):
        exchange.read_xlsx(io.BytesIO(b"PK\x03\x04 not a workbook"))


def test_the_province_returns_the_workbook_with_national_codes_and_they_are_written_back(demo_user):
    bureau, pingcheng = demo_user("bureau"), demo_user("pingcheng")
    mine = Outfall.objects.filter(county__code=PINGCHENG)
    mine.update(national_code=None)
    file = exchange.write_xlsx(io.BytesIO(), user=pingcheng, period=LONG_AGO)
    book = load_workbook(io.BytesIO(file.getvalue()))
    sheet = book["排污口"]
    assigned = {}
    for number in range(3, sheet.max_row + 1):
        local = sheet.cell(number, 2).value
        if local and not str(sheet.cell(number, 1).value or "").startswith(SIGN_OFF_ITEMS[0]):
            assigned[local] = sheet.cell(number, 1).value = f"G{PINGCHENG}{number:05d}"
    returned = io.BytesIO()
    book.save(returned)

    result = national_codes.write_back(returned, filename="省平台返回.xlsx", user=bureau)
    assert len(result.changed) == len(assigned) == mine.count()
    assert dict(mine.values_list("code", "national_code")) == assigned
    again = {
        r["local_code"]: r for r in exchange.records(exchange.structure().section("outfall"), user=pingcheng)
    }
    assert {code: again[code]["national_code"] for code in assigned} == assigned
    assert {again[code]["in_national_platform"] for code in assigned} == {"是"}


def test_a_county_exports_only_its_own_county(demo_user, client_for):
    pingcheng = demo_user("pingcheng")
    period = exchange.Period.of(until=date.today())
    records = all_records(user=pingcheng, period=period)
    assert {r["county_code"] for r in records["outfall"]} == {PINGCHENG}
    assert len(records["outfall"]) == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert {r["county_code"] for r in records["rectification"]} <= {PINGCHENG}
    mine = set(Outfall.objects.filter(county__code=PINGCHENG).values_list("code", flat=True))
    assert {r["local_code"] for r in records["monitoring"]} <= mine
    assert {r["county_code"] for r in records["decision"]} <= {PINGCHENG}

    api = client_for("pingcheng")
    listed = api.get("/api/v1/exchange/outfall/", {"page_size": 500}).json()
    assert listed["count"] == len(records["outfall"])
    assert api.get("/api/v1/exchange/outfall/", {"county": "140215"}).status_code == 404
    page = api.get("/exchange/", {"county": "140215"})
    assert page.status_code == 400 and 'data-testid="error-county"' in page.content.decode()
    assert 'value="140215"' not in page.content.decode()  # 云州区 is not among 平城区's choices
    book = load_workbook(io.BytesIO(b"".join(api.get("/exchange/download/").streaming_content)))
    assert {row[7] for row in book["排污口"].iter_rows(min_row=3, values_only=True) if row[1]} == {PINGCHENG}


def test_the_api_gives_the_structure_and_each_sections_records(client_for, shape):
    api = client_for("bureau")
    structure = api.get("/api/v1/exchange/").json()
    assert [s["key"] for s in structure["sections"]] == [s.key for s in shape.sections]
    fields = {f["element"]: f for f in structure["sections"][0]["fields"]}
    assert fields["design_capacity"]["status"] == "missing" and fields["longitude"]["kind"] == "number"

    body = api.get("/api/v1/exchange/rectification/", {"page_size": 5}).json()
    assert body["count"] == RectificationPlan.objects.count() and len(body["results"]) == 5
    assert set(body["results"][0]) == {f.element for f in shape.section("rectification").fields}
    assert (
        api.get("/api/v1/exchange/monitoring/", {"since": "2001-01-01", "until": "2001-12-31"}).json()[
            "count"
        ]
        == 0
    )
    bad = api.get("/api/v1/exchange/monitoring/", {"since": "2025-02-01", "until": "2025-01-01"})
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.json()["detail"]
    assert api.get("/api/v1/exchange/nothing/").status_code == 404


def test_the_structure_is_data(tmp_path, demo_user):
    shipped = json.loads(exchange.DEFAULT_MAPPING.read_text(encoding="utf-8"))
    outfall = shipped["sections"][0]
    outfall["fields"] = [
        {"element": "PWKBM", "name": "排污口编码", "source": "code", "status": "confirmed", "note": ""},
        {
            "element": "GJBM",
            "name": "国家统一编码",
            "source": "national_code",
            "status": "unsure",
            "note": "",
        },
    ]
    shipped["sections"] = [outfall]
    path = tmp_path / "province.json"
    path.write_text(json.dumps(shipped, ensure_ascii=False), encoding="utf-8")
    with override_settings(EXCHANGE_MAPPING=str(path)):
        section = exchange.structure().section("outfall")
        assert [f.element for f in section.fields] == ["PWKBM", "GJBM"]
        row = next(exchange.records(section, user=demo_user("pingcheng")))
        first = Outfall.objects.filter(county__code=PINGCHENG).order_by("code").first()
        assert row == {"PWKBM": first.code, "GJBM": first.national_code or None}
        book = load_workbook(exchange.write_xlsx(io.BytesIO(), user=demo_user("pingcheng")))
        assert book.sheetnames == ["排污口", exchange.DICTIONARY_SHEET]

        outfall["fields"][1]["source"] = "colour"
        path.write_text(json.dumps(shipped, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(ImproperlyConfigured, match="“国家统一编码”：未知的 source“colour”"):
            exchange.structure()


def test_text_never_becomes_a_formula(demo_user):
    outfall = Outfall.objects.filter(county__code=PINGCHENG).order_by("code").first()
    outfall.name = '=HYPERLINK("http://x","点我")'
    outfall.name_auto = False
    services.save_outfall(outfall, user=demo_user("bureau"), reason="测试")
    file = exchange.write_xlsx(io.BytesIO(), user=demo_user("pingcheng"), period=LONG_AGO)
    sheet = load_workbook(io.BytesIO(file.getvalue()))["排污口"]
    cell = next(row[2] for row in sheet.iter_rows(min_row=3) if row[1].value == outfall.code)
    assert cell.data_type == "s" and cell.value == outfall.name
    file.seek(0)
    names = {r["local_code"]: r["name"] for r in exchange.read_xlsx(file)["outfall"]}
    assert names[outfall.code] == outfall.name


def test_the_page_and_the_command(client_for, tmp_path):
    page = client_for("bureau").get("/exchange/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="field-outfall-design_capacity"' in html
    assert f'data-testid="count-outfall">{Outfall.objects.count()}<' in html
    bad = client_for("bureau").get("/exchange/download/", {"since": "2025-02-01", "until": "2025-01-01"})
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
    assert 'value="2025-02-01"' in bad.content.decode()  # what was typed is kept
    long = client_for("bureau").get(
        "/exchange/download/", {"since": "2020-01-01", "until": str(date.today() + timedelta(days=1))}
    )
    assert long.status_code == 400 and "监测数据一次最多导出" in long.content.decode()
    download = client_for("bureau").get("/exchange/download/", {"format": "json", "county": PINGCHENG})
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    assert "filename*=UTF-8''" in download["Content-Disposition"]
    assert {r["county_code"] for r in json.loads(download.content)["sections"]["outfall"]} == {PINGCHENG}

    out = io.StringIO()
    call_command("exchange_export", "--county", PINGCHENG, "--out", str(tmp_path), stdout=out)
    written = list(tmp_path.glob("*.xlsx"))
    assert len(written) == 1 and "平城区" in written[0].name
    assert f"排污口：{Outfall.objects.filter(county__code=PINGCHENG).count()} 行" in out.getvalue()
    assert exchange.read_xlsx(written[0].open("rb"))["outfall"]
