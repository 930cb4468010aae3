"""Repeated wrong passwords lock a user name (from any address) or an address (any names) out, even for the
right password, with a Chinese answer; the token endpoint is throttled; the city admin unlocks."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from outfalls.core.choices import LoginOutcome
from outfalls.core.models import LoginEvent
from outfalls.core.security import client_ip

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


def page_login(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def token_login(client, username, password, address):
    return client.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_thirty_wrong_passwords_at_the_login_page_lock_the_user_out(client):
    answers = [page_login(client, "pingcheng", f"wrong-{i}").status_code for i in range(30)]
    limit = settings.LOGIN_FAILURE_LIMIT
    # Wrong passwords get the form back until the limit; from the limit on, the lockout.
    assert answers[: limit - 1] == [200] * (limit - 1)
    assert set(answers[limit - 1 :]) == {429}
    right = page_login(client, "pingcheng", settings.DEMO_PASSWORD)
    assert right.status_code == 429
    html = right.content.decode()
    assert 'data-testid="lockout-message"' in html and "登录失败次数过多" in html
    assert f"{settings.LOGIN_LOCKOUT_MINUTES} 分钟" in html and "市级管理员" in html
    assert "_auth_user_id" not in client.session
    # The lock is on pingcheng (and, after 30 failures, on this address too), not on other users.
    assert page_login(client, "yunzhou", settings.DEMO_PASSWORD, address="10.0.0.2").status_code == 302


def test_the_user_lock_holds_from_every_address_at_the_token_endpoint(client):
    # A new address for each try: neither the throttle nor the per-address limit is what stops it.
    answers = [token_login(client, "pingcheng", "wrong", f"10.0.1.{i}").status_code for i in range(1, 31)]
    limit = settings.LOGIN_FAILURE_LIMIT
    assert answers[: limit - 1] == [400] * (limit - 1)
    assert set(answers[limit - 1 :]) == {429}
    right = token_login(client, "pingcheng", settings.DEMO_PASSWORD, "10.0.2.1")
    assert right.status_code == 429
    assert right["Content-Type"] == "application/json"
    assert "登录失败次数过多" in right.json()["detail"] and "token" not in right.json()
    assert int(right["Retry-After"]) == settings.LOGIN_LOCKOUT_MINUTES * 60


def test_many_names_from_one_address_lock_that_address(client):
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        assert page_login(client, f"guess{i}", "x", address="10.0.3.3").status_code in (200, 429)
    # The right password of a real user from that address is refused, from elsewhere it works.
    assert page_login(client, "bureau", settings.DEMO_PASSWORD, address="10.0.3.3").status_code == 429
    assert page_login(client, "bureau", settings.DEMO_PASSWORD, address="10.0.3.4").status_code == 302


def test_forged_forwarded_for_does_not_dodge_the_address_lock(client):
    """Without a trusted proxy X-Forwarded-For is the client's own text and is ignored."""
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": f"guess{i}", "password": "x"},
            REMOTE_ADDR="10.0.4.4",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    response = client.post(
        LOGIN,
        {"username": "bureau", "password": settings.DEMO_PASSWORD},
        REMOTE_ADDR="10.0.4.4",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429


def test_client_address_behind_a_trusted_proxy(rf):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "127.0.0.1"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        # nginx appended the address it saw; what the client typed before it is not believed.
        assert client_ip(request) == "203.0.113.7"
        assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="junk")) == "127.0.0.1"


def test_the_lock_ends_after_the_lockout_time(client):
    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        page_login(client, "yunzhou", "wrong")
    assert page_login(client, "yunzhou", settings.DEMO_PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME)
    assert page_login(client, "yunzhou", settings.DEMO_PASSWORD).status_code == 302


def test_token_endpoint_is_throttled_per_address(client):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"].split("/")[0])
    # Unknown names: no user is locked, and the address stays under its own lockout limit.
    assert rate < settings.LOGIN_ADDRESS_FAILURE_LIMIT
    answers = [token_login(client, f"nobody{i}", "x", "10.0.5.5").status_code for i in range(rate + 1)]
    assert answers == [400] * rate + [429]
    throttled = token_login(client, "pingcheng", settings.DEMO_PASSWORD, "10.0.5.5")
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith("请求过于频繁") and int(throttled["Retry-After"]) >= 1
    # Another address is not throttled.
    assert token_login(client, "pingcheng", settings.DEMO_PASSWORD, "10.0.5.6").status_code == 200


def lock_out(client, username):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        page_login(client, username, "wrong")
    assert page_login(client, username, settings.DEMO_PASSWORD).status_code == 429


def test_city_admin_sees_the_lock_and_unlocks_it(client, client_for):
    lock_out(client, "pingcheng")
    admin = client_for("city_admin")
    page = admin.get(reverse("accounts:audit"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="lockout-row"' in html and "pingcheng" in html
    response = admin.post(reverse("accounts:unlock"), {"kind": "username", "value": "pingcheng"}, follow=True)
    assert "已解除用户名“pingcheng”的登录锁定" in response.content.decode()
    admin.logout()
    assert page_login(client, "pingcheng", settings.DEMO_PASSWORD).status_code == 302


def test_unlocking_an_address(client, client_for):
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        page_login(client, f"guess{i}", "x", address="10.0.6.6")
    assert page_login(client, "bureau", settings.DEMO_PASSWORD, address="10.0.6.6").status_code == 429
    admin = client_for("city_admin")
    assert "10.0.6.6" in admin.get(reverse("accounts:audit")).content.decode()
    admin.post(reverse("accounts:unlock"), {"kind": "ip_address", "value": "10.0.6.6"})
    bad = admin.post(reverse("accounts:unlock"), {"kind": "ip_address", "value": "not-an-ip"}, follow=True)
    assert "不是有效的 IP 地址" in bad.content.decode()
    admin.logout()
    assert page_login(client, "bureau", settings.DEMO_PASSWORD, address="10.0.6.6").status_code == 302


@pytest.mark.parametrize("username", ["pingcheng", "bureau", "auditor"])
def test_only_the_city_admin_reads_the_audit_or_unlocks(client, client_for, username):
    lock_out(client, "yunzhou")
    other = client_for(username)
    page = other.get(reverse("accounts:audit"))
    assert page.status_code == 403 and "只有市级管理员可以查看登录审计" in page.content.decode()
    refused = other.post(reverse("accounts:unlock"), {"kind": "username", "value": "yunzhou"})
    assert refused.status_code == 403
    other.logout()
    assert page_login(client, "yunzhou", settings.DEMO_PASSWORD).status_code == 429


def test_anonymous_cannot_read_the_audit(client):
    response = client.get(reverse("accounts:audit"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_locked_attempts_are_audited_as_locked(client):
    lock_out(client, "pingcheng")
    outcomes = list(
        LoginEvent.objects.filter(username="pingcheng").order_by("id").values_list("outcome", flat=True)
    )
    limit = settings.LOGIN_FAILURE_LIMIT
    assert outcomes == [LoginOutcome.FAILURE] * (limit - 1) + [LoginOutcome.LOCKED] * 2
