"""Refusals speak Chinese: the 403 page carries the service's message, the 404 page says why it may be missing."""

import pytest
from django.urls import reverse

from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import RectificationPlan

pytestmark = pytest.mark.django_db


def test_403_page_shows_the_reason_in_chinese(client_for):
    plan = RectificationPlan.objects.filter(
        status=PlanStatus.SUBMITTED, outfall__county__code="140213"
    ).first()
    assert plan is not None, "the demo has a submitted close-out in 平城区"
    response = client_for("pingcheng").post(reverse("remediation:plan_approve", args=[plan.pk]), {})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="error-403"' in html and "无权进行此操作" in html
    assert "只有市生态环境局可以审核" in html and "Forbidden" not in html


def test_404_page_is_chinese(client_for):
    response = client_for("pingcheng").get(reverse("registry:outfall_detail", args=[10**9]))
    assert response.status_code == 404
    assert "页面不存在或不在您的管辖范围内" in response.content.decode()
