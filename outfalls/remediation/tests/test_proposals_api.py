"""The measure-proposal API: scoped list with the page's filters, pinned queries, accept and override."""

import pytest

from outfalls.registry.choices import RectificationMeasure
from outfalls.remediation.choices import ProposalStatus
from outfalls.remediation.models import MeasureProposal

pytestmark = pytest.mark.django_db
LIST = "/api/v1/measure-proposals/"


def test_list_is_scoped_filtered_and_has_pinned_queries(client_for, django_assert_max_num_queries):
    client = client_for("pingcheng")
    with django_assert_max_num_queries(10):
        data = client.get(LIST, {"status": "current", "page_size": 200}).json()
    assert data["count"] > 0 and {row["county"] for row in data["results"]} == {"140213"}
    data = client_for("bureau").get(LIST, {"rule": "protected_area", "status": "current"}).json()
    assert data["count"] > 0
    assert all(row["hits"][0]["rule"] == "protected_area" for row in data["results"])
    assert any(row["measure"] == "remove" for row in data["results"])
    # A storm outfall inside a protected area is regularised, never removed (实施方案（十）).
    assert all(
        row["measure"] == "remove" or (row["measure"] == "regularise" and "严禁合并、封堵" in row["reason"])
        for row in data["results"]
    )


def test_accept_and_override_through_the_api(client_for):
    client = client_for("bureau")
    first, second = MeasureProposal.objects.filter(status=ProposalStatus.PENDING, measure="regularise")[:2]
    response = client.post(f"{LIST}{first.pk}/accept/")
    assert response.status_code == 200 and response.json()["status"] == ProposalStatus.ACCEPTED
    response = client.post(f"{LIST}{first.pk}/accept/")
    assert response.status_code == 400 and "不能再处理" in response.json()["detail"]
    response = client.post(
        f"{LIST}{second.pk}/override/", {"measure": RectificationMeasure.NONE, "reason": ""}
    )
    assert response.status_code == 400 and "理由" in response.json()["errors"]["reason"][0]
    assert "reason" in response.json()["detail"]  # the summary names the field
    response = client.post(
        f"{LIST}{second.pk}/override/", {"measure": RectificationMeasure.NONE, "reason": "已规范化建设"}
    )
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.status == ProposalStatus.OVERRIDDEN and second.outfall.rectification_measure == "none"


def test_outside_scope_is_404_and_readers_are_refused(client_for):
    other = MeasureProposal.objects.filter(
        status=ProposalStatus.PENDING, outfall__county__code="140215"
    ).first()
    assert client_for("pingcheng").get(f"{LIST}{other.pk}/").status_code == 404
    assert client_for("pingcheng").post(f"{LIST}{other.pk}/accept/").status_code == 404
    assert client_for("auditor").post(f"{LIST}{other.pk}/accept/").status_code == 403


def test_rule_filter_still_works_after_the_schema_was_built(client_for):
    """Building the OpenAPI schema caches the filters' form fields; the rule choices must survive it."""
    client = client_for("pingcheng")
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/remediation/proposals/", {"rule": "regularise", "status": "current"})
    assert not response.context["filter"].errors
    assert response.context["paginator"].count > 0
    assert client.get(LIST, {"rule": "regularise"}).json()["count"] > 0
