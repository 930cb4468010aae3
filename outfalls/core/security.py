"""Logins that resist guessing: the client's address, the lockout (django-axes), the password rule and the
login audit (core.LoginEvent).

django-axes counts failed logins in its AccessAttempt table; the platform decides here what counts as locked
(per user name and per client address, each with its own limit), what a locked-out client is told (Chinese,
JSON on the API), and records every login and failed login as a LoginEvent.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from .choices import LoginChannel, LoginOutcome


# The client's address ------------------------------------------------------------------------------------
def _valid_ip(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except (ValueError, AttributeError):
        return None


def client_ip(request):
    """The client's address: REMOTE_ADDR, or, with TRUSTED_PROXY_COUNT reverse proxies in front, the entry the
    outermost trusted proxy appended to X-Forwarded-For (entries left of it can be typed by the client)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count > 0 and forwarded:
        return _valid_ip(forwarded[-min(count, len(forwarded))]) or remote
    return remote


# Lockout ---------------------------------------------------------------------------------------------------
def recent_attempts():
    """axes' failure counters that still count (newer than the lockout time)."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def failure_counts(username, ip_address):
    """(failures of this user name, failures from this address) within the lockout time."""
    recent = recent_attempts()

    def total(**where):
        return recent.filter(**where).aggregate(n=Sum("failures_since_start"))["n"] or 0

    return (total(username=username) if username else 0, total(ip_address=ip_address) if ip_address else 0)


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler with two limits: LOGIN_FAILURE_LIMIT failures of one user name (from anywhere),
    or LOGIN_ADDRESS_FAILURE_LIMIT failures from one address (any names; an office behind one NAT address
    shares it, hence the higher limit)."""

    def get_failures(self, request, credentials=None):
        by_user, by_address = failure_counts(
            get_client_username(request, credentials), request.axes_ip_address
        )
        if by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_user, settings.LOGIN_FAILURE_LIMIT)
        return by_user


def lockout_message():
    return (
        f"登录失败次数过多，已暂时锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟。"
        "请稍后再试，或请市级管理员在“登录审计”页面解除锁定。"
    )


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets (axes' AXES_LOCKOUT_CALLABLE): 429 with a Chinese message, as JSON
    ``{"detail": ...}`` on the API, ``{"code", "description"}`` on the OGC API (HTTP Basic) and as the login
    page otherwise."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    elif request.path.startswith("/ogcapi/"):
        # The OGC API's error shape (maps/ogc.py): a GIS client logging in with HTTP Basic.
        body = {"code": "TooManyRequests", "description": message}
        response = JsonResponse(body, status=429, json_dumps_params={"ensure_ascii": False})
    else:
        username = get_client_username(request, credentials) or ""
        form = AuthenticationForm(request, initial={"username": username[:150]})
        context = {"form": form, "lockout_message": message, "next": request.POST.get("next", "")}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    return response


def current_lockouts():
    """User names and addresses locked out now: [{kind, value, failures, last}], newest first."""
    recent = recent_attempts()
    rows = []
    for field, label, limit in (
        ("username", "用户名", settings.LOGIN_FAILURE_LIMIT),
        ("ip_address", "来源地址", settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ):
        grouped = (
            recent.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
        )
        rows += [
            {"kind": field, "label": label, "value": g[field], "failures": g["failures"], "last": g["last"]}
            for g in grouped
        ]
    return sorted(rows, key=lambda row: row["last"], reverse=True)


# Passwords -------------------------------------------------------------------------------------------------
class CharacterClassesValidator:
    """At least `min_classes` of: capital letters, small letters, digits, other characters (symbols, Chinese).

    Rejects name-and-year passwords such as ``datong2023`` that pass the length rule."""

    CLASSES = (
        ("大写字母", lambda c: "A" <= c <= "Z"),
        ("小写字母", lambda c: "a" <= c <= "z"),
        ("数字", lambda c: "0" <= c <= "9"),
        ("符号或汉字", lambda c: not ("A" <= c <= "Z" or "a" <= c <= "z" or "0" <= c <= "9")),
    )

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = sum(1 for _, test in self.CLASSES if any(test(c) for c in password))
        if found < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        names = "、".join(name for name, _ in self.CLASSES)
        return f"密码须包含{names}中的至少 {self.min_classes} 类。"


# Login audit -----------------------------------------------------------------------------------------------
def login_channel(request):
    path = getattr(request, "path", "") or ""
    if path.startswith(reverse("admin:index")):
        return LoginChannel.ADMIN
    if path.startswith(("/api/", "/ogcapi/")):
        return LoginChannel.API
    return LoginChannel.WEB


def _client(request):
    if request is None:
        return {"ip_address": None, "user_agent": ""}
    return {
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
    }


def record_login(sender, request, user, **kwargs):
    """user_logged_in: a session login (page, admin) or a token issued at /api/v1/auth/token/."""
    from .models import LoginEvent

    LoginEvent.objects.create(
        username=user.get_username()[:150],
        user=user,
        channel=login_channel(request),
        outcome=LoginOutcome.SUCCESS,
        **_client(request),
    )


def record_login_failure(sender, credentials, request=None, **kwargs):
    """user_login_failed, after axes has counted it (its receiver was connected first): a wrong password, an
    unknown name, or any attempt while locked out."""
    from .models import LoginEvent

    User = get_user_model()
    username = str((credentials or {}).get(User.USERNAME_FIELD) or "")[:150]
    LoginEvent.objects.create(
        username=username,
        user=User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None,
        channel=login_channel(request),
        outcome=LoginOutcome.LOCKED if getattr(request, "axes_locked_out", False) else LoginOutcome.FAILURE,
        **_client(request),
    )
