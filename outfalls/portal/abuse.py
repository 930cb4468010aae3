"""Limits against floods of reports, without any external service (docs/portal.md, "Abuse"):

- who: a digest of the client address (core.security.client_ip, which believes X-Forwarded-For only through
  TRUSTED_PROXY_COUNT proxies) and of a device cookie set by the form;
- after ``PORTAL_REPORT_CHALLENGE_AFTER`` reports within the hour from the same address or device, the form
  asks a small sum (signed in the form, valid 10 minutes) before it accepts another;
- beyond ``PORTAL_REPORT_LIMIT_PER_HOUR`` (address) / ``PORTAL_REPORT_LIMIT_PER_DEVICE`` (device) within the
  hour, reports are refused (429) with the hotline to call instead.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from outfalls.core.security import client_ip

from .models import Report

DEVICE_COOKIE = "portal_device"
CHALLENGE_SALT = "portal.report.challenge"
CHALLENGE_MAX_AGE = 600


def _digest(kind, value):
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def client_key(request):
    return _digest("ip", client_ip(request) or "")


def device_id(request):
    """The device cookie's value (a random id, signed), or a new one for the response to set."""
    try:
        return request.get_signed_cookie(DEVICE_COOKIE, salt=DEVICE_COOKIE)
    except (KeyError, signing.BadSignature):
        return secrets.token_urlsafe(16)


def device_key(request):
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, salt=DEVICE_COOKIE)
    except (KeyError, signing.BadSignature):
        return ""
    return _digest("device", value)


def recent_counts(client, device):
    since = timezone.now() - timedelta(hours=1)
    recent = Report.objects.filter(created_at__gte=since)
    by_client = recent.filter(client_key=client).count()
    by_device = recent.filter(device_key=device).count() if device else 0
    return by_client, by_device


def over_limit(client, device):
    by_client, by_device = recent_counts(client, device)
    return by_client >= settings.PORTAL_REPORT_LIMIT_PER_HOUR or (
        device and by_device >= settings.PORTAL_REPORT_LIMIT_PER_DEVICE
    )


def needs_challenge(client, device):
    by_client, by_device = recent_counts(client, device)
    return max(by_client, by_device) >= settings.PORTAL_REPORT_CHALLENGE_AFTER


def new_challenge():
    """(question text, signed token holding the answer)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    return f"{a} + {b} = ?", signing.dumps(
        {"answer": a + b, "nonce": secrets.token_hex(4)}, salt=CHALLENGE_SALT
    )


def challenge_passed(token, answer):
    try:
        data = signing.loads(token or "", salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:
        return False
    return str(answer or "").strip() == str(data.get("answer"))
