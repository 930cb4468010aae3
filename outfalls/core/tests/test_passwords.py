"""Password rules (length 10, not like the user's name, not all digits, three kinds of characters) and the
page where users change their own password."""

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.core.models import ApiToken
from outfalls.core.services import issue_token

pytestmark = pytest.mark.django_db


def refusal_codes(password, user):
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    return {error.code for error in caught.value.error_list}


@pytest.mark.parametrize(
    "password, code",
    [
        ("datong2023", "password_too_simple"),  # name and year: only small letters and digits
        ("Ab1!xyz", "password_too_short"),
        ("2023120119", "password_entirely_numeric"),
        ("Password123", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused(demo_user, password, code):
    assert code in refusal_codes(password, demo_user("pingcheng"))


@pytest.mark.parametrize("username", ["river_chief", "city_admin", "enterprise"])
def test_the_user_name_is_refused_as_a_password(demo_user, username):
    user = demo_user(username)
    assert "password_too_similar" in refusal_codes(username, user)
    assert "password_too_similar" in refusal_codes(username.capitalize() + "@1", user)


def test_the_demo_password_passes_for_every_demo_account(demo_user):
    for username in DEMO_USERS:
        validate_password(settings.DEMO_PASSWORD, demo_user(username))


def test_a_password_that_passes_every_rule(demo_user):
    validate_password("Sanggan-He 2024", demo_user("yunzhou"))


def can_log_in(username, password):
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


def test_a_user_changes_their_own_password(client_for, demo_user):
    client = client_for("pingcheng")
    _, key = issue_token(demo_user("pingcheng"))
    response = client.post(
        reverse("accounts:password"),
        {
            "old_password": settings.DEMO_PASSWORD,
            "new_password1": "Yuhe#Bridge9",
            "new_password2": "Yuhe#Bridge9",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    html = response.content.decode()
    assert "密码已修改" in html and "1 个接口令牌已随之撤销" in html
    # Still signed in on this browser; the new password works, the old one no longer does.
    assert client.get(reverse("accounts:home")).status_code == 200
    assert can_log_in("pingcheng", "Yuhe#Bridge9") and not can_log_in("pingcheng", settings.DEMO_PASSWORD)
    assert not ApiToken.objects.filter(user__username="pingcheng", revoked_at__isnull=True).exists()
    assert client.get("/api/v1/outfalls/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_a_weak_new_password_is_refused_in_chinese_on_its_field(client_for):
    client = client_for("yunzhou")
    response = client.post(
        reverse("accounts:password"),
        {
            "old_password": settings.DEMO_PASSWORD,
            "new_password1": "datong2023",
            "new_password2": "datong2023",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="new_password2"' in html and "至少 3 类" in html
    assert can_log_in("yunzhou", settings.DEMO_PASSWORD)


def test_a_wrong_old_password_is_refused(client_for):
    client = client_for("yunzhou")
    response = client.post(
        reverse("accounts:password"),
        {"old_password": "not-mine", "new_password1": "Yuhe#Bridge9", "new_password2": "Yuhe#Bridge9"},
    )
    assert response.status_code == 400
    assert "旧密码不正确" in response.content.decode()
    assert can_log_in("yunzhou", settings.DEMO_PASSWORD)


def test_the_account_page_shows_name_roles_and_recent_logins(client, client_for):
    # A failed try on pingcheng's name shows on pingcheng's page, not on anyone else's.
    client.post("/accounts/login/", {"username": "pingcheng", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    page = client_for("pingcheng").get(reverse("accounts:home")).content.decode()
    assert "平城区" in page and "县区/分局" in page
    logins = page.split('data-testid="login-table"')[1].split("</table>")[0]
    assert "10.9.9.9" in logins and "失败" in logins and "成功" in logins
    other = client_for("yunzhou").get(reverse("accounts:home")).content.decode()
    assert "10.9.9.9" not in other
    assert 'data-testid="audit-link"' not in other


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_nav_links_to_the_account_page(client_for):
    html = client_for("bureau").get(reverse("registry:outfall_list")).content.decode()
    assert f'href="{reverse("accounts:home")}"' in html
