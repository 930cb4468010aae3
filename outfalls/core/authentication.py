"""API token authentication against core.ApiToken (expiring, revocable, stored as a digest).

``Authorization: Token <key>`` for the REST API and the OGC API; ``Authorization: Bearer <key>`` for clients
that only know that form (GDAL's OAPIF driver). The OGC API also takes ``Authorization: Basic`` (a user name
and password, for GIS clients that know nothing else): ``basic_credentials`` and ``user_for_password``.
"""

import base64
import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
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


# HTTP Basic (user name and password on every request) -------------------------------------------------------
class Locked(exceptions.AuthenticationFailed):
    """The name or address is locked out (django-axes); its middleware answers 429 for the request."""


BASIC_REMEMBER_SECONDS = 300


def basic_credentials(request):
    """(username, password) from an ``Authorization: Basic`` header; None without one.

    An unreadable header is AuthenticationFailed (Chinese). The pair is base64 of ``name:password`` in UTF-8
    (RFC 7617), as GDAL, QGIS, ArcGIS and OWSLib send it.
    """
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if not parts or parts[0].lower() != "basic":
        return None
    try:
        if len(parts) != 2:
            raise ValueError
        username, sep, password = base64.b64decode(parts[1], validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed("Basic 认证信息格式不正确（应为“用户名:密码”的 Base64 编码）。")
    if not sep or not username:
        raise exceptions.AuthenticationFailed("Basic 认证信息格式不正确（应为“用户名:密码”的 Base64 编码）。")
    return username, password


def user_for_password(request, username, password):
    """The active user with these credentials; AuthenticationFailed (or Locked) otherwise.

    Checked by Django's ``authenticate()``, so django-axes counts a failure as it counts a wrong password on
    the login page (per name and per address, core/security.py), refuses a locked-out name or address, and
    the login audit records it. A success is remembered for BASIC_REMEMBER_SECONDS under a keyed digest of
    the pair, together with the user's stored password hash: a GIS client that sends the password with
    every request costs one password hash, not one per page, and a changed password or a deactivated user
    ends the remembered pair at once.
    """
    key = (
        "basic-auth:"
        + hmac.new(
            settings.SECRET_KEY.encode(), f"{username}\0{password}".encode(), hashlib.sha256
        ).hexdigest()
    )
    remembered = cache.get(key)
    if remembered:
        user_id, password_hash = remembered
        user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
        if user is not None and user.password == password_hash:
            return user
    user = authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise Locked("登录失败次数过多，已暂时锁定。")
        raise exceptions.AuthenticationFailed("用户名或密码不正确。")
    cache.set(key, (user.pk, user.password), BASIC_REMEMBER_SECONDS)
    return user
