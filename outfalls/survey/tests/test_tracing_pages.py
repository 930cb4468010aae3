"""溯源, 借道排污, coverage, reconciliation and progress pages: scope, query counts, the case workflow by POST."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from outfalls.core.models import Jurisdiction
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink
from outfalls.survey import tracing
from outfalls.survey.choices import CaseStatus, PointOutcome, StepKind
from outfalls.survey.models import Campaign, SuspectedPoint, TracingCase


def verified(county_code):
    outfall = (
        Outfall.objects.filter(county__code=county_code, status=LifecycleStatus.VERIFIED, tracing_case=None)
        .order_by("-id")
        .first()
    )
    assert outfall is not None
    return outfall


@pytest.fixture
def cases(demo_user):
    """An open case in 平城区 and one in 云州区, each with a borrowing unit."""
    made = {}
    for code, username in (("140213", "pingcheng"), ("140215", "yunzhou")):
        user = demo_user(username)
        case = tracing.open_case(verified(code), user=user)
        unit = (
            DischargeUnit.objects.filter(county__code=code).exclude(kind="government").order_by("id").first()
        )
        tracing.link_found_unit(case, unit, user=user, role=LinkRole.BORROWS, via_channel="测试路雨水管网")
        made[code] = case
    return made


def test_case_list_is_scoped_and_flags_borrowing(client_for, cases):
    response = client_for("pingcheng").get(reverse("survey:case_list"))
    assert response.status_code == 200
    ids = {c.pk for c in response.context["object_list"]}
    assert cases["140213"].pk in ids
    assert cases["140215"].pk not in ids
    assert all(c.outfall.county.code == "140213" for c in response.context["object_list"])
    assert "借道排污" in response.content.decode()


def test_other_countys_case_is_404(client_for, cases):
    client = client_for("pingcheng")
    assert client.get(reverse("survey:case_detail", args=[cases["140215"].pk])).status_code == 404
    assert client.get(reverse("survey:case_detail", args=[cases["140213"].pk])).status_code == 200
    response = client.post(
        reverse("survey:case_detail", args=[cases["140215"].pk]), {"action": "reopen", "reason": "x"}
    )
    assert response.status_code == 404


def test_auditor_sees_but_cannot_act(client_for, cases):
    client = client_for("auditor")
    url = reverse("survey:case_detail", args=[cases["140213"].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="conclude-form"' not in response.content.decode()
    assert (
        client.post(url, {"action": "conclude", "basis": "government_fallback", "note": "x"}).status_code
        == 404
    )


def test_list_filters(client_for, cases):
    client = client_for("bureau")
    response = client.get(reverse("survey:case_list"), {"county": "140215", "status": CaseStatus.OPEN})
    codes = {c.outfall.county.code for c in response.context["object_list"]}
    assert codes == {"140215"}
    outfall = cases["140213"].outfall
    response = client.get(reverse("survey:case_list"), {"q": outfall.code})
    assert [c.pk for c in response.context["object_list"]] == [cases["140213"].pk]


@pytest.mark.parametrize("name", ["survey:case_list", "survey:case_awaiting", "survey:borrowed_list"])
def test_list_query_counts_are_pinned(client_for, cases, name, django_assert_max_num_queries):
    client = client_for("bureau")
    client.get(reverse(name))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(11):
        response = client.get(reverse(name))
    assert response.status_code == 200
    assert len(response.context["object_list"]) > 5  # many rows, the same few queries


def test_case_page_queries_do_not_grow_with_steps(client_for, cases, demo_user, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MEDIA_ROOT = tmp_path
    case, officer = cases["140213"], demo_user("pingcheng")
    client = client_for("pingcheng")
    url = reverse("survey:case_detail", args=[case.pk])

    def add(n):
        upload = SimpleUploadedFile(f"记录{n}.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        tracing.add_step(
            case,
            user=officer,
            kind=StepKind.MANHOLE,
            date=datetime.date(2023, 6, n),
            findings=f"第{n}次",
            files=[upload],
        )

    add(1)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(2, 6):
        add(n)
    with CaptureQueriesContext(connection) as five:
        page = client.get(url).content.decode()
    assert "记录5" in page and "第5次" in page
    assert len(five) == len(one)


def test_step_form_takes_several_files_and_names_a_bad_one(client_for, cases, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = cases["140213"]
    client = client_for("pingcheng")
    url = reverse("survey:case_detail", args=[case.pk])
    step = {
        "action": "step",
        "kind": StepKind.DOCUMENT_REVIEW,
        "date": "2023-06-01",
        "findings": "调阅排水许可",
    }
    files = [
        SimpleUploadedFile("排水许可.pdf", b"%PDF-1.4 a", content_type="application/pdf"),
        SimpleUploadedFile("管网图.pdf", b"%PDF-1.4 b", content_type="application/pdf"),
    ]
    assert client.post(url, {**step, "files": files}).status_code == 302
    (saved,) = case.steps.all()
    assert len(tracing.steps_with_files(case)[0].files) == 2
    response = client.post(url, {**step, "files": [SimpleUploadedFile("脚本.exe", b"MZ")]})
    assert response.status_code == 400
    assert "脚本.exe" in response.context["step_form"].errors["files"][0]
    assert case.steps.count() == 1


@pytest.mark.parametrize(
    ("name", "most"), [("survey:coverage", 12), ("survey:reconciliation", 17), ("survey:progress", 12)]
)
def test_report_query_counts_are_pinned(client_for, campaigns, name, most, django_assert_max_num_queries):
    client = client_for("bureau")
    client.get(reverse(name))
    with django_assert_max_num_queries(most):
        assert client.get(reverse(name)).status_code == 200


def test_awaiting_and_open_by_post(client_for, demo_user):
    client = client_for("pingcheng")
    response = client.get(reverse("survey:case_awaiting"))
    listed = list(response.context["object_list"])
    assert listed and all(o.status == LifecycleStatus.VERIFIED and o.county.code == "140213" for o in listed)
    outfall = listed[0]
    response = client.post(reverse("survey:case_open", args=[outfall.pk]))
    case = TracingCase.objects.get(outfall=outfall)
    assert response.status_code == 302 and response["Location"] == reverse(
        "survey:case_detail", args=[case.pk]
    )
    # Not another county's outfall.
    other = verified("140215")
    assert client.post(reverse("survey:case_open", args=[other.pk])).status_code == 404


def test_the_case_workflow_by_post(client_for, demo_user):
    client = client_for("pingcheng")
    outfall = verified("140213")
    case = tracing.open_case(outfall, user=demo_user("pingcheng"))
    url = reverse("survey:case_detail", args=[case.pk])
    units = list(
        DischargeUnit.objects.filter(county__code="140213").exclude(kind="government").order_by("id")[:2]
    )

    # A step with a missing finding keeps what was typed and names the field.
    response = client.post(url, {"action": "step", "kind": "dye_test", "date": "2023-06-01", "staff": "王五"})
    assert response.status_code == 400
    assert response.context["step_form"].errors["findings"]
    assert 'value="王五"' in response.content.decode()
    response = client.post(
        url, {"action": "step", "kind": "dye_test", "date": "2023-06-01", "findings": "染色后排口见色"}
    )
    assert response.status_code == 302
    assert case.steps.count() == 1

    # Link the owner, then a borrower without its channel (error), then with it.
    assert (
        client.post(
            url, {"action": "link", "unit": units[0].pk, "role": "owner", "new_kind": "industrial"}
        ).status_code
        == 302
    )
    response = client.post(
        url, {"action": "link", "unit": units[1].pk, "role": "borrows", "new_kind": "industrial"}
    )
    assert response.status_code == 400
    assert "经由的通道" in response.context["link_form"].errors["via_channel"][0]
    response = client.post(
        url,
        {
            "action": "link",
            "unit": units[1].pk,
            "role": "borrows",
            "via_channel": "御河北路雨水管网",
            "new_kind": "industrial",
        },
    )
    assert response.status_code == 302
    # A unit created on the spot.
    response = client.post(
        url,
        {
            "action": "link",
            "new_name": "现场发现的洗车点",
            "new_kind": "commercial",
            "role": "shares",
            "share_note": "按用水量",
            "share_percent": "20",
        },
    )
    assert response.status_code == 302
    created = DischargeUnit.objects.get(name="现场发现的洗车点")
    assert created.county_id == outfall.county_id
    assert OutfallUnitLink.objects.get(outfall=outfall, unit=created).share_percent == 20

    # Traced to the owner.
    response = client.post(
        url, {"action": "conclude", "basis": "traced", "entity": units[0].pk, "note": "染色试验确认"}
    )
    assert response.status_code == 302, response.context["conclude_form"].errors
    outfall.refresh_from_db()
    assert (outfall.responsible_entity, outfall.responsibility_basis, outfall.status) == (
        units[0],
        ResponsibilityBasis.TRACED,
        LifecycleStatus.TRACED,
    )
    page = client.get(url).content.decode()
    assert "存在借道排污" in page and "已结案" in page

    # Reopen needs a reason.
    response = client.post(url, {"action": "reopen", "reason": ""})
    assert response.status_code == 400
    assert client.post(url, {"action": "reopen", "reason": "补充溯源"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_fallback_by_post_defaults_to_the_government(client_for, demo_user):
    client = client_for("yunzhou")
    case = tracing.open_case(verified("140215"), user=demo_user("yunzhou"))
    url = reverse("survey:case_detail", args=[case.pk])
    response = client.post(url, {"action": "conclude", "basis": "government_fallback", "note": ""})
    assert response.status_code == 400
    assert "无法溯源的原因" in str(response.context["conclude_form"].errors)
    client.post(url, {"action": "conclude", "basis": "government_fallback", "note": "多次排查未查明"})
    case.refresh_from_db()
    assert case.responsible_entity.name == "云州区人民政府"


def test_borrowed_list_and_csv_are_scoped(client_for, cases):
    client = client_for("pingcheng")
    response = client.get(reverse("survey:borrowed_list"))
    rows = list(response.context["object_list"])
    assert cases["140213"].outfall_id in {o.pk for o in rows}
    assert {o.county.code for o in rows} == {"140213"}
    response = client.get(reverse("survey:borrowed_export"))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff排污口编码,入河排污口名称,县区")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r[2] for r in table[1:]} == {"平城区"}
    assert any("测试路雨水管网" in r[5] for r in table[1:])


@pytest.fixture
def campaigns(db):
    made = {}
    for code in ("140213", "140215"):
        county = Jurisdiction.objects.get(code=code)
        campaign = Campaign.objects.create(
            name=f"页面测试任务{code}", county=county, deadline=datetime.date(2023, 12, 31)
        )
        SuspectedPoint.objects.create(
            campaign=campaign, number="T1", lon=113.3, lat=40.1, outcome=PointOutcome.PENDING
        )
        SuspectedPoint.objects.create(
            campaign=campaign, number="T2", lon=113.3, lat=40.1, outcome=PointOutcome.CONFIRMED
        )
        made[code] = campaign
    return made


def test_coverage_and_reconciliation_are_scoped(client_for, campaigns):
    client = client_for("pingcheng")
    response = client.get(reverse("survey:coverage"))
    shown = {cov.campaign.pk for cov in response.context["coverages"]}
    assert campaigns["140213"].pk in shown and campaigns["140215"].pk not in shown
    assert {county.code for county, _ in response.context["counties"]} == {"140213"}
    assert client.get(reverse("survey:coverage_detail", args=[campaigns["140215"].pk])).status_code == 404
    response = client.get(reverse("survey:coverage_detail", args=[campaigns["140213"].pk]))
    assert response.status_code == 200
    assert [p["number"] for p in response.context["map_data"]["points"]] == ["T1"]

    response = client.get(reverse("survey:reconciliation"))
    shown = {b.campaign.pk for b in response.context["balances"]}
    assert campaigns["140213"].pk in shown and campaigns["140215"].pk not in shown
    kinds = {
        (a.kind, a.point.number) for a in response.context["anomalies"] if a.campaign == campaigns["140213"]
    }
    assert ("confirmed_without_outfall", "T2") in kinds
    assert all(a.campaign.county.code == "140213" for a in response.context["anomalies"])


def test_progress_page_and_exports_are_scoped(client_for):
    client = client_for("pingcheng")
    response = client.get(reverse("survey:progress"))
    assert [r.county.code for r in response.context["rows"]] == ["140213"]
    assert response.context["chart"]["counties"] == ["平城区"]
    text = client.get(reverse("survey:progress_export", args=["csv"])).content.decode("utf-8")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("平城区,")
    response = client.get(reverse("survey:progress_export", args=["xlsx"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(reverse("survey:progress_export", args=["pdf"])).status_code == 404
    bureau = client_for("bureau").get(reverse("survey:progress"))
    assert len(bureau.context["rows"]) == 11 and bureau.context["total"] is not None
