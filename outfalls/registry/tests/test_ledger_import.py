"""The ledger import: messy files in, row-level verdicts, scope, duplicates, atomic commit, round trip."""

import datetime
import gzip

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from outfalls.core.models import Jurisdiction
from outfalls.geo import coords
from outfalls.registry import ledger_export, ledger_import, ledger_verdicts, services
from outfalls.registry.models import DischargeUnit, LedgerImport, Outfall

from . import ledger_files

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True, params=["whole ledger", "as the file needs"])
def ledger_read(request, monkeypatch):
    """Every test here runs twice: with the import reading the whole ledger at once (a city's), and reading
    only what the file needs (a province's, ledger_rows.LOAD_WHOLE_LEDGER_UP_TO): the same verdicts."""
    from outfalls.registry import ledger_rows

    if request.param == "as the file needs":
        monkeypatch.setattr(ledger_rows, "LOAD_WHOLE_LEDGER_UP_TO", 0)
    return request.param


def place(county_code):
    county = Jurisdiction.objects.get(code=county_code)
    town = Jurisdiction.objects.filter(level="town", county=county).order_by("code").first()
    village = Jurisdiction.objects.filter(level="village", parent=town).order_by("code").first()
    return county, town, village


def new_row(n, county_code="140213", *, lon=None, lat=None, **extra):
    county, town, village = place(county_code)
    anchor = Outfall.objects.filter(county=county).order_by("id").first()
    lon = lon if lon is not None else anchor.lon + 0.004 * n
    lat = lat if lat is not None else anchor.lat + 0.003
    row = {
        "seq": n,
        "water_body": "御河",
        "section_interval": "孤山—艾庄",
        "county": county.name.removesuffix("区"),  # 平城 for 平城区: a missing suffix is tolerated
        "town": town.name,
        "village": village.name,
        "name": f"导入测试{n}号城镇雨洪排口",
        "location": f"E{coords.format_dms(lon, 'lon')[:-1]} N{coords.format_dms(lat, 'lat')[:-1]}",
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "entry_mode": "管道",
        "outlet": "左岸，雨水管出口",
        "conveyance": "管道",
        "responsible_entity": f"导入测试单位{n}",
        "unit_location": f"{lon + 0.001:.6f},{lat:.6f}",
        "unit_kind": "机关事业单位",
        "classification": "城镇雨洪排口",
        "rectification": "正在整治",
        "registered": "否",
        "approval_date": datetime.date(2023, 5, 4),
        "permit_number": "",
    }
    row.update(extra)
    return row


def make_record(user, path, crs="cgcs2000"):
    path = getattr(path, "path", path)  # ledger_files builders return a LedgerFile
    record = LedgerImport(created_by=user, filename=path.name, crs=crs)
    record.file.save(path.name, ContentFile(path.read_bytes()), save=False)
    record.save()
    return record


def judge(record, user):
    """Every row's verdict for the record's file, held (run_preview streams them to the report and keeps only
    the rows a person must read)."""
    with record.file.open("rb") as handle:
        return ledger_import.interpret(handle, filename=record.filename, user=user, crs=record.crs)


def test_export_then_import_reports_zero_changes(tmp_path, demo_user):
    for username in ("pingcheng", "bureau"):
        user = demo_user(username)
        path = tmp_path / f"{username}.xlsx"
        ledger_export.write_xlsx(Outfall.objects.visible_to(user), path, title_subject="测试")
        preview = ledger_import.run_preview(make_record(user, path))
        assert preview.counts["unchanged"] == Outfall.objects.visible_to(user).count()
        assert preview.counts["rows"] == preview.counts["unchanged"], [
            r.as_json() for r in preview.results if r.action != "unchanged"
        ][:3]


def test_messy_file_with_typos_blank_rows_and_gcj02_commits(tmp_path, demo_user):
    user = demo_user("pingcheng")
    rows = [new_row(1)]
    path = ledger_files.messy_xlsx(tmp_path, rows)
    record = make_record(user, path, crs="gcj02")
    preview = ledger_import.run_preview(record)
    assert preview.counts["new"] == 1, [r.as_json() for r in preview.results]
    ledger_import.commit(record, user)
    record.refresh_from_db()
    assert record.status == "committed" and len(record.created_ids) == 1
    outfall = Outfall.objects.get(pk=record.created_ids[0])
    # GCJ-02 in the file, CGCS2000 in the ledger.
    lon, lat = coords.parse_point(rows[0]["location"])
    expected = coords.gcj02_to_wgs84(lon, lat)
    assert abs(outfall.lon - expected[0]) < 1e-6 and abs(outfall.lat - expected[1]) < 1e-6
    assert outfall.county.code == "140213" and outfall.name == "导入测试1号城镇雨洪排口"
    assert (
        outfall.type_code == "YH" and outfall.entry_mode == "pipe" and outfall.outlet_position == "left_bank"
    )
    assert outfall.responsible_entity.name == "导入测试单位1"
    assert outfall.code.startswith(f"{outfall.water_body.code}-140213-YH-")
    latest = outfall.history.first()
    assert latest.history_user == user and f"台账导入 #{record.pk}" in latest.history_change_reason


@pytest.mark.parametrize(
    "builder",
    [
        ledger_files.gbk_csv,
        ledger_files.utf8_bom_csv,
        ledger_files.split_coordinates_xlsx,
        ledger_files.single_header_xlsx,
    ],
)
def test_other_layouts_read_the_same(tmp_path, demo_user, builder):
    user = demo_user("bureau")
    path = builder(tmp_path, [new_row(3)])
    preview = ledger_import.run_preview(make_record(user, path))
    assert preview.counts["new"] == 1, [r.as_json() for r in preview.results]


def test_bad_rows_name_row_and_column_and_nothing_is_written(tmp_path, demo_user):
    user = demo_user("bureau")
    rows = [
        new_row(1),
        new_row(2, permit_number="91130200699229617Y001P"),
        new_row(3, county="火星区"),
        new_row(4, location="40.09, 113.31"),
        new_row(5, approval_date="2023年13月1日"),
        new_row(6, classification="奇怪的排口"),
    ]
    path = ledger_files.messy_xlsx(tmp_path, rows)
    record = make_record(user, path)
    before = (Outfall.objects.count(), DischargeUnit.objects.count())
    preview = ledger_import.run_preview(record)
    messages = {r.number: " ".join(r.messages) for r in preview.errors}
    assert len(messages) == 5
    text = " ".join(messages.values())
    assert "统一社会信用代码" in text and "排污许可证编号" in text
    assert "找不到县区“火星区”" in text
    assert "疑似填反" in text
    assert "日期" in text
    assert "分类" in text
    assert all(m.startswith("第 ") and "列（" in m for r in preview.errors for m in r.messages)
    with pytest.raises(ledger_import.LedgerImportError, match="有 5 行错误"):
        ledger_import.commit(record, user)
    assert (Outfall.objects.count(), DischargeUnit.objects.count()) == before


def test_county_user_cannot_import_another_countys_rows(tmp_path, demo_user):
    user = demo_user("pingcheng")
    path = ledger_files.messy_xlsx(
        tmp_path, [new_row(1), new_row(2, county_code="140215", water_body="桑干河")]
    )
    preview = ledger_import.run_preview(make_record(user, path))
    (bad,) = preview.errors
    assert "云州区不在您的管辖范围（平城区）内" in bad.messages[0]


def test_roles_without_import_rights_are_refused(tmp_path, demo_user):
    path = ledger_files.messy_xlsx(tmp_path, [new_row(1)])
    for username in ("auditor", "chengguan", "river_chief"):
        with pytest.raises(Exception, match="不能导入台账"):
            ledger_import.run_preview(make_record(demo_user(username), path))


def test_possible_duplicate_waits_for_a_decision(tmp_path, demo_user):
    user = demo_user("bureau")
    existing = Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id").first()
    near = new_row(1, lon=existing.lon + 0.0001, lat=existing.lat, name="另一个名字的雨洪排口")
    path = ledger_files.messy_xlsx(tmp_path, [near])
    record = make_record(user, path)
    preview = ledger_import.run_preview(record)
    (dup,) = preview.duplicates
    assert dup.candidates[0][1].id == existing.id and dup.candidates[0][0] < 30
    with pytest.raises(ledger_import.LedgerImportError, match="疑似重复"):
        ledger_import.commit(record, user)
    ledger_import.commit(record, user, {dup.number: "update"})
    existing.refresh_from_db()
    assert existing.name == "另一个名字的雨洪排口" and existing.name_auto is False


def test_update_by_code_changes_only_what_differs(tmp_path, demo_user):
    user = demo_user("pingcheng")
    path = tmp_path / "pc.xlsx"
    ledger_export.write_xlsx(Outfall.objects.visible_to(user), path, title_subject="平城区")

    book = load_workbook(path)
    sheet = book.active
    headers = [c.value for c in sheet[3]]
    row = 4
    code = sheet.cell(row, headers.index("入河排污口编码") + 1).value
    sheet.cell(row, headers.index("断面区间") + 1).value = "导入后的区间"
    book.save(path)
    record = make_record(user, path)
    preview = ledger_import.run_preview(record)
    assert preview.counts["update"] == 1
    (changed,) = record.report("update")
    assert changed["changes"] == [["断面区间", changed["changes"][0][1], "导入后的区间"]]
    ledger_import.commit(record, user)
    outfall = Outfall.objects.get(code=code)
    assert outfall.section_interval == "导入后的区间"
    assert f"台账导入 #{record.pk}" in outfall.history.first().history_change_reason


def test_fault_in_the_middle_of_commit_leaves_nothing(tmp_path, demo_user, monkeypatch):
    user = demo_user("bureau")
    path = ledger_files.messy_xlsx(tmp_path, [new_row(n) for n in range(1, 6)])
    record = make_record(user, path)
    ledger_import.run_preview(record)
    before = (Outfall.objects.count(), DischargeUnit.objects.count(), Outfall.history.count())

    def boom(*args, **kwargs):
        raise RuntimeError("injected fault")

    # The last step of the write (the spatial checks, after every insert and update) fails.
    monkeypatch.setattr(services.checks, "check_outfalls", boom)
    with pytest.raises(RuntimeError):
        ledger_import.commit(record, user)
    assert (Outfall.objects.count(), DischargeUnit.objects.count(), Outfall.history.count()) == before


def test_command_dry_run_and_errors(tmp_path, demo_user, capsys):
    good = ledger_files.messy_xlsx(tmp_path, [new_row(1)], name="good.xlsx").path
    call_command("ledger_import", str(good), "--dry-run", "--user", "pingcheng")
    assert "新增 1" in capsys.readouterr().out
    assert not Outfall.objects.filter(name="导入测试1号城镇雨洪排口").exists()
    bad = ledger_files.messy_xlsx(tmp_path, [new_row(1), new_row(2, county="火星区")], name="bad.xlsx").path
    with pytest.raises(CommandError):
        call_command("ledger_import", str(bad), "--user", "pingcheng")
    out = capsys.readouterr().out
    assert "找不到县区“火星区”" in out and out.count("\n第 ") + out.startswith("第 ") >= 1
    call_command("ledger_import", str(good), "--user", "pingcheng", "--crs", "cgcs2000")
    assert Outfall.objects.filter(name="导入测试1号城镇雨洪排口").exists()


def test_the_dry_run_holds_only_the_first_rows_that_stop_the_commit(tmp_path, demo_user, capsys, monkeypatch):
    """run_preview keeps IN_HAND errors and duplicates (not every row with a note: most rows of a real file
    have one); the stored report has every row, and the command prints every message and note from it."""
    monkeypatch.setattr(ledger_import, "IN_HAND", 2)
    rows = [new_row(1), *(new_row(n, county="火星区") for n in range(2, 6))]
    path = ledger_files.messy_xlsx(tmp_path, rows).path
    first = make_record(demo_user("pingcheng"), path)
    preview = ledger_import.run_preview(first)
    errors = [row["row"] for row in first.report("error")]
    assert preview.counts["error"] == len(errors) == 4 and [r.number for r in preview.results] == errors[:2]
    with pytest.raises(CommandError, match="有 4 行错误"):
        call_command("ledger_import", str(path), "--dry-run", "--user", "pingcheng")
    out = capsys.readouterr().out
    record = LedgerImport.objects.latest("pk")
    notes = [note for row in record.report() for note in row["notes"]]
    assert notes and out.count("提示：") == len(notes)
    assert out.count("找不到县区“火星区”") == 4


def test_web_upload_preview_and_confirm(tmp_path, client_for):
    client = client_for("pingcheng")
    path = ledger_files.messy_xlsx(tmp_path, [new_row(1), new_row(2)]).path
    with path.open("rb") as handle:
        response = client.post(reverse("registry:import_list"), {"file": handle, "crs": "cgcs2000"})
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert "新增 2" in detail.content.decode()
    record = LedgerImport.objects.latest("id")
    response = client.post(reverse("registry:import_commit", args=[record.pk]), follow=True)
    assert "已导入：新增 2 个排口" in response.content.decode()
    assert client_for("yunzhou").get(reverse("registry:import_detail", args=[record.pk])).status_code == 404
    bad = client.post(
        reverse("registry:import_list"), {"file": ContentFile(b"x", name="a.xls"), "crs": "cgcs2000"}
    )
    assert "不支持的文件类型" in bad.content.decode()


def test_web_confirm_needs_a_decision_for_each_duplicate(tmp_path, client_for):
    client = client_for("bureau")
    existing = Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id").first()
    near = new_row(1, lon=existing.lon + 0.0001, lat=existing.lat, name="网页上的疑似重复排口")
    path = ledger_files.messy_xlsx(tmp_path, [near]).path
    with path.open("rb") as handle:
        client.post(reverse("registry:import_list"), {"file": handle, "crs": "cgcs2000"})
    record = LedgerImport.objects.latest("id")
    (row,) = [r["row"] for r in record.report("duplicate")]
    page = client.post(reverse("registry:import_commit", args=[record.pk]), follow=True).content.decode()
    assert f"第 {row} 行是疑似重复排口" in page
    assert not Outfall.objects.filter(name="网页上的疑似重复排口").exists()
    client.post(reverse("registry:import_commit", args=[record.pk]), {f"decision-{row}": "new"})
    assert Outfall.objects.filter(name="网页上的疑似重复排口").exists()


def test_only_the_uploader_confirms_and_only_once(tmp_path, client_for, demo_user):
    path = ledger_files.messy_xlsx(tmp_path, [new_row(1)]).path
    record = make_record(demo_user("pingcheng"), path)
    ledger_import.run_preview(record)
    # bureau sees every import but may not confirm pingcheng's for them.
    bureau = client_for("bureau")
    assert bureau.get(reverse("registry:import_detail", args=[record.pk])).status_code == 200
    assert bureau.post(reverse("registry:import_commit", args=[record.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        ledger_import.start_commit(record, demo_user("bureau"))
    record.refresh_from_db()
    assert record.status == LedgerImport.Status.PREVIEWED
    assert not Outfall.objects.filter(name="导入测试1号城镇雨洪排口").exists()
    owner = client_for("pingcheng")
    owner.post(reverse("registry:import_commit", args=[record.pk]))
    assert Outfall.objects.filter(name="导入测试1号城镇雨洪排口").count() == 1
    again = owner.post(reverse("registry:import_commit", args=[record.pk]), follow=True).content.decode()
    assert "该导入当前状态为“已导入”，不能确认。" in again
    assert Outfall.objects.filter(name="导入测试1号城镇雨洪排口").count() == 1


def test_county_import_neither_shows_nor_updates_another_countys_outfall(tmp_path, demo_user):
    """A row just across the border from a 云州区 outfall: 平城区's officer is not shown it as a possible
    duplicate (its code and name are out of scope, and "update" would move it into 平城区); the bureau is."""
    other = Outfall.objects.filter(county__code="140215", type_code="YH").order_by("id").first()
    row = new_row(1, "140213", lon=other.lon + 0.0001, lat=other.lat, name="县界旁的新排口")
    path = ledger_files.messy_xlsx(tmp_path, [row]).path
    record = make_record(demo_user("pingcheng"), path)
    ledger_import.run_preview(record)
    (result,) = record.report()
    assert result["action"] == "new" and result["candidates"] == []
    record = make_record(demo_user("bureau"), path)
    ledger_import.run_preview(record)
    (result,) = record.report()
    assert result["action"] == "duplicate"
    assert other.code in [c["code"] for c in result["candidates"] if "code" in c]


@pytest.mark.parametrize(
    "username, status",
    [("city_admin", 200), ("bureau", 200), ("pingcheng", 200), ("chengguan", 403), ("enterprise", 403)],
)
def test_who_may_open_the_import_page(client_for, username, status):
    assert client_for(username).get(reverse("registry:import_list")).status_code == status


def test_a_national_code_the_database_would_refuse_is_caught_in_the_preview(tmp_path, demo_user):
    """Two rows with one national code, or a row with another outfall's: row errors naming the column,
    never a database error at the commit."""
    user = demo_user("pingcheng")
    taken = Outfall.objects.filter(county__code="140213").exclude(national_code=None).first()
    rows = [
        new_row(1, national_code="140213QT9001"),
        new_row(2, national_code="140213QT9001"),
        new_row(3, national_code=taken.national_code),
    ]
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, rows, code_columns=True))
    ledger_import.run_preview(record)
    report = list(record.report())
    by_row = {r["row"]: " ".join(r["messages"]) for r in report}
    numbers = sorted(by_row)
    assert by_row[numbers[0]] == ""
    assert f"与第 {numbers[0]} 行重复" in by_row[numbers[1]] and "国家统一编码" in by_row[numbers[1]]
    # matched by its national code, the third row would update that outfall: not a duplicate but a match
    third = report[2]
    assert third["match"] is not None and third["match"]["id"] == taken.pk


def test_a_prefix_without_sequence_numbers_left_is_a_row_error_in_the_preview(tmp_path, demo_user, settings):
    """The rows after the last free local-code number of their prefix (water body, division, type) are errors
    in the preview naming the column and the prefix; the rows before it are not."""
    settings.OUTFALL_CODE_SEQ_WIDTH = 2  # 99 numbers a prefix, so that the test can use them up
    user = demo_user("pingcheng")
    rows = [new_row(n) for n in (1, 2, 3)]
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, rows))
    first = judge(record, user).results[0]
    assert first.action == "new"
    prefix = ledger_import._new_outfall(first, None).code_prefix()
    holder = Outfall.objects.filter(county__code="140213").order_by("id").first()
    Outfall.objects.filter(pk=holder.pk).update(code=prefix + "98")  # one number left: 99
    preview = ledger_import.run_preview(record)
    messages = [" ".join(r["messages"]) for r in record.report()]
    assert messages[0] == "", messages
    for text in messages[1:]:
        assert "顺序号已用完" in text and f"“{prefix}”" in text and "编码" in text, text
    assert preview.counts["error"] == 2


def test_a_county_row_with_another_county_s_national_code_names_nothing_of_it(tmp_path, demo_user):
    other = Outfall.objects.filter(county__code="140215").exclude(national_code=None).first()
    record = make_record(
        demo_user("pingcheng"),
        ledger_files.messy_xlsx(tmp_path, [new_row(1, national_code=other.national_code)], code_columns=True),
    )
    preview = ledger_import.run_preview(record)
    (result,) = preview.results
    text = " ".join(result.messages) + str(result.as_json())
    assert result.action == "error" and "其他辖区" in text
    assert other.code not in text and other.name not in text


def test_the_commit_reports_its_progress_as_it_writes(tmp_path, demo_user):
    user = demo_user("bureau")
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, [new_row(n) for n in range(1, 4)]))
    ledger_import.run_preview(record)
    ledger_import.start_commit(record, user)
    calls = []
    ledger_import.commit(record, user, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (3, 3)


# The dry run's verdicts, kept for the commit (ledger_verdicts) -------------------------------------------
def _judged(results):
    """What a commit acts on, per row: verdict, values (relations by key), unit, match, candidates, changes."""
    return [
        (
            r.number,
            r.action,
            r.name,
            {k: getattr(v, "pk", v) for k, v in r.values.items()},
            r.unit,
            r.match,
            [(round(d, 6), getattr(c, "id", c)) for d, c in r.candidates],
            [tuple(c) for c in r.changes],
            r.reported,
            r.notes,
        )
        for r in results
    ]


def test_the_commit_acts_on_the_dry_runs_verdicts_without_judging_the_file_again(
    tmp_path, demo_user, monkeypatch
):
    user = demo_user("bureau")
    existing = Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id").first()
    other = (
        Outfall.objects.filter(county__code="140213", type_code="YH", rectification_measure="")
        .exclude(pk=existing.pk)
        .order_by("id")
        .first()
    )
    rows = [
        new_row(1),
        new_row(2, approval_date=datetime.date(2021, 3, 9), registered="是"),
        new_row(3, lon=existing.lon + 0.0001, lat=existing.lat, name="核对用的另一个雨洪排口"),
        {**new_row(4), "code": other.code, "name": other.name, "section_interval": "核对区间"},
    ]
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, rows))
    preview = ledger_import.run_preview(record)
    record.refresh_from_db()
    assert [r["action"] for r in record.report()] == ["new", "new", "duplicate", "update"], [
        m for r in record.report() for m in r["messages"]
    ]
    assert record.verdicts and record.verdicts_key
    loaded = ledger_verdicts.load(record, user)
    first_pass, second_pass = _judged(loaded.results), _judged(loaded.results)  # the file read again
    assert first_pass == second_pass == _judged(judge(record, user).results) and len(first_pass) == 4
    assert loaded.counts == preview.counts

    def judged_again(*args, **kwargs):
        raise AssertionError("the commit judged the file again")

    monkeypatch.setattr(ledger_import, "interpret", judged_again)
    ledger_import.commit(record, user, {preview.duplicates[0].number: "update"})
    record.refresh_from_db()
    assert record.status == "committed" and len(record.created_ids) == 2
    created = Outfall.objects.filter(pk__in=record.created_ids).order_by("pk")
    assert [o.approval_date for o in created] == [datetime.date(2023, 5, 4), datetime.date(2021, 3, 9)]
    # The units named in the file: created with one history row each, and owners of their outfalls.
    units = DischargeUnit.objects.filter(pk__in=record.created_unit_ids).order_by("pk")
    assert [u.name for u in units] == [f"导入测试单位{n}" for n in (1, 2, 3, 4)]
    for unit in units:
        (history,) = unit.history.all()
        assert f"台账导入 #{record.pk}" in history.history_change_reason and history.name == unit.name
        assert history.history_user_id == user.pk and history.history_type == "+"
    assert [o.responsible_entity.name for o in created] == ["导入测试单位1", "导入测试单位2"]
    assert [list(o.unit_links.values_list("unit__name", "role")) for o in created] == [
        [("导入测试单位1", "owner")],
        [("导入测试单位2", "owner")],
    ]
    existing.refresh_from_db()
    other.refresh_from_db()
    assert existing.name == "核对用的另一个雨洪排口" and other.section_interval == "核对区间"
    # The report names the outfall each row wrote, as it is now.
    report = list(record.report())
    assert [r["action"] for r in report] == ["new", "new", "update", "update"]
    written = [*created, existing, other]
    assert [r["outfall"] for r in report] == [{"id": o.pk, "code": o.code, "name": o.name} for o in written]


def test_judging_a_batch_at_a_time_gives_the_verdicts_of_judging_the_file_at_once(
    tmp_path, demo_user, monkeypatch
):
    """The rows are judged BATCH at a time and let go; every check that reaches across rows (a name, code,
    national code or point on an earlier row) must find the earlier row in an earlier batch as well."""
    user = demo_user("bureau")  # (the approval columns are the bureau's: no note on every row)

    def plain(n, **extra):  # no 整治进展 cell: no note on every row
        return new_row(n, rectification=None, **extra)

    existing = Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id").first()
    rows = [
        plain(1, national_code="140213YH9001"),
        plain(2),
        plain(3, name="导入测试1号城镇雨洪排口"),  # the first row's name again
        plain(4, national_code="140213YH9001"),  # the first row's national code again
        plain(5, lon=plain(2)["lon"] + 0.0001, lat=plain(2)["lat"]),  # 8 m from the second row
        {**plain(6), "code": existing.code, "name": existing.name, "section_interval": "分批区间"},
        plain(7),
    ]
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, rows, code_columns=True))

    def verdicts():
        results = judge(record, user).results
        return [(*row, r.messages) for row, r in zip(_judged(results), results, strict=True)]

    at_once = verdicts()
    monkeypatch.setattr(ledger_import, "BATCH", 2)
    assert verdicts() == at_once
    actions = [row[1] for row in at_once]
    assert actions == ["new", "new", "error", "error", "duplicate", "update", "new"], at_once
    assert "与第" in " ".join(at_once[2][-1]) and "国家统一编码" in " ".join(at_once[3][-1])
    # The dry run streams them: every row in the report, only those a person must read in hand.
    preview = ledger_import.run_preview(record)
    assert [r["action"] for r in record.report()] == actions
    assert [r.action for r in preview.results] == ["error", "error", "duplicate"]
    assert preview.counts == {**{a: 0 for a in ledger_import.Action.LABELS}, "new": 3, "update": 1,
                              "error": 2, "duplicate": 1, "rows": 7}  # fmt: skip


@pytest.mark.parametrize("change", ["outfall", "unit", "scope"])
def test_the_commit_judges_the_file_again_when_the_ledger_moved_since_the_dry_run(
    tmp_path, demo_user, monkeypatch, change
):
    user = demo_user("pingcheng")
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, [new_row(1), new_row(2)]))
    ledger_import.run_preview(record)
    record.refresh_from_db()
    assert ledger_verdicts.load(record, user) is not None
    if change == "outfall":  # someone edits an outfall meanwhile
        outfall = Outfall.objects.filter(county__code="140213").order_by("id").first()
        services.save_outfall(outfall, user=demo_user("bureau"), confirm_placement=True)
    elif change == "unit":  # someone enters the second row's unit meanwhile
        DischargeUnit.objects.create(name="导入测试单位2", county=Jurisdiction.objects.get(code="140213"))
    else:  # the officer moves to another county
        user.memberships.update(jurisdiction=Jurisdiction.objects.get(code="140214"))
        user = type(user).objects.get(pk=user.pk)
    assert ledger_verdicts.load(record, user) is None
    judged = []
    interpret = ledger_import.interpret
    monkeypatch.setattr(ledger_import, "interpret", lambda *a, **k: judged.append(1) or interpret(*a, **k))
    if change == "scope":  # judged again as the user is now: both rows lie outside the new county
        with pytest.raises(ledger_import.LedgerImportError, match="有 2 行错误"):
            ledger_import.commit(record, user)
        assert judged == [1]
        return
    ledger_import.commit(record, user)
    record.refresh_from_db()
    assert judged == [1] and record.status == "committed" and len(record.created_ids) == 2
    if change == "unit":  # the row names the unit entered meanwhile instead of creating a second one
        assert DischargeUnit.objects.filter(name="导入测试单位2").count() == 1
        assert len(record.created_unit_ids) == 1


def test_a_dry_run_with_errors_keeps_no_verdicts(tmp_path, demo_user):
    user = demo_user("bureau")
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, [new_row(1, county="不存在县")]))
    ledger_import.run_preview(record)
    record.refresh_from_db()
    assert not record.verdicts and ledger_verdicts.load(record, user) is None


@pytest.mark.parametrize("metres", [30.0, 0.5, 200.0])
def test_the_proximity_grid_finds_what_measuring_every_pair_finds(settings, metres):
    """The import's duplicate search (a grid and a cheap bound before shapes.distance_m) against measuring
    every pair: points scattered around Datong, many of them just inside or outside the distance."""
    import random

    from outfalls.geo.shapes import distance_m
    from outfalls.registry.ledger_rows import ProximityIndex

    settings.SPATIAL_DUPLICATE_M = metres
    rng = random.Random(17)
    span = metres / 20_000  # a few distances across, so that most pairs are near the edge
    points = [(113.3 + rng.uniform(-span, span), 40.08 + rng.uniform(-span, span)) for _ in range(400)]
    index = ProximityIndex()
    for number, (lon, lat) in enumerate(points):
        index.add(number, lon, lat)
    inside = 0
    for lon, lat in points[:100]:
        found = index.near(lon, lat)
        expected = sorted(
            (distance_m(lon, lat, x, y), number)
            for number, (x, y) in enumerate(points)
            if distance_m(lon, lat, x, y) <= metres
        )
        assert sorted(found) == expected
        inside += len(found)
    assert 100 < inside < 100 * 400  # neither only the point itself nor everything


@pytest.mark.parametrize(
    "stored",
    [
        b"",
        b"not gzip at all",
        # The first format: one JSON document, written before the verdicts were kept a line a row.
        gzip.compress(b'{"format": 1, "counts": {}, "rows": []}'),
    ],
)
def test_verdicts_of_another_format_or_unreadable_are_judged_again(tmp_path, demo_user, stored):
    user = demo_user("pingcheng")
    record = make_record(user, ledger_files.messy_xlsx(tmp_path, [new_row(1), new_row(2)]))
    ledger_import.run_preview(record)
    record.refresh_from_db()
    with record.verdicts.open("rb") as handle:
        lines = gzip.decompress(handle.read()).splitlines()
    assert len(lines) == 3  # a header and a line for each row
    record.verdicts.save("other.json.gz", ContentFile(stored), save=True)
    assert ledger_verdicts.load(record, user) is None
    ledger_import.commit(record, user)
    record.refresh_from_db()
    assert record.status == "committed" and len(record.created_ids) == 2


def test_duplicates_not_decided_row_by_row_take_the_decision_for_the_rest(tmp_path, client_for):
    """Hundreds of possible duplicates spread over pages of 100: the rows decided on the page keep their
    choice, the rest take 全部跳过 or 全部作为新排口导入; anything else for the rest is refused."""
    client = client_for("bureau")
    existing = list(Outfall.objects.filter(county__code="140213", type_code="YH").order_by("id")[:2])
    rows = [
        new_row(n + 1, lon=o.lon + 0.0001, lat=o.lat, name=f"其余处理的疑似重复{n + 1}")
        for n, o in enumerate(existing)
    ]
    path = ledger_files.messy_xlsx(tmp_path, rows).path
    with path.open("rb") as handle:
        client.post(reverse("registry:import_list"), {"file": handle, "crs": "cgcs2000"})
    record = LedgerImport.objects.latest("id")
    first, second = [r["row"] for r in record.report("duplicate")]
    page = client.get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    assert 'name="duplicates-rest"' in page and "全部跳过" in page
    url = reverse("registry:import_commit", args=[record.pk])
    refused = client.post(url, {"duplicates-rest": "update"}, follow=True).content.decode()
    assert "未逐行选择的疑似重复行只能" in refused
    client.post(url, {f"decision-{first}": "new", "duplicates-rest": "skip"})
    record.refresh_from_db()
    assert record.status == "committed"
    assert Outfall.objects.filter(name="其余处理的疑似重复1").exists()
    assert not Outfall.objects.filter(name="其余处理的疑似重复2").exists()
    assert [r["action"] for r in record.report()] == ["new", "skip"]
    assert second > first


def test_a_file_reads_the_whole_ledger_or_only_the_outfalls_it_needs(
    tmp_path, demo_user, monkeypatch, ledger_read
):
    """Up to LOAD_WHOLE_LEDGER_UP_TO outfalls the import reads the ledger at once; above it (a province's
    million), a county's file reads that county's outfalls and those in the blocks around its points."""
    from outfalls.registry import ledger_rows

    made = []

    class Watched(ledger_rows.Resolver):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(ledger_import, "Resolver", Watched)
    rows = [new_row(1), new_row(2)]
    record = make_record(demo_user("pingcheng"), ledger_files.messy_xlsx(tmp_path, rows))
    preview = judge(record, demo_user("pingcheng"))
    assert [r.action for r in preview.results] == ["new", "new"]
    (resolver,) = made
    loaded = resolver._ids
    if ledger_read == "whole ledger":
        assert resolver.whole and loaded == set(Outfall.objects.values_list("pk", flat=True))
        return
    pingcheng = set(Outfall.objects.filter(county__code="140213").values_list("pk", flat=True))
    assert not resolver.whole and pingcheng <= loaded and len(loaded) < Outfall.objects.count()
    block = ledger_rows.LOAD_BLOCK
    points = [(r.values["lon"], r.values["lat"]) for r in preview.results]
    for pk, county, lon, lat in Outfall.objects.filter(pk__in=loaded).values_list(
        "pk", "county__code", "lon", "lat"
    ):
        near = any(
            abs(lon // block - x // block) <= 1 and abs(lat // block - y // block) <= 1 for x, y in points
        )
        assert county == "140213" or near, pk
