"""Enforcement cases and 借道排污 reports: the steps and their rules, the sources, scope for every role, the pages
and the API."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from outfalls.core.choices import AttachmentKind, FollowUp
from outfalls.core.models import Attachment, Jurisdiction, StatusChange
from outfalls.core.services import issue_token
from outfalls.portal import services as portal_services
from outfalls.portal.tests.helpers import jpeg, public_outfall
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.supervision import services
from outfalls.supervision.choices import (
    SOURCE_MODELS,
    CaseKind,
    CaseSource,
    CaseStatus,
    EntityReportStatus,
    Outcome,
)
from outfalls.supervision.models import EnforcementCase, EntityReport

pytestmark = pytest.mark.django_db
PINGCHENG, YUNZHOU = "140213", "140215"
ROLES = ["city_admin", "bureau", "auditor", "pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief"]


def today():
    return timezone.localdate()


def county(code):
    return Jurisdiction.objects.get(code=code)


def enterprise_outfall(demo_user):
    return services.reportable_outfalls(demo_user("enterprise")).order_by("code").first()


def citizen_report(outfall):
    return portal_services.submit_report(
        {
            "category": "illegal_pipe",
            "description": "河堤下有一根新埋的暗管在排黑水。",
            "anonymous": True,
            "lon": outfall.lon + 0.0001,
            "lat": outfall.lat,
            "outfall_code": outfall.code,
        },
        [jpeg("现场.jpg")],
        client_key="citizen",
    )


def open_direct(user, code=PINGCHENG, **extra):
    fields = {
        "user": user,
        "kind": CaseKind.HIDDEN_PIPE,
        "county": county(code),
        "summary": "巡查发现暗管排污，来源待查。",
        "opened_on": today() - timedelta(days=30),
    }
    fields.update(extra)
    return services.open_case(**fields)


STEPS = [
    (CaseStatus.INVESTIGATED, 20, {"findings": "现场检查并采样，查明暗管属某洗车场。"}),
    (CaseStatus.NOTIFIED, 15, {"notice": "拟处罚款，当事人享有陈述申辩和听证的权利。"}),
    (
        CaseStatus.DECIDED,
        10,
        {
            "outcome": Outcome.PENALTY,
            "decision_number": "同环罚〔2026〕9号",
            "penalty_amount": Decimal("50000"),
            "legal_basis": "《中华人民共和国水污染防治法》第八十四条",
        },
    ),
    (CaseStatus.ENFORCED, 5, {"enforcement": "罚款已缴纳，暗管已拆除。"}),
    (CaseStatus.CLOSED, 1, {"closing_note": "执行完毕，结案。"}),
]


def walk(case, user, upto=CaseStatus.CLOSED):
    for status, days_ago, fields in STEPS:
        case = services.record_step(case, status, user=user, on=today() - timedelta(days=days_ago), **fields)
        if status == upto:
            break
    return case


# The steps -----------------------------------------------------------------------------------------------------
def test_a_case_from_a_citizen_report_carries_its_evidence_and_walks_to_closed(demo_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bureau = demo_user("bureau")
    outfall = public_outfall(county__code=PINGCHENG)
    report = citizen_report(outfall)
    source = services.source_object(CaseSource.REPORT, report.pk, bureau)
    facts = services.source_facts(CaseSource.REPORT, source)
    assert facts["kind"] == CaseKind.HIDDEN_PIPE and facts["outfalls"] == [outfall]
    assert facts["county_id"] == county(PINGCHENG).pk and report.tracking_code in facts["label"]

    case = services.open_case(
        user=bureau,
        kind=facts["kind"],
        county=county(PINGCHENG),
        summary=facts["summary"],
        opened_on=today() - timedelta(days=30),
        outfalls=facts["outfalls"],
        source=CaseSource.REPORT,
        source_obj=source,
    )
    assert re.fullmatch(rf"ZF{(today() - timedelta(days=30)).year}\d{{4}}", case.number)
    assert case.number == EnforcementCase.objects.order_by("-number").values_list("number", flat=True)[0]
    assert list(case.outfalls.all()) == [outfall]
    photos = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(case), object_id=case.pk
    )
    assert [p.kind for p in photos] == [AttachmentKind.PHOTO_CLOSE] and report.tracking_code in photos[
        0
    ].title
    assert list(services.cases_from(report)) == [case]
    on_report = StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(report), object_id=report.pk, field="action"
    ).get()
    assert on_report.to_value == FollowUp.ENFORCEMENT_CASE and case.number in on_report.reason

    case = walk(case, bureau)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.penalty_amount == Decimal("50000")
    assert [case.investigated_on, case.notified_on, case.decided_on, case.enforced_on, case.closed_on] == [
        today() - timedelta(days=d) for d in (20, 15, 10, 5, 1)
    ]
    rows = StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(case), object_id=case.pk
    ).order_by("id")
    assert [r.to_value for r in rows] == [s for s in CaseStatus.values]
    assert "罚款 50,000.00 元" in rows[3].reason
    with pytest.raises(ValidationError, match="不能记录"):
        services.record_step(case, CaseStatus.CLOSED, user=bureau, on=today(), closing_note="再结一次案。")


def test_the_steps_refuse_what_does_not_hold(demo_user):
    bureau = demo_user("bureau")
    case = open_direct(bureau)
    with pytest.raises(ValidationError) as refused:
        services.record_step(case, CaseStatus.DECIDED, user=bureau, on=today(), outcome=Outcome.CORRECTION)
    assert "不能记录“决定”" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        services.record_step(
            case, CaseStatus.INVESTIGATED, user=bureau, on=today() - timedelta(days=40), findings=""
        )
    assert set(refused.value.message_dict) == {"on", "findings"}
    assert "不能早于已立案的日期" in refused.value.message_dict["on"][0]
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.record_step(
            case,
            CaseStatus.INVESTIGATED,
            user=bureau,
            on=today() + timedelta(days=1),
            findings="现场检查完毕。",
        )
    case = walk(case, bureau, upto=CaseStatus.NOTIFIED)
    with pytest.raises(ValidationError) as refused:
        services.record_step(
            case,
            CaseStatus.DECIDED,
            user=bureau,
            on=today(),
            outcome=Outcome.PENALTY,
            legal_basis="水污染防治法第八十四条",
        )
    assert set(refused.value.message_dict) == {"penalty_amount", "decision_number"}
    with pytest.raises(ValidationError) as refused:
        services.record_step(
            case,
            CaseStatus.DECIDED,
            user=bureau,
            on=today(),
            outcome=Outcome.CORRECTION,
            penalty_amount=Decimal("100"),
            legal_basis="水污染防治法第八十四条",
        )
    assert "不处罚款" in refused.value.message_dict["penalty_amount"][0]
    # A correction without a fine closes without the enforcement step.
    case = services.record_step(
        case,
        CaseStatus.DECIDED,
        user=bureau,
        on=today(),
        outcome=Outcome.CORRECTION,
        legal_basis="水污染防治法第八十四条",
    )
    assert services.next_steps(case, bureau) == [CaseStatus.ENFORCED, CaseStatus.CLOSED]
    case = services.record_step(
        case, CaseStatus.CLOSED, user=bureau, on=today(), closing_note="已改正，结案。"
    )
    assert case.status == CaseStatus.CLOSED and case.penalty_amount is None


def test_a_penalty_is_enforced_before_the_case_closes(demo_user):
    bureau = demo_user("bureau")
    case = walk(open_direct(bureau), bureau, upto=CaseStatus.DECIDED)
    assert services.next_steps(case, bureau) == [CaseStatus.ENFORCED]
    with pytest.raises(ValidationError, match="先记录执行情况"):
        services.record_step(case, CaseStatus.CLOSED, user=bureau, on=today(), closing_note="直接结案试试。")


def test_two_people_recording_the_same_step_do_not_both_win(demo_user):
    bureau = demo_user("bureau")
    case = open_direct(bureau)
    version = case.version
    services.record_step(
        case,
        CaseStatus.INVESTIGATED,
        user=bureau,
        on=today(),
        expected_version=version,
        findings="甲记录的调查情况。",
    )
    with pytest.raises(ValidationError):
        services.record_step(
            case,
            CaseStatus.INVESTIGATED,
            user=bureau,
            on=today(),
            expected_version=version,
            findings="乙记录的调查情况。",
        )
    case.refresh_from_db()
    assert case.findings == "甲记录的调查情况。"


# Who may do what -------------------------------------------------------------------------------------------------
def test_a_county_officer_opens_and_investigates_in_their_county_and_the_city_decides(demo_user):
    officer, bureau = demo_user("pingcheng"), demo_user("bureau")
    with pytest.raises(ValidationError, match="不在您的管辖范围内"):
        open_direct(officer, code=YUNZHOU)
    case = walk(open_direct(officer), officer, upto=CaseStatus.NOTIFIED)
    assert services.next_steps(case, officer) == []
    with pytest.raises(PermissionDenied, match="市生态环境局"):
        services.record_step(
            case,
            CaseStatus.DECIDED,
            user=officer,
            on=today(),
            outcome=Outcome.NO_PENALTY,
            legal_basis="行政处罚法第三十三条",
        )
    other = open_direct(bureau, code=YUNZHOU)
    with pytest.raises(PermissionDenied):
        services.record_step(
            other, CaseStatus.INVESTIGATED, user=officer, on=today(), findings="越权记录调查。"
        )
    for role in ("chengguan", "enterprise", "river_chief", "auditor"):
        with pytest.raises(PermissionDenied):
            open_direct(demo_user(role))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_and_edits_what_its_scope_allows(demo_user, client_for, role):
    bureau = demo_user("bureau")
    outfall = enterprise_outfall(demo_user)
    unit = DischargeUnit.objects.get(pk=min(services.scope_of(demo_user("enterprise")).unit_ids))
    told = walk(open_direct(bureau, outfalls=[outfall], units=[unit]), bureau, upto=CaseStatus.NOTIFIED)
    fresh = open_direct(bureau, outfalls=[outfall], units=[unit])  # the party has not been told yet
    elsewhere = open_direct(bureau, code=YUNZHOU)
    user = demo_user(role)
    outfall_seen = Outfall.objects.visible_to(user).filter(pk=outfall.pk).exists()
    expected = {
        "city_admin": {told, fresh, elsewhere},
        "bureau": {told, fresh, elsewhere},
        "auditor": {told, fresh, elsewhere},
        "pingcheng": {told, fresh},
        "yunzhou": {elsewhere},
        "chengguan": {told, fresh} if outfall_seen else set(),
        "river_chief": {told, fresh} if outfall_seen else set(),
        "enterprise": {told},
    }[role]
    mine = {told, fresh, elsewhere}
    assert set(EnforcementCase.objects.visible_to(user).filter(pk__in=[c.pk for c in mine])) == expected
    editors = {"city_admin": mine, "bureau": mine, "pingcheng": {told, fresh}, "yunzhou": {elsewhere}}
    assert set(EnforcementCase.objects.editable_by(user).filter(pk__in=[c.pk for c in mine])) == editors.get(
        role, set()
    )
    # Pages and API answer the same: a case outside the scope is a 404, and the list counts only the scope.
    client = client_for(role)
    for case in mine:
        page = client.get(f"/supervision/cases/{case.pk}/")
        api = client.get(f"/api/v1/enforcement-cases/{case.pk}/")
        assert (page.status_code, api.status_code) == ((200, 200) if case in expected else (404, 404)), case
    listed = client.get("/api/v1/enforcement-cases/", {"page_size": 100}).json()
    ids = {row["id"] for row in listed["results"]}
    assert ids & {c.pk for c in mine} == {c.pk for c in expected}
    exported = client.get("/supervision/cases/export.csv").content.decode("utf-8-sig")
    numbers = {row[0] for row in list(csv.reader(io.StringIO(exported)))[1:]}
    assert numbers & {c.number for c in mine} == {c.number for c in expected}


def test_anonymous_visitors_see_no_case(client, demo_user):
    case = open_direct(demo_user("bureau"))
    assert client.get(f"/supervision/cases/{case.pk}/").status_code == 302
    assert client.get("/api/v1/enforcement-cases/").status_code in (401, 403)


# 借道排污 reports -----------------------------------------------------------------------------------------------------
def test_an_entity_reports_borrowing_and_its_county_opens_a_case(demo_user, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    enterprise, officer = demo_user("enterprise"), demo_user("pingcheng")
    outfall = enterprise_outfall(demo_user)
    unit_id = min(services.scope_of(enterprise).unit_ids)
    client = client_for("enterprise")
    response = client.post(
        "/supervision/borrowing/new/",
        {
            "unit": unit_id,
            "outfall": outfall.pk,
            "found_on": today().isoformat(),
            "suspect": "相邻洗车场",
            "description": "夜间发现本单位雨水排口有泡沫污水排出。",
            "files": [jpeg("泡沫.jpg")],
        },
    )
    assert response.status_code == 302
    report = EntityReport.objects.filter(description__startswith="夜间发现本单位").get()
    assert report.county.code == outfall.county.code and report.status == EntityReportStatus.SUBMITTED
    assert (
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(report), object_id=report.pk
        ).count()
        == 1
    )
    # It is on the county's to-do list, not on another county's.
    assert str(report.outfall.code) in client_for("pingcheng").get("/supervision/borrowing/").content.decode()
    assert client_for("yunzhou").get(f"/supervision/borrowing/{report.pk}/").status_code == 404
    page = client_for("pingcheng").get(f"/supervision/borrowing/{report.pk}/").content.decode()
    assert "立案查处" in page

    form = client_for("pingcheng").get("/supervision/cases/new/", {"source": "entity", "id": report.pk})
    assert form.status_code == 200 and "借道排污报告" in form.content.decode()
    assert form.context["form"].initial["kind"] == CaseKind.BORROWING
    case = services.open_case(
        user=officer,
        kind=CaseKind.BORROWING,
        county=report.county,
        summary=form.context["form"].initial["summary"],
        opened_on=today(),
        outfalls=[outfall],
        source=CaseSource.ENTITY,
        source_obj=report,
    )
    report.refresh_from_db()
    assert report.status == EntityReportStatus.CASE_OPENED and report.case == case
    assert (
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(case), object_id=case.pk
        ).count()
        == 1
    )
    with pytest.raises(ValidationError, match="已立案"):
        services.open_case(
            user=officer,
            kind=CaseKind.BORROWING,
            county=report.county,
            summary="同一报告第二次立案。",
            opened_on=today(),
            source=CaseSource.ENTITY,
            source_obj=report,
        )
    # The entity sees the report's outcome; the case itself once it has been told.
    client = client_for("enterprise")
    assert "已立案" in client.get(f"/supervision/borrowing/{report.pk}/").content.decode()
    assert client.get(f"/supervision/cases/{case.pk}/").status_code == 404


def test_entity_reports_are_checked_and_dismissed_with_a_reason(demo_user):
    enterprise = demo_user("enterprise")
    unit = DischargeUnit.objects.get(pk=min(services.scope_of(enterprise).unit_ids))
    foreign = (
        Outfall.objects.exclude(pk__in=services.reportable_outfalls(enterprise)).order_by("code").first()
    )
    with pytest.raises(ValidationError) as refused:
        services.submit_entity_report(
            user=enterprise, unit=unit, outfall=foreign, description="短", found_on=today()
        )
    assert set(refused.value.message_dict) == {"outfall", "description"}
    with pytest.raises(PermissionDenied):
        services.submit_entity_report(
            user=demo_user("pingcheng"),
            unit=unit,
            outfall=enterprise_outfall(demo_user),
            description="县区替企业报告借道排污。",
            found_on=today(),
        )
    report = services.submit_entity_report(
        user=enterprise,
        unit=unit,
        outfall=enterprise_outfall(demo_user),
        description="发现有外来管线接入本单位排口。",
        found_on=today(),
    )
    with pytest.raises(PermissionDenied):
        services.dismiss_entity_report(report, user=demo_user("yunzhou"), reason="不是本县区的报告。")
    with pytest.raises(ValidationError, match="理由"):
        services.dismiss_entity_report(report, user=demo_user("pingcheng"), reason="")
    report = services.dismiss_entity_report(
        report, user=demo_user("pingcheng"), reason="经核查为本单位自身的雨水。"
    )
    assert report.status == EntityReportStatus.DISMISSED and "自身的雨水" in report.handling_note


# Pages -----------------------------------------------------------------------------------------------------------
def test_the_open_form_keeps_what_was_typed_and_names_the_field(client_for):
    client = client_for("pingcheng")
    before = set(EnforcementCase.objects.values_list("pk", flat=True))
    data = {
        "source": "direct",
        "kind": CaseKind.HIDDEN_PIPE,
        "county": county(PINGCHENG).pk,
        "opened_on": today().isoformat(),
        "summary": "<script>alert(1)</script>河堤暗管排污",
        "outfall_codes": "NOT-A-CODE",
        "unit_names": "",
    }
    response = client.post("/supervision/cases/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "找不到排口编码 NOT-A-CODE" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;河堤暗管排污" in body and "<script>alert(1)" not in body
    assert set(EnforcementCase.objects.values_list("pk", flat=True)) == before
    outfall = Outfall.objects.filter(county__code=PINGCHENG).order_by("code").first()
    response = client.post("/supervision/cases/new/", {**data, "outfall_codes": outfall.code})
    assert response.status_code == 302
    case = EnforcementCase.objects.exclude(pk__in=before).get()
    detail = client.get(response["Location"]).content.decode()
    assert "&lt;script&gt;" in detail and "<script>alert(1)" not in detail
    assert list(case.outfalls.all()) == [outfall]


def test_a_step_form_keeps_what_was_typed_on_refusal(client_for, demo_user):
    case = open_direct(demo_user("pingcheng"))
    client = client_for("pingcheng")
    response = client.post(
        f"/supervision/cases/{case.pk}/step/investigated/",
        {
            "investigated-on": (today() - timedelta(days=90)).isoformat(),
            "investigated-findings": "现场采样两次，询问笔录一份。",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "不能早于已立案的日期" in body and "现场采样两次，询问笔录一份。" in body
    response = client.post(
        f"/supervision/cases/{case.pk}/step/investigated/",
        {"investigated-on": today().isoformat(), "investigated-findings": "现场采样两次，询问笔录一份。"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATED


def test_evidence_is_kept_on_an_open_case_only(client_for, demo_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bureau = demo_user("bureau")
    case = open_direct(bureau)
    client = client_for("bureau")
    report = SimpleUploadedFile("检测报告.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        f"/supervision/cases/{case.pk}/evidence/",
        {"kind": AttachmentKind.DOCUMENT, "title": "5月3日采样检测报告", "file": report},
    )
    assert response.status_code == 302
    assert "5月3日采样检测报告" in client.get(f"/supervision/cases/{case.pk}/").content.decode()
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        f"/supervision/cases/{case.pk}/evidence/",
        {"kind": AttachmentKind.DOCUMENT, "title": "程序", "file": bad},
    )
    assert response.status_code == 400 and "不允许" in response.content.decode()
    case = walk(case, bureau)
    with pytest.raises(ValidationError, match="已结案"):
        services.add_evidence(case, report, user=bureau, kind=AttachmentKind.DOCUMENT, title="结案后补证据")


def test_the_register_searches_filters_and_exports_without_formulas(client_for, demo_user):
    bureau = demo_user("bureau")
    outfall = Outfall.objects.filter(county__code=PINGCHENG).order_by("code").first()
    wanted = open_direct(bureau, summary='=HYPERLINK("http://evil")暗管', outfalls=[outfall])
    over = open_direct(bureau, code=YUNZHOU, kind=CaseKind.OVER_LIMIT, summary="超标排放案件摘要。")
    client = client_for("bureau")
    page = client.get("/supervision/cases/", {"q": outfall.code})
    found = list(page.context["object_list"])
    assert wanted in found and all(outfall in c.outfalls.all() for c in found)
    page = client.get("/supervision/cases/", {"kind": CaseKind.OVER_LIMIT, "county": YUNZHOU})
    listed = list(page.context["object_list"])
    assert over in listed and {(c.kind, c.county.code) for c in listed} == {(CaseKind.OVER_LIMIT, YUNZHOU)}
    exported = client.get("/supervision/cases/export.csv", {"q": outfall.code}).content.decode("utf-8-sig")
    rows = {row[0]: row for row in list(csv.reader(io.StringIO(exported)))[1:]}
    assert set(rows) == {c.number for c in found} and rows[wanted.number][6] == outfall.code
    assert "HYPERLINK" in rows[wanted.number][5] and not rows[wanted.number][5].startswith("=")


def test_the_register_and_its_api_list_do_not_query_per_row(
    client_for, demo_user, django_assert_max_num_queries
):
    bureau = demo_user("bureau")
    outfall = Outfall.objects.filter(county__code=PINGCHENG).order_by("code").first()
    client = client_for("bureau")
    client.get("/supervision/cases/")
    for _ in range(2):
        open_direct(bureau, outfalls=[outfall])
    with django_assert_max_num_queries(40) as few:
        client.get("/supervision/cases/")
        client.get("/api/v1/enforcement-cases/")
    for _ in range(8):
        open_direct(bureau, outfalls=[outfall])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/supervision/cases/")
        client.get("/api/v1/enforcement-cases/")


# API -------------------------------------------------------------------------------------------------------------
def test_the_api_opens_a_case_from_a_report_and_records_steps(client, demo_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _, key = issue_token(demo_user("pingcheng"), name="test")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    outfall = public_outfall(county__code=PINGCHENG)
    report = citizen_report(outfall)
    response = client.post(
        "/api/v1/enforcement-cases/",
        {
            "kind": "hidden_pipe",
            "county": county(PINGCHENG).pk,
            "summary": "群众举报暗管排污。",
            "opened_on": today().isoformat(),
            "outfalls": [outfall.pk],
            "source": "report",
            "source_id": report.pk,
        },
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["outfall_codes"] == [outfall.code] and report.tracking_code in case["source_label"]
    step = client.post(
        f"/api/v1/enforcement-cases/{case['id']}/steps/",
        {
            "status": "investigated",
            "on": today().isoformat(),
            "findings": "现场查明暗管来源。",
            "version": case["version"],
        },
        content_type="application/json",
        **headers,
    )
    assert step.status_code == 200 and step.json()["status"] == "investigated"
    stale = client.post(
        f"/api/v1/enforcement-cases/{case['id']}/steps/",
        {
            "status": "notified",
            "on": today().isoformat(),
            "notice": "告知当事人陈述申辩权利。",
            "version": case["version"],
        },
        content_type="application/json",
        **headers,
    )
    assert stale.status_code == 400
    notified = client.post(
        f"/api/v1/enforcement-cases/{case['id']}/steps/",
        {"status": "notified", "on": today().isoformat(), "notice": "告知当事人陈述申辩权利。"},
        content_type="application/json",
        **headers,
    )
    assert notified.status_code == 200 and notified.json()["notified_on"] == today().isoformat()
    refused = client.post(
        f"/api/v1/enforcement-cases/{case['id']}/steps/",
        {
            "status": "decided",
            "on": today().isoformat(),
            "outcome": "no_penalty",
            "legal_basis": "行政处罚法第三十三条",
        },
        content_type="application/json",
        **headers,
    )
    assert refused.status_code == 403
    other = client.post(
        "/api/v1/enforcement-cases/",
        {
            "kind": "other",
            "county": county(YUNZHOU).pk,
            "summary": "越权立案试试。",
            "opened_on": today().isoformat(),
        },
        content_type="application/json",
        **headers,
    )
    assert other.status_code == 400 and "county" in other.json()["errors"]


def test_the_openapi_schema_documents_the_enforcement_api(client, demo_user):
    client.force_login(demo_user("bureau"))
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/enforcement-cases/{id}/steps/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/borrowing-reports/"]


@pytest.mark.parametrize(
    "source, kind",
    [(CaseSource.TRACING, CaseKind.ILLEGAL_SETUP), (CaseSource.EXCEEDANCE, CaseKind.OVER_LIMIT)],
)
def test_a_tracing_conclusion_or_an_exceedance_fills_the_open_form_within_scope(client_for, source, kind):
    model = ContentType.objects.get_by_natural_key(*SOURCE_MODELS[source]).model_class()
    wanted = {"concluded_at__isnull": False} if source == CaseSource.TRACING else {"kind": "exceedance"}
    # The demo has concluded tracing cases in 平城区 and exceedances in 云州区.
    place, stranger = ("pingcheng", "yunzhou") if source == CaseSource.TRACING else ("yunzhou", "pingcheng")
    code = PINGCHENG if place == "pingcheng" else YUNZHOU
    obj = model.objects.filter(outfall__county__code=code, **wanted).order_by("pk").first()
    client = client_for(place)
    # The page that holds the source links to the form.
    page = {
        CaseSource.TRACING: lambda: client.get(f"/survey/cases/{obj.pk}/"),
        CaseSource.EXCEEDANCE: lambda: client.get(
            "/monitoring/findings/", {"outfall": obj.outfall.code, "kind": obj.kind, "ordering": "-at"}
        ),
    }[source]()
    assert f"source={source}&amp;id={obj.pk}" in page.content.decode()
    form = client.get("/supervision/cases/new/", {"source": source, "id": obj.pk})
    assert form.status_code == 200
    initial = form.context["form"].initial
    assert initial["kind"] == kind and initial["outfall_codes"] == obj.outfall.code
    assert initial["county"] == obj.outfall.county_id
    # Another county's officer cannot open it, nor learn that it exists.
    other = client_for(stranger).get("/supervision/cases/new/", {"source": source, "id": obj.pk}, follow=True)
    assert "找不到编号为" in other.content.decode()
