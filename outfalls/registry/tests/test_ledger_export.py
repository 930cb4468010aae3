"""The attachment-1 export (信息汇总表) and the value vocabulary the import reads back.

Values: for every demo outfall, parsing the exported cells gives back the stored values; tables of messy,
hand-written inputs. Files: the xlsx layout (title, merged headers, frozen pane, 序号, formats), scope,
the ledger as of a past date, CSV, the command, and the Chinese errors.
"""

import csv
import io
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outfalls.core.choices import JurisdictionLevel
from outfalls.core.models import Jurisdiction, Membership
from outfalls.registry import ledger_export, services
from outfalls.registry.choices import (
    Conveyance,
    EntryMode,
    OutletPosition,
    RectificationStatus,
    UnitKind,
)
from outfalls.registry.classification import LEVEL2_CODE, LEVEL3_PARENT, TypeCode
from outfalls.registry.ledger_template import CODE_COLUMNS, COLUMNS
from outfalls.registry.ledger_values import (
    ALL_KEYS,
    PARSERS,
    cell_values,
    classification_text,
    parse_classification,
    parse_conveyance,
    parse_date,
    parse_entry_mode,
    parse_outlet,
    parse_rectification,
    parse_unit_kind,
    parse_yes_no,
)
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from .helpers import copy_as_new

pytestmark = pytest.mark.django_db

PINGCHENG = "140213"
POINT = re.compile(r"^\d{2,3}\.\d{6},\d{1,2}\.\d{6}$")
HEADERS = [c.header for c in COLUMNS + CODE_COLUMNS]
# The merged ranges the prescribed layout needs: title; 序号 and the five ungrouped columns over both
# header rows; the four groups of attachment 1 and the platform's code group over their columns.
EXPECTED_MERGES = {
    "A1:U1",
    "A2:A3",
    "B2:F2",
    "G2:J2",
    "L2:N2",
    "O2:O3",
    "P2:P3",
    "Q2:Q3",
    "R2:R3",
    "S2:S3",
    "T2:U2",
}


def city():
    return Jurisdiction.objects.get(level=JurisdictionLevel.CITY, parent=None).name


def content(response):
    return b"".join(response.streaming_content)


def open_xlsx(data):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def data_rows(ws):
    """The outfall rows: below the header, down to the sign-off line (the rows numbered in 序号)."""
    return [r for r in ws.iter_rows(min_row=4, values_only=True) if r and isinstance(r[0], int)]


def column(name):
    return HEADERS.index(name)


# Values: the round trip on the whole demo ledger ----------------------------------------------------------
def test_every_column_has_a_cell_value():
    outfall = Outfall.objects.for_list().first()
    assert set(cell_values(outfall)) == set(ALL_KEYS)


def test_parsing_the_exported_cells_gives_back_every_stored_value():
    outfalls = list(Outfall.objects.for_list())
    assert len(outfalls) > 300
    for o in outfalls:
        cells = cell_values(o)
        parsed = {key: parser(cells[key]) for key, parser in PARSERS.items()}
        assert all(error is None for _, error in parsed.values()), (o.code, parsed)
        value = {key: result for key, (result, _) in parsed.items()}
        assert (value["entry_mode"] or "") == o.entry_mode
        assert (value["outlet"] or ("", "")) == (o.outlet_position, o.outlet_description)
        assert (value["conveyance"] or "") == o.conveyance
        assert value["classification"] == (o.type_code, o.type_level2, o.type_level3), o.code
        assert value["rectification"] == o.rectification_status
        assert value["registered"] is o.registered
        assert value["approval_date"] == o.approval_date
        entity = o.responsible_entity
        assert value["unit_kind"] == (entity.kind if entity else None)
        assert cells["responsible_entity"] == (entity.name if entity else (o.responsibility_note or None))
        if entity and entity.lon is not None:
            lon, lat = map(float, cells["unit_location"].split(","))
            assert abs(lon - entity.lon) < 1e-6 and abs(lat - entity.lat) < 1e-6
        lon, lat = map(float, cells["location"].split(","))
        assert abs(lon - o.lon) < 1e-6 and abs(lat - o.lat) < 1e-6
        assert cells["water_body"] == o.water_body.name
        assert (cells["county"], cells["town"], cells["village"]) == (
            o.county.name,
            o.town.name if o.town else None,
            o.village.name if o.village else None,
        )
        assert (cells["name"], cells["section_interval"] or "") == (o.name, o.section_interval)
        assert (cells["permit_number"] or "", cells["code"], cells["national_code"]) == (
            o.permit_number,
            o.code,
            o.national_code,
        )


@pytest.mark.parametrize(
    "choices, parse",
    [
        (EntryMode, parse_entry_mode),
        (Conveyance, parse_conveyance),
        (RectificationStatus, parse_rectification),
        (UnitKind, parse_unit_kind),
    ],
)
def test_every_label_parses_to_its_value(choices, parse):
    for choice in choices:
        assert parse(choice.label) == (choice.value, None)
        assert parse(f" {choice.label}\u3000") == (choice.value, None)


def test_every_classification_round_trips():
    cases = [(code.value, "", "") for code in TypeCode]
    cases += [(code.value, l2.value, "") for l2, code in LEVEL2_CODE.items()]
    cases += [(LEVEL2_CODE[l2].value, l2.value, l3.value) for l3, l2 in LEVEL3_PARENT.items()]
    for case in cases:
        assert parse_classification(classification_text(*case)) == (case, None), case


def test_every_outlet_position_round_trips():
    for position in OutletPosition:
        for description in ("", "御河左岸，管道出口，DN400"):
            text = "，".join(p for p in (position.label, description) if p)
            assert parse_outlet(text) == ((position.value, description), None)


# Values: messy hand-written cells --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("工业排污口（GY）", ("GY", "", "")),
        ("工业排污口(GY)", ("GY", "", "")),
        ("GY", ("GY", "", "")),
        ("（gy）", ("GY", "", "")),
        ("ＳＨ", ("SH", "", "")),
        ("城镇污水处理厂排污口（SH）", ("SH", "", "")),
        ("城镇污水处理厂排污口", ("SH", "municipal_wwtp", "")),
        ("GY-工矿企业排污口", ("GY", "industrial_mining", "")),
        ("工矿企业排污口", ("GY", "industrial_mining", "")),
        ("工业企业排污口", ("GY", "industrial_mining", "industrial_enterprise")),
        ("工业企业", ("GY", "industrial_mining", "industrial_enterprise")),
        ("矿山", ("GY", "industrial_mining", "mine")),
        ("城镇雨洪排口", ("YH", "urban_storm", "")),
        ("城镇雨洪排污口", ("YH", "urban_storm", "")),
        ("农业排污口", ("NY", "", "")),
        ("其他排口", ("QT", "", "")),
        ("其它排污口", ("QT", "other", "")),
        ("农村生活污水散排口", ("QT", "rural_domestic_scattered", "")),
        ("暂无法确定", ("UNDETERMINED", "", "")),
        ("待定", ("UNDETERMINED", "", "")),
        ("不确定", ("UNDETERMINED", "", "")),
    ],
)
def test_classification_reads_labels_codes_and_undetermined(text, expected):
    assert parse_classification(text) == (expected, None)


@pytest.mark.parametrize(
    "text, fragment",
    [("工业排污口（SH）", "不一致"), ("GY/SH", "多个类型代码"), ("污水口", "无法识别的入河排污口分类")],
)
def test_classification_errors_say_why(text, fragment):
    value, error = parse_classification(text)
    assert value is None and fragment in error and text in error


@pytest.mark.parametrize(
    "cell, expected",
    [
        (date(2023, 5, 4), date(2023, 5, 4)),
        (datetime(2023, 5, 4, 10, 30), date(2023, 5, 4)),
        (45050, date(2023, 5, 4)),
        (45050.0, date(2023, 5, 4)),
        ("45050", date(2023, 5, 4)),
        ("2023-05-04", date(2023, 5, 4)),
        ("2023-5-4", date(2023, 5, 4)),
        ("2023/5/4", date(2023, 5, 4)),
        ("2023.5.4", date(2023, 5, 4)),
        ("2023年5月4日", date(2023, 5, 4)),
        ("２０２３年５月４日", date(2023, 5, 4)),
        ("2023 年 5 月 4 日", date(2023, 5, 4)),
        ("20230504", date(2023, 5, 4)),
        (20230504, date(2023, 5, 4)),
        ("2023-05-04 00:00:00", date(2023, 5, 4)),
        ("", None),
        (None, None),
    ],
)
def test_dates_in_their_usual_forms(cell, expected):
    assert parse_date(cell) == (expected, None)


@pytest.mark.parametrize(
    "cell", ["2023-02-30", "2023年5月", "五月四日", "2023", 2023, "4/5/23", True, "20231345"]
)
def test_bad_dates_are_errors_in_chinese(cell):
    value, error = parse_date(cell)
    assert value is None
    assert "日期" in error


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("是", True),
        ("否", False),
        ("已", True),
        ("未", False),
        ("已完成", True),
        ("未完成", False),
        ("√", True),
        ("×", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0.0, False),
        ("TRUE", True),
        ("false", False),
        (True, True),
        (False, False),
        (" 是 ", True),
        ("", None),
        (None, None),
    ],
)
def test_yes_no(cell, expected):
    assert parse_yes_no(cell) == (expected, None)


@pytest.mark.parametrize("cell", ["也许", "2", "是否"])
def test_yes_no_errors(cell):
    value, error = parse_yes_no(cell)
    assert value is None and "不是“是”或“否”" in error


@pytest.mark.parametrize(
    "parse, cell, expected",
    [
        (parse_entry_mode, "明渠排放", "open_channel"),
        (parse_entry_mode, " 管 道 ", "pipe"),
        (parse_entry_mode, "泵站提升", "pump_station"),
        (parse_entry_mode, "潜没式", "submerged"),
        (parse_entry_mode, "闸泵", "sluice_pump"),
        (parse_entry_mode, "其它", "other"),
        (parse_conveyance, "暗渠", "culvert"),
        (parse_conveyance, "暗渠(涵)", "culvert"),
        (parse_conveyance, "排水沟", "ditch"),
        (parse_conveyance, "直接排放", "direct"),
        (parse_conveyance, "管网", "pipe"),
        (parse_rectification, "整治中", "in_progress"),
        (parse_rectification, "正在整改", "in_progress"),
        (parse_rectification, "完成整治", "completed"),
        (parse_rectification, "已完成", "completed"),
        (parse_rectification, "尚未整治", "not_started"),
        (parse_rectification, "无需整改", "not_needed"),
        (parse_unit_kind, "政府部门(兜底)", "government"),
        (parse_unit_kind, "县区政府", "government"),
        (parse_unit_kind, "医院", "hospital"),
        (parse_unit_kind, "城镇污水厂", "municipal_wwtp"),
        (parse_unit_kind, "工业类", "industrial"),
    ],
)
def test_choice_synonyms(parse, cell, expected):
    assert parse(cell) == (expected, None)


@pytest.mark.parametrize(
    "parse, noun",
    [
        (parse_entry_mode, "入河方式"),
        (parse_conveyance, "引流方式"),
        (parse_rectification, "整治进展"),
        (parse_unit_kind, "排污单位类型"),
    ],
)
def test_unknown_choice_names_the_value_and_the_choices(parse, noun):
    value, error = parse("飞行")
    assert value is None
    assert f"无法识别的{noun}“飞行”" in error and "可填：" in error


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("左岸，御河左岸，管道出口", ("left_bank", "御河左岸，管道出口")),
        ("左岸,管道出口", ("left_bank", "管道出口")),
        ("右岸 明渠出口", ("right_bank", "明渠出口")),
        ("右侧：箱涵", ("right_bank", "箱涵")),
        ("河床(潜没)", ("river_bed", "")),
        ("河床（潜没），潜没式排口", ("river_bed", "潜没式排口")),
        ("管道出口，DN400", ("", "管道出口，DN400")),
        ("左岸护坡下", ("", "左岸护坡下")),
    ],
)
def test_outlet_position_and_description(cell, expected):
    assert parse_outlet(cell) == (expected, None)


@pytest.mark.parametrize("parse", list(PARSERS.values()))
def test_empty_cells_are_nothing_not_errors(parse):
    for cell in (None, "", "  ", "\u3000"):
        assert parse(cell) == (None, None)


# The xlsx -----------------------------------------------------------------------------------------------
def test_xlsx_has_the_prescribed_layout(client_for):
    client = client_for("bureau")
    params = {"county": PINGCHENG, "type_code": "GY"}
    response = client.get(reverse("registry:outfall_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == ledger_export.XLSX_CONTENT_TYPE
    today = timezone.localdate().strftime("%Y%m%d")
    # The Chinese name as filename*, and an ASCII stand-in for clients that do not read it (core/downloads.py).
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"download-{today}.xlsx\"; filename*=UTF-8''"
        + "%E5%85%A5%E6%B2%B3%E6%8E%92%E6%B1%A1%E5%8F%A3%E4%BF%A1%E6%81%AF%E6%B1%87%E6%80%BB%E8%A1%A8"
        + f"-%E5%B9%B3%E5%9F%8E%E5%8C%BA-{today}.xlsx"
    )  # 入河排污口信息汇总表-平城区-YYYYMMDD.xlsx
    ws = open_xlsx(content(response))

    assert ws["A1"].value == f"{city()}平城区入河排污口信息汇总表"
    assert ws["A1"].font.b and ws["A1"].alignment.horizontal == "center"
    rows = data_rows(ws)
    sign_off = 4 + len(rows) + 1  # after the rows and a blank one
    assert {str(r) for r in ws.merged_cells.ranges} == EXPECTED_MERGES | {f"A{sign_off}:U{sign_off}"}
    row2 = [c.value for c in ws[2]]
    row3 = [c.value for c in ws[3]]
    assert row2 == [
        "序号",
        "区位信息",
        None,
        None,
        None,
        None,
        "排污口信息",
        None,
        None,
        None,
        "引流设施",
        "排污单位信息",
        None,
        None,
        "入河排污口分类",
        "整治进展情况（已完成/正在整治）",
        "是否完成登记建档",
        "设置审批或排污许可批准时间",
        "排污许可证编号",
        "平台编码",
        None,
    ]
    # The header of each column, read as a person does: row 3 under a group, row 2 where merged down.
    assert [row3[i] or row2[i] for i in range(len(HEADERS))] == HEADERS
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["G"].width == COLUMNS[6].width
    assert ws["B3"].border.left.style == "thin" and ws["B3"].fill.fgColor.rgb.endswith("DDEBF7")
    # Printed as one table (the PDF itself is checked in outfalls/tests/test_print.py): A4 landscape, one
    # page wide, title and headers on every page, page numbers, each row as high as its wrapped text.
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$3"
    assert "第&P页 共&N页" in ws.oddFooter.center.text
    heights = [ws.row_dimensions[n].height for n in range(4, 4 + len(rows))]
    assert all(heights) and max(heights) > min(heights)  # rows with longer text are taller
    assert ws.row_dimensions[3].height and ws.row_dimensions[1].height
    line = ws.cell(row=sign_off, column=1).value
    for item in ("填报单位（盖章）：", "填表人：", "审核人：", "填报日期："):
        assert item in line

    expected = Outfall.objects.filter(county__code=PINGCHENG, type_code="GY")
    assert len(rows) == expected.count() > 0
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert sorted(r[column("入河排污口编码")] for r in rows) == sorted(
        expected.values_list("code", flat=True)
    )
    assert all(POINT.match(r[column("入河排污口地理坐标")]) for r in rows)
    assert all(r[column("县区")] == "平城区" for r in rows)

    dated = [i for i, r in enumerate(rows) if r[column("设置审批或排污许可批准时间")] is not None]
    assert dated
    cell = ws.cell(row=4 + dated[0], column=column("设置审批或排污许可批准时间") + 1)
    assert isinstance(cell.value, datetime)
    assert cell.number_format == "yyyy-mm-dd"
    code = rows[dated[0]][column("入河排污口编码")]
    assert cell.value.date() == Outfall.objects.get(code=code).approval_date


def test_xlsx_follows_the_filter_and_sort(client_for):
    client = client_for("bureau")
    ws = open_xlsx(content(client.get(reverse("registry:outfall_export"), {"ordering": "-name"})))
    names = [r[column("入河排污口名称")] for r in data_rows(ws)]
    assert names == list(Outfall.objects.order_by("-name").values_list("name", flat=True))
    assert ws["A1"].value == f"{city()}全市入河排污口信息汇总表"


def test_county_user_exports_their_county_only(client_for):
    client = client_for("pingcheng")
    ws = open_xlsx(content(client.get(reverse("registry:outfall_export"))))
    assert "平城区" in ws["A1"].value
    rows = data_rows(ws)
    assert {r[column("县区")] for r in rows} == {"平城区"}
    assert len(rows) == Outfall.objects.filter(county__code=PINGCHENG).count()
    # Asking for another county gives nothing (its code is not a choice the county user has).
    other = client.get(reverse("registry:outfall_export"), {"county": "140215"})
    assert data_rows(open_xlsx(content(other))) == []


def test_entity_export_is_titled_with_its_unit(client_for):
    unit = Membership.objects.get(user__username="enterprise").unit
    ws = open_xlsx(content(client_for("enterprise").get(reverse("registry:outfall_export"))))
    assert ws["A1"].value == f"{city()}{unit.name}入河排污口信息汇总表"
    assert {r[column("排污责任主体单位名称")] for r in data_rows(ws)} <= {unit.name}


@pytest.mark.parametrize("as_of", [None, "today"])
def test_export_reads_in_a_constant_number_of_queries(client_for, as_of):
    client = client_for("bureau")
    params = {"as_of": timezone.localdate().isoformat()} if as_of else {}
    counts = []
    # Two counties with different numbers of rows: the same queries (none per row).
    assert (
        Outfall.objects.filter(county__code=PINGCHENG).count()
        != Outfall.objects.filter(county__code="140215").count()
    )
    for extra in ({"county": PINGCHENG}, {"county": "140215"}):
        with CaptureQueriesContext(connection) as queries:
            rows = data_rows(
                open_xlsx(content(client.get(reverse("registry:outfall_export"), params | extra)))
            )
        assert rows
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12, counts


# As of a date ---------------------------------------------------------------------------------------------
def _history_from_days_ago(days):
    """Make the demo ledger's history (loaded today) read as if written `days` ago."""
    for model in (Outfall, DischargeUnit):
        model.history.update(history_date=F("history_date") - timedelta(days=days))


def test_as_of_export_shows_the_ledger_as_it_stood(client_for, demo_user):
    _history_from_days_ago(3)
    user = demo_user("bureau")
    outfall = Outfall.objects.filter(county__code=PINGCHENG, responsible_entity__isnull=False).first()
    old_interval, old_unit_name = outfall.section_interval, outfall.responsible_entity.name
    outfall.section_interval = "新区间（今天改）"
    services.save_outfall(outfall, user=user)
    unit = outfall.responsible_entity
    unit.name = "改名后的单位有限公司"
    services.save_unit(unit, user=user)
    newcomer = Outfall.objects.get(pk=outfall.pk)
    newcomer = copy_as_new(newcomer)
    services.save_outfall(newcomer, user=user, confirm_placement=True)

    yesterday = timezone.localdate() - timedelta(days=1)
    client = client_for("bureau")
    params = {"county": PINGCHENG, "as_of": yesterday.isoformat()}
    response = client.get(reverse("registry:outfall_export"), params)
    assert response.status_code == 200
    assert "%E6%88%AA%E8%87%B3" + yesterday.strftime("%Y%m%d") in response["Content-Disposition"]  # 截至
    ws = open_xlsx(content(response))
    assert ws["A1"].value == f"{city()}平城区入河排污口信息汇总表（截至{yesterday.isoformat()}）"
    by_code = {r[column("入河排污口编码")]: r for r in data_rows(ws)}
    assert by_code[outfall.code][column("断面区间")] == (old_interval or None)
    assert by_code[outfall.code][column("排污责任主体单位名称")] == old_unit_name
    assert newcomer.code not in by_code
    assert len(by_code) == Outfall.objects.filter(county__code=PINGCHENG).count() - 1

    live = {
        r[column("入河排污口编码")]: r
        for r in data_rows(
            open_xlsx(content(client.get(reverse("registry:outfall_export"), {"county": PINGCHENG})))
        )
    }
    assert live[outfall.code][column("断面区间")] == "新区间（今天改）"
    assert live[outfall.code][column("排污责任主体单位名称")] == "改名后的单位有限公司"
    assert newcomer.code in live

    # Before the ledger existed there was nothing to export.
    long_ago = client.get(reverse("registry:outfall_export"), {"as_of": "2000-01-01"})
    assert data_rows(open_xlsx(content(long_ago))) == []


def test_as_of_export_keeps_scope_and_the_search_filter(client_for, demo_user):
    _history_from_days_ago(2)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    ws = open_xlsx(
        content(client_for("yunzhou").get(reverse("registry:outfall_export"), {"as_of": yesterday}))
    )
    rows = data_rows(ws)
    assert {r[column("县区")] for r in rows} == {"云州区"}
    assert len(rows) == Outfall.objects.filter(county__code="140215").count()

    # An outfall found only through a linked unit that is not its responsible entity, edited today so
    # that its current version's history id differs from its id (the search must match on the id).
    link = OutfallUnitLink.objects.exclude(unit_id=F("outfall__responsible_entity_id")).first()
    linked, term = link.outfall, link.unit.name
    linked.section_interval = "今天核实"
    services.save_outfall(linked, user=demo_user("bureau"))
    assert linked.history.first().history_id != linked.id
    today = timezone.localdate().isoformat()
    for params in ({"q": term}, {"q": term, "as_of": today, "ordering": "-updated_at"}):
        ws = open_xlsx(content(client_for("bureau").get(reverse("registry:outfall_export"), params)))
        assert linked.code in {r[column("入河排污口编码")] for r in data_rows(ws)}, params


def test_bad_as_of_on_the_web_says_so_in_chinese(client_for):
    client = client_for("bureau")
    url = reverse("registry:outfall_export")
    response = client.get(url, {"as_of": "2023-99-99", "county": PINGCHENG})
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:outfall_list") + f"?county={PINGCHENG}"
    page = client.get(url, {"as_of": "去年"}, follow=True)
    assert "截至日期“去年”无法识别" in page.content.decode()
    assert "不支持的导出格式" in client.get(url, {"format": "pdf"}, follow=True).content.decode()


# CSV ------------------------------------------------------------------------------------------------------
def test_csv_has_a_bom_and_one_header_row(client_for):
    response = client_for("pingcheng").get(reverse("registry:outfall_export"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith(".csv")
    data = content(response)
    assert data.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    assert header == HEADERS
    assert len(rows) == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    dates = [r[column("设置审批或排污许可批准时间")] for r in rows if r[column("设置审批或排污许可批准时间")]]
    assert dates and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)


# The ledger page --------------------------------------------------------------------------------------------
def test_ledger_page_offers_the_exports_with_the_current_filter(client_for):
    html = client_for("bureau").get(reverse("registry:outfall_list"), {"county": PINGCHENG, "page": 2})
    html = html.content.decode()
    assert "导出 Excel（附件1格式）" in html and "导出 CSV" in html and "截至日期" in html
    assert f'<input type="hidden" name="county" value="{PINGCHENG}">' in html
    assert 'type="hidden" name="page"' not in html


# The command ------------------------------------------------------------------------------------------------
def test_command_writes_the_table(tmp_path):
    out = tmp_path / "ledger.xlsx"
    stdout = io.StringIO()
    call_command("ledger_export", str(out), "--county", PINGCHENG, stdout=stdout)
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == f"{city()}平城区入河排污口信息汇总表"
    assert len(data_rows(ws)) == Outfall.objects.filter(county__code=PINGCHENG).count()
    assert "已导出" in stdout.getvalue()

    everything = tmp_path / "all.csv"
    call_command("ledger_export", str(everything), "--no-codes", stdout=io.StringIO())
    header, *rows = csv.reader(io.StringIO(everything.read_text("utf-8-sig")))
    assert header == [c.header for c in COLUMNS]
    assert len(rows) == Outfall.objects.count()


def test_command_as_of_and_user(tmp_path):
    _history_from_days_ago(2)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    out = tmp_path / "asof.xlsx"
    call_command("ledger_export", str(out), "--as-of", yesterday, "--user", "yunzhou", stdout=io.StringIO())
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == f"{city()}云州区入河排污口信息汇总表（截至{yesterday}）"
    assert {r[column("县区")] for r in data_rows(ws)} == {"云州区"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as-of", "2023-13-45"], "截至日期“2023-13-45”无法识别"),
        (["--county", "999999"], "unknown county code 999999"),
        (["--user", "nobody"], "未找到用户“nobody”"),
        (["--user", "pingcheng", "--county", "140215"], "不在用户“pingcheng”的查看范围内"),
    ],
)
def test_command_errors_are_clear(tmp_path, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("ledger_export", str(tmp_path / "x.xlsx"), *args)
    assert not (tmp_path / "x.xlsx").exists()


def test_command_refuses_other_file_types(tmp_path):
    with pytest.raises(CommandError, match=r"\.xlsx 或 \.csv"):
        call_command("ledger_export", str(tmp_path / "x.pdf"))


# Writing ready rows (as benchmarks and import tests do) -----------------------------------------------------------
def test_write_xlsx_and_csv_take_cell_dicts():
    rows = [{"name": "甲", "approval_date": date(2023, 5, 4)}, {"name": "乙"}]
    target = io.BytesIO()
    assert ledger_export.write_xlsx(rows, target, title_subject="测试县", city="某市") == 2
    ws = open_xlsx(target.getvalue())
    assert ws["A1"].value == "某市测试县入河排污口信息汇总表"
    assert [r[:1] + r[6:7] for r in data_rows(ws)] == [(1, "甲"), (2, "乙")]
    text = io.StringIO()
    assert ledger_export.write_csv(rows, text, with_codes=False) == 2
    assert text.getvalue().splitlines()[1].split(",")[column("设置审批或排污许可批准时间")] == "2023-05-04"


def test_department_title_reads_naturally(demo_user):
    assert ledger_export.export_title("市城市管理局", city="大同市") == "大同市城市管理局入河排污口信息汇总表"
    assert ledger_export.export_subject(demo_user("chengguan")) == "市城市管理局"
    assert ledger_export.export_subject(demo_user("bureau")) == "全市"
    assert ledger_export.export_subject(None, Jurisdiction.objects.get(code=PINGCHENG)) == "平城区"
