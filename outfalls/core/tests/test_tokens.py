"""API tokens: a new one per login, an expiry, stored as a digest, listed and revoked on the 账户 page."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from outfalls.core.models import ApiToken, LoginEvent, token_digest
from outfalls.core.services import issue_token

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
OUTFALLS = "/api/v1/outfalls/"


def get_token(client, username="pingcheng", **extra):
    response = client.post(TOKEN, {"username": username, "password": settings.DEMO_PASSWORD, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def api_get(client, key, url=OUTFALLS):
    return client.get(url, {"page_size": 1}, HTTP_AUTHORIZATION=f"Token {key}")


def test_every_login_issues_a_new_token_that_expires(client):
    before = timezone.now()
    first, second = get_token(client), get_token(client, name="脚本")
    assert first["token"] != second["token"]
    assert api_get(client, first["token"]).status_code == 200
    assert api_get(client, second["token"]).status_code == 200
    token = ApiToken.objects.get(digest=token_digest(second["token"]))
    assert token.name == "脚本" and token.user.username == "pingcheng"
    lifetime = timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    assert before + lifetime <= token.expires_at <= timezone.now() + lifetime
    assert second["expires"].startswith(
        token.expires_at.astimezone(timezone.get_current_timezone()).date().isoformat()
    )


def test_the_key_is_not_stored(client):
    key = get_token(client)["token"]
    stored = ApiToken.objects.values_list("digest", "prefix")
    assert all(key not in digest for digest, _ in stored)
    assert ApiToken.objects.filter(digest=token_digest(key), prefix=key[:6]).count() == 1


def test_an_expired_token_is_refused(client, demo_user):
    token, key = issue_token(demo_user("pingcheng"))
    assert api_get(client, key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_get(client, key)
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已过期，请重新获取。"


def test_a_token_of_a_deactivated_user_is_refused(client, demo_user):
    user = demo_user("pingcheng")
    _, key = issue_token(user)
    user.is_active = False
    user.save()
    assert api_get(client, key).status_code == 401


def test_last_use_is_recorded(client, demo_user):
    token, key = issue_token(demo_user("bureau"))
    assert token.last_used_at is None
    api_get(client, key)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_user_lists_and_revokes_their_own_tokens(client, client_for, demo_user):
    mine, key = issue_token(demo_user("pingcheng"), name="QGIS 办公室")
    theirs, their_key = issue_token(demo_user("yunzhou"), name="云州脚本")
    old, _ = issue_token(demo_user("pingcheng"), name="已撤销的")
    old.revoked_at = timezone.now()
    old.save()
    browser = client_for("pingcheng")
    page = browser.get(reverse("accounts:home")).content.decode()
    assert "QGIS 办公室" in page and f"{mine.prefix}…" in page
    assert "云州脚本" not in page and "已撤销的" not in page
    # Someone else's token is not found, and keeps working.
    assert browser.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    response = browser.post(reverse("accounts:token_revoke", args=[mine.pk]), follow=True)
    assert (
        "已撤销" in response.content.decode()
        and "QGIS 办公室"
        not in response.content.decode().split('data-testid="token-table"')[1].split("</table>")[0]
    )
    browser.logout()
    refused = api_get(client, key)
    assert refused.status_code == 401 and refused.json()["detail"] == "令牌无效或已撤销。"
    assert api_get(client, their_key).status_code == 200


def test_a_token_made_on_the_account_page_is_shown_once(client_for):
    browser = client_for("bureau")
    response = browser.post(reverse("accounts:token_create"), {"name": "QGIS"})
    assert response.status_code == 200
    html = response.content.decode()
    key = html.split('data-testid="new-token-key">')[1].split("</code>")[0]
    token = ApiToken.objects.get(digest=token_digest(key))
    assert token.name == "QGIS" and token.user.username == "bureau"
    assert api_get(browser, key).status_code == 200
    # Not on the next view of the page.
    assert key not in browser.get(reverse("accounts:home")).content.decode()
    # A name is required, and the message is Chinese.
    missing = browser.post(reverse("accounts:token_create"), {"name": ""})
    assert missing.status_code == 400 and "该字段是必填项" in missing.content.decode()


def test_logging_out_of_the_site_keeps_api_tokens(client, client_for):
    """A documented choice: tokens serve scripts and QGIS independently of the browser's session."""
    key = get_token(client)["token"]
    browser = client_for("pingcheng")
    browser.post(reverse("logout"))
    assert api_get(client, key).status_code == 200


def test_too_many_tokens_revoke_the_oldest(demo_user, settings):
    settings.API_TOKEN_MAX_PER_USER = 3
    user = demo_user("auditor")
    tokens = [issue_token(user, name=f"t{i}")[0] for i in range(5)]
    active = set(ApiToken.objects.active().filter(user=user).values_list("name", flat=True))
    assert active == {"t2", "t3", "t4"}
    assert all(t.is_active is False for t in ApiToken.objects.filter(pk__in=[tokens[0].pk, tokens[1].pk]))


def test_token_login_is_audited(client):
    get_token(client, "river_chief")
    event = LoginEvent.objects.filter(username="river_chief").latest("id")
    assert (event.channel, event.outcome, event.ip_address) == ("api", "success", "127.0.0.1")
    assert event.user.last_login is not None


def test_wrong_password_is_a_chinese_400_without_a_token(client):
    response = client.post(TOKEN, {"username": "pingcheng", "password": "wrong"})
    assert response.status_code == 400 and response.json() == {"detail": "用户名或密码不正确。"}
    assert not ApiToken.objects.filter(user__username="pingcheng").exists()


def test_missing_fields_are_a_400_in_the_same_shape(client):
    response = client.post(TOKEN, {"username": "pingcheng"}, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"detail": "密码：该字段是必填项。"}


def test_bearer_form_works_on_the_ogc_api(client, demo_user):
    _, key = issue_token(demo_user("pingcheng"))
    url = "/ogcapi/collections/outfalls/items?limit=1&f=json"
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}").json()["numberMatched"] > 0
    assert client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_the_schema_documents_the_token_endpoint(client_for):
    schema = client_for("bureau").get("/api/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert {"200", "400", "429"} <= set(post["responses"])
    assert "TokenAuth" in str(schema["components"].get("securitySchemes", {})) or "tokenAuth" in str(
        schema["components"].get("securitySchemes", {})
    )
