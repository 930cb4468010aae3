"""API token authentication against core.ApiToken (expiring, revocable, stored as a digest).

``Authorization: Token <key>`` for the REST API and the OGC API; ``Authorization: Bearer <key>`` for clients
that only know that form (GDAL's OAPIF driver).
"""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, token_digest

# last_used_at is written at most this often per token, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def user_for_token(key):
    """(user, token) for an active token of an active user; AuthenticationFailed (Chinese) otherwise."""
    now = timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
    if token is None or token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("令牌无效或已撤销。")
    if token.expires_at <= now:
        raise exceptions.AuthenticationFailed("令牌已过期，请重新获取。")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("该用户已停用。")
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's header parsing (``Token <key>``), our tokens."""

    def authenticate_credentials(self, key):
        return user_for_token(key)


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"
