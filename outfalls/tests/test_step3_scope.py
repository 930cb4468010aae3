"""Every list, report and export page of the investigation and rectification modules, for every demo role:
it answers (no server error), and a county officer's page names no other county (scope is never leaked).

Filter choices are checked apart from the rows: the county choices are the officer's own county, and
programmes (整治专项) are citywide reference data, like rivers, whose names every signed-in user may see."""

import re

import pytest
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import Jurisdiction

pytestmark = pytest.mark.django_db

PAGES = (
    "survey:campaign_list",
    "survey:field_home",
    "survey:case_list",
    "survey:case_awaiting",
    "survey:borrowed_list",
    "survey:borrowed_export",
    "survey:coverage",
    "survey:reconciliation",
    "survey:progress",
    "remediation:rule_list",
    "remediation:proposal_list",
    "remediation:plan_list",
    "remediation:plan_export",
    "remediation:programme_list",
    "remediation:retained_list",
    "remediation:supervision",
    "remediation:dashboard",
    "remediation:dashboard_data",
)


def _text(response):
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        return ""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_page_answers_for_every_role(client_for, username):
    client = client_for(username)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code in (200, 403), (name, response.status_code)


@pytest.mark.parametrize("username, own", [("pingcheng", "140213"), ("yunzhou", "140215")])
def test_county_officer_pages_name_no_other_county(client_for, username, own):
    others = list(
        Jurisdiction.objects.counties().exclude(code=own).exclude(name="").values_list("name", flat=True)
    )
    client = client_for(username)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
        text = _text(response)
        for select in re.findall(r'<select[^>]*name="county"[^>]*>.*?</select>', text, re.S):
            assert not [county for county in others if county in select], name
        text = re.sub(r"<option[^>]*>.*?</option>", "", text, flags=re.S)
        leaked = [county for county in others if county in text]
        assert not leaked, (name, leaked)


def test_anonymous_is_sent_to_login():
    from django.test import Client

    client = Client()
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code in (302, 401, 403), (name, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response.url


def test_status_histories_show_chinese_labels_not_stored_values(client_for):
    from outfalls.remediation.choices import ProposalStatus
    from outfalls.remediation.models import MeasureProposal
    from outfalls.survey.models import TracingCase

    client = client_for("bureau")
    proposal = MeasureProposal.objects.filter(status=ProposalStatus.ACCEPTED).first()
    html = client.get(reverse("remediation:proposal_detail", args=[proposal.pk])).content.decode()
    assert "待确认 → 已采纳" in html and "pending" not in html

    case = TracingCase.objects.filter(status="concluded").first()
    html = client.get(reverse("survey:case_detail", args=[case.pk])).content.decode()
    assert "→ 已结案" in html and "→ concluded" not in html

    # An outfall whose measure was decided: its lifecycle list names measures and statuses in Chinese.
    from outfalls.core.models import StatusChange

    change = StatusChange.objects.filter(field="rectification_measure").exclude(from_value="").first()
    html = client.get(reverse("registry:outfall_detail", args=[change.object_id])).content.decode()
    block = html[html.index('data-testid="status-changes"') :]
    block = block[: block.index("</ul>")]
    assert "清理合并" in block or "规范整治" in block or "依法取缔" in block
    assert not re.search(r"\b(regularise|merge|remove|rectifying|classified|traced|verified)\b", block)
