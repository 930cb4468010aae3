"""Every login and failed login is recorded (core.LoginEvent); the city admin reads them on /accounts/audit/."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outfalls.core.choices import LoginChannel, LoginOutcome
from outfalls.core.models import LoginEvent

pytestmark = pytest.mark.django_db


def post_login(client, path, username, password, address="10.7.0.1"):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, HTTP_USER_AGENT="Firefox/140"
    )


def test_page_and_admin_logins_and_failures_are_recorded(client):
    post_login(client, "/accounts/login/", "nobody-here", "x")
    post_login(client, "/accounts/login/", "bureau", "wrong")
    assert post_login(client, "/accounts/login/", "bureau", settings.DEMO_PASSWORD).status_code == 302
    client.logout()
    assert (
        post_login(client, "/admin/login/", "city_admin", settings.DEMO_PASSWORD, "10.7.0.2").status_code
        == 302
    )
    rows = list(
        LoginEvent.objects.order_by("id").values_list(
            "username", "user__username", "channel", "outcome", "ip_address"
        )
    )[-4:]
    assert rows == [
        ("nobody-here", None, LoginChannel.WEB, LoginOutcome.FAILURE, "10.7.0.1"),
        ("bureau", "bureau", LoginChannel.WEB, LoginOutcome.FAILURE, "10.7.0.1"),
        ("bureau", "bureau", LoginChannel.WEB, LoginOutcome.SUCCESS, "10.7.0.1"),
        ("city_admin", "city_admin", LoginChannel.ADMIN, LoginOutcome.SUCCESS, "10.7.0.2"),
    ]
    assert LoginEvent.objects.latest("id").user_agent == "Firefox/140"


def test_the_city_admin_reads_and_filters_the_audit(client, client_for):
    post_login(client, "/accounts/login/", "pingcheng", "wrong", "10.7.1.1")
    post_login(client, "/accounts/login/", "<script>alert(1)</script>", "x", "10.7.1.2")
    admin = client_for("city_admin")
    html = admin.get(reverse("accounts:audit")).content.decode()
    assert "10.7.1.1" in html and "pingcheng" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    failures = admin.get(reverse("accounts:audit"), {"outcome": "failure", "username": "pingcheng"})
    table = failures.content.decode().split('data-testid="login-events"')[1]
    assert "10.7.1.1" in table and "10.7.1.2" not in table and "成功" not in table.split("</thead>")[1]
    by_address = admin.get(reverse("accounts:audit"), {"ip_address": "10.7.1.2"}).content.decode()
    assert (
        "&lt;script&gt;" in by_address and "10.7.1.1" not in by_address.split('data-testid="login-events"')[1]
    )
    bad = admin.get(reverse("accounts:audit"), {"ip_address": "not-an-ip"})
    assert bad.status_code == 200 and "有效的IPv4或IPv6地址" in bad.content.decode().replace(" ", "")


def test_the_audit_query_count_is_pinned(client, client_for):
    admin = client_for("city_admin")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(reverse("accounts:audit")).status_code == 200
        return len(ctx.captured_queries)

    first = count()
    for i in range(30):
        post_login(client, "/accounts/login/", f"user{i}", "x", f"10.7.2.{i}")
    assert count() == first
