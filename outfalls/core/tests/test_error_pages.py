"""Error pages speak Chinese and say what to do: the 403 page carries the service's message, the 404 page says
why it may be missing, the 500 page asks to retry and to tell the administrator the time; refusals are logged
on one line."""

import datetime
import logging
import re

import pytest
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone

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


# The 500 page, through a URLconf whose only view fails (the project's handler500).
def _failing_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _failing_view)]
handler500 = "outfalls.core.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_500_page_is_chinese_and_says_what_to_do(client):
    client.raise_request_exception = False
    before = timezone.localtime().replace(microsecond=0)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-testid="error-500"' in html and "系统出错" in html
    assert "刷新" in html and "管理员" in html  # what to do: retry, then tell the administrator the time
    assert "boom" not in html and "Server Error" not in html
    shown = re.search(r'data-testid="error-time">([^<]+)<', html)[1]
    shown = timezone.make_aware(datetime.datetime.strptime(shown, "%Y-%m-%d %H:%M:%S"))
    assert before <= shown <= timezone.localtime()


def test_403_is_logged_on_one_line_with_the_user_and_reason(client_for, caplog):
    plan = RectificationPlan.objects.filter(
        status=PlanStatus.SUBMITTED, outfall__county__code="140213"
    ).first()
    url = reverse("remediation:plan_approve", args=[plan.pk])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client_for("pingcheng").post(url, {}).status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and record.exc_text is None  # no traceback
    line = caplog.text.strip()
    assert "\n" not in line and "Traceback" not in line
    assert url in line and "user=pingcheng" in line and "只有市生态环境局可以审核" in line


def test_a_bad_parameter_is_logged_on_one_line(client_for, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for("pingcheng").get(reverse("remediation:plan_create"), {"outfall": "²"})
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None
    assert record.getMessage().startswith("Bad request: /remediation/") and "outfall" in record.getMessage()


def test_a_disallowed_host_gets_the_chinese_400_page(client):
    """handler400 also answers Django's own SuspiciousOperation 400s, before authentication has run."""
    client.raise_request_exception = False
    response = client.get("/ledger/outfalls/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-400"' in html and "evil.example" not in html
