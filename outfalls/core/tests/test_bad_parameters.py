"""Ids and numbers from forms and links are read by core/params.py: a bad one is a Chinese 400, never a 500.

"²".isdigit() is True, so checks written with isdigit() let it through to int(), which raised (a 500).
"""

import pytest
from django.urls import reverse

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import LedgerImport, Outfall
from outfalls.remediation.choices import ProposalStatus
from outfalls.remediation.models import MeasureProposal
from outfalls.survey import tracing

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(client_for):
    def login(username):
        client = client_for(username)
        client.raise_request_exception = False  # a crash must show as the 500 it is, not as an exception
        return client

    return login


def assert_chinese_400(response, name):
    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    assert 'data-testid="error-400"' in html and "请求有误" in html
    assert name in html  # the message names the parameter


@pytest.mark.parametrize("value", ["²", "١٢", "1e400", "-1"])
def test_plan_form_with_a_bad_outfall_id(client_as, value):
    response = client_as("pingcheng").get(reverse("remediation:plan_create"), {"outfall": value})
    assert_chinese_400(response, "outfall")


def test_bulk_accept_with_a_bad_id_accepts_nothing(client_as):
    pending = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code="140213"
    ).first()
    response = client_as("pingcheng").post(
        reverse("remediation:proposal_bulk_accept"), {"ids": [str(pending.pk), "²"]}
    )
    assert_chinese_400(response, "ids")
    pending.refresh_from_db()
    assert pending.status == ProposalStatus.PENDING  # one bad id refuses the whole list


def test_unlinking_a_bad_link_id_on_a_tracing_case(client_as, demo_user):
    outfall = Outfall.objects.filter(
        county__code="140213", status=LifecycleStatus.VERIFIED, tracing_case=None
    ).first()
    case = tracing.open_case(outfall, user=demo_user("pingcheng"))
    response = client_as("pingcheng").post(
        reverse("survey:case_detail", args=[case.pk]), {"action": "unlink", "link": "²"}
    )
    assert_chinese_400(response, "link")


def test_a_ledger_import_decision_for_a_bad_row_number(client_as, demo_user):
    record = LedgerImport.objects.create(
        created_by=demo_user("pingcheng"),
        filename="t.xlsx",
        file="imports/t.xlsx",
        status=LedgerImport.Status.PREVIEWED,
    )
    response = client_as("pingcheng").post(
        reverse("registry:import_commit", args=[record.pk]), {"decision-²": "new"}
    )
    assert_chinese_400(response, "疑似重复的行号")
    record.refresh_from_db()
    assert record.status == LedgerImport.Status.PREVIEWED
