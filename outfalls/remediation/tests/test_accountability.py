"""问责: 通报批评 and 公开约谈 with their reason drawn from the supervision figures; who records and who sees them;
the notice cites them."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from docx import Document

from outfalls.core.models import Department, Jurisdiction
from outfalls.remediation import accountability, notice, supervision
from outfalls.remediation.choices import AccountabilityKind
from outfalls.remediation.models import Accountability

pytestmark = pytest.mark.django_db


def lagging_county():
    today = timezone.localdate()
    total = supervision.totals(None, today)
    row = supervision.lagging(supervision.county_ranking(None, today), total.completion_rate)[0]
    return Jurisdiction.objects.get(code=row.code), row, total


def test_the_reason_is_drafted_from_the_county_s_figures(client_for):
    county, row, total = lagging_county()
    figures = accountability.figures_for(county=county)
    assert (figures["total"], figures["completed"], figures["overdue"], figures["returned"]) == (
        row.total,
        row.completed,
        row.overdue,
        row.returned,
    )
    assert figures["city_completion_rate"] == total.completion_rate
    form = client_for("bureau").get("/remediation/accountability/new/", {"county": county.code})
    reason = form.context["form"].initial["reason"]
    assert county.name in reason and f"方案{row.total}个" in reason and "进展迟缓" in reason
    page = client_for("bureau").get("/remediation/supervision/").content.decode()
    assert f"?county={county.code}" in page


def test_only_the_city_records_and_each_sees_its_own(demo_user, client_for):
    county, _, _ = lagging_county()
    bureau = demo_user("bureau")
    with pytest.raises(PermissionDenied):
        accountability.record(
            user=demo_user("pingcheng"),
            kind=AccountabilityKind.CRITICISM,
            county=county,
            decided_on=timezone.localdate(),
            reason="县区自己给自己记问责。",
        )
    with pytest.raises(ValidationError) as refused:
        accountability.record(
            user=bureau,
            kind=AccountabilityKind.INTERVIEW,
            county=county,
            department=Department.objects.first(),
            decided_on=timezone.localdate() + timedelta(days=1),
            reason="短",
        )
    assert set(refused.value.message_dict) == {"county", "decided_on", "reason"}
    entry = accountability.record(
        user=bureau,
        kind=AccountabilityKind.INTERVIEW,
        county=county,
        decided_on=timezone.localdate(),
        document_number="同环函〔2026〕3号",
        reason="整治进展迟缓，逾期方案未按期完成，予以公开约谈。",
    )
    assert entry.figures["total"] >= entry.figures["completed"] and entry.figures["as_of"]
    department = Department.objects.get(name="市城市管理局")
    other = accountability.record(
        user=bureau,
        kind=AccountabilityKind.CRITICISM,
        department=department,
        decided_on=timezone.localdate(),
        reason="负责的雨水排口整治逾期较多，予以通报批评。",
    )
    seen = {
        role: set(Accountability.objects.visible_to(demo_user(role)).filter(pk__in=[entry.pk, other.pk]))
        for role in ("bureau", "auditor", "pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief")
    }
    assert seen["bureau"] == seen["auditor"] == {entry, other}
    assert seen["chengguan"] == {other} and seen["enterprise"] == seen["river_chief"] == set()
    county_officer = (
        "pingcheng" if county.code == "140213" else "yunzhou" if county.code == "140215" else None
    )
    for role in ("pingcheng", "yunzhou"):
        assert seen[role] == ({entry} if role == county_officer else set())
    listed = client_for("chengguan").get("/remediation/accountability/").content.decode()
    assert "予以通报批评" in listed and "予以公开约谈" not in listed


def test_the_form_keeps_what_was_typed(client_for):
    county, _, _ = lagging_county()
    response = client_for("bureau").post(
        "/remediation/accountability/new/",
        {
            "kind": "criticism",
            "county": county.pk,
            "decided_on": "2999-01-01",
            "reason": "<b>进展迟缓</b>，予以通报。",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "日期不能晚于今天" in body and "&lt;b&gt;进展迟缓&lt;/b&gt;，予以通报。" in body


def test_the_notice_cites_the_records_of_the_last_year(demo_user):
    county, _, _ = lagging_county()
    bureau = demo_user("bureau")
    accountability.record(
        user=bureau,
        kind=AccountabilityKind.CRITICISM,
        county=county,
        decided_on=timezone.localdate() - timedelta(days=10),
        document_number="同环通〔2026〕7号",
        reason="整治完成率低于全市，予以通报批评。",
    )
    accountability.record(
        user=bureau,
        kind=AccountabilityKind.INTERVIEW,
        county=county,
        decided_on=timezone.localdate() - timedelta(days=400),
        reason="一年多以前的约谈，不再引用。",
    )
    document = Document(io.BytesIO(notice.build_notice(bureau, timezone.localdate())))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "三、问责情况" in text and "四、有关要求" in text
    assert "同环通〔2026〕7号" in cells and county.name in cells and "不再引用" not in cells
