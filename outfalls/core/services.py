"""Core workflow helpers: status-change rows, attachments, API tokens, passwords and login unlocks."""

import secrets
from datetime import timedelta
from pathlib import Path

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.utils import timezone

from .choices import PHOTO_KINDS
from .models import ApiToken, Attachment, StatusChange, token_digest, user_display
from .photos import read_exif
from .scopes import scope_of

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
DOCUMENT_SUFFIXES = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".csv", ".txt", ".zip", ".ofd"}


def record_status_change(obj, *, user, from_value, to_value, reason="", field="status"):
    return StatusChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        field=field,
        from_value=from_value or "",
        to_value=to_value,
        reason=reason,
        changed_by=user if user is not None and user.is_authenticated else None,
    )


def status_changes_for(obj):
    return StatusChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("changed_by")


def labelled_status_changes(obj, *choices):
    """The object's status-change rows, newest first, each with Chinese labels for its stored values (from the
    given TextChoices: from_label, to_label) and the name of who made it (who)."""
    labels = {}
    for enum in choices:
        labels.update(enum.choices)
    rows = list(status_changes_for(obj))
    for row in rows:
        row.from_label = labels.get(row.from_value, row.from_value) or "—"
        row.to_label = labels.get(row.to_value, row.to_value)
        row.who = user_display(row.changed_by)
    return rows


def attachments_for(obj):
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("uploaded_by")


def validate_upload(upload, kind):
    """Chinese messages naming what is wrong with an uploaded file."""
    suffix = Path(upload.name).suffix.lower()
    allowed = PHOTO_SUFFIXES if kind in PHOTO_KINDS else PHOTO_SUFFIXES | DOCUMENT_SUFFIXES
    if suffix not in allowed:
        raise ValidationError(
            {
                "file": f"文件“{upload.name}”的类型 {suffix or '（无扩展名）'} 不允许，允许：{'、'.join(sorted(allowed))}。"
            }
        )
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        limit_mb = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": f"文件“{upload.name}”超过 {limit_mb} MB 上限。"})
    if suffix in PHOTO_SUFFIXES:
        head = upload.read(12)
        upload.seek(0)
        if not (
            head.startswith(b"\xff\xd8\xff")
            or head.startswith(b"\x89PNG")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        ):
            raise ValidationError({"file": f"文件“{upload.name}”不是有效的图片。"})


def add_attachment(obj, upload, *, user, kind, title=""):
    validate_upload(upload, kind)
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        title=title,
        file=upload,
        size=upload.size,
        uploaded_by=user if user is not None and user.is_authenticated else None,
    )


def add_photo(obj, upload, *, user, kind):
    """add_attachment (type and size validated) plus the photo's EXIF time and position."""
    if kind not in PHOTO_KINDS:
        raise ValidationError({"photos": "照片类型无效。"})
    taken_at, lon, lat = read_exif(upload, default_tz=timezone.get_default_timezone())
    attachment = add_attachment(obj, upload, user=user, kind=kind, title=upload.name[:100])
    if taken_at is not None or lon is not None:
        attachment.taken_at = taken_at
        attachment.exif_lon = lon
        attachment.exif_lat = lat
        attachment.save(update_fields=["taken_at", "exif_lon", "exif_lat"])
    return attachment


def copy_attachments(source, target, *, note=""):
    """Share source's attachments with target (the same stored files, new rows): a report's photos as a field
    point's or a case's evidence. note is appended to each title, in full-width brackets (e.g. where from)."""
    target_type = ContentType.objects.get_for_model(target)
    copied = []
    for attachment in attachments_for(source):
        copied.append(
            Attachment.objects.create(
                content_type=target_type,
                object_id=target.pk,
                kind=attachment.kind,
                title=(f"{attachment.title}（{note}）" if note else attachment.title)[:200],
                file=attachment.file.name,
                size=attachment.size,
                taken_at=attachment.taken_at,
                exif_lon=attachment.exif_lon,
                exif_lat=attachment.exif_lat,
                uploaded_by=attachment.uploaded_by,
            )
        )
    return copied


# API tokens --------------------------------------------------------------------------------------------------
def issue_token(user, *, name="", lifetime=None):
    """A new API token for `user`: returns (ApiToken, key). The key is shown once and stored only as a digest.

    It lasts `lifetime` (a timedelta; API_TOKEN_LIFETIME_DAYS by default). Beyond API_TOKEN_MAX_PER_USER active
    tokens, the user's oldest are revoked. Tests and scripts get a token with
    ``token, key = issue_token(user, name="test")`` and send ``Authorization: Token <key>``.
    """
    now = timezone.now()
    lifetime = lifetime if lifetime is not None else timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:64],
            digest=token_digest(key),
            prefix=key[:6],
            expires_at=now + lifetime,
        )
        surplus = ApiToken.objects.active(now).filter(user=user).order_by("-created_at", "-id")
        surplus = list(surplus.values_list("pk", flat=True)[settings.API_TOKEN_MAX_PER_USER :])
        if surplus:
            ApiToken.objects.filter(pk__in=surplus).update(revoked_at=now)
    return token, key


def revoke_token(token, *, by):
    """Revoke one of `by`'s own tokens (others' are not found: 404 in views)."""
    if not ApiToken.objects.editable_by(by).filter(pk=token.pk).exists():
        raise PermissionDenied("只能撤销自己的令牌。")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=token.revoked_at)
    return token


def revoke_tokens(tokens):
    """Revoke the active tokens of a queryset (the admin's action, a password change); returns how many."""
    return tokens.active().update(revoked_at=timezone.now())


def revoke_all_tokens(user):
    return revoke_tokens(ApiToken.objects.filter(user=user))


def change_password(user, new_password):
    """Set a new (already validated) password and revoke the user's API tokens: whoever knew the old password
    may have made one. The caller keeps the current session (update_session_auth_hash)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        return revoke_all_tokens(user)


# Login lockout ------------------------------------------------------------------------------------------------
def unlock_login(*, by, username=None, ip_address=None):
    """Clear the failed-login counters of a user name or an address (the city admin only); returns how many
    counter rows went."""
    if not scope_of(by).can_audit_logins:
        raise PermissionDenied("只有市级管理员可以解除登录锁定。")
    if not username and not ip_address:
        raise ValidationError("请指定要解除锁定的用户名或来源地址。")
    if ip_address:
        try:
            validate_ipv46_address(ip_address)
        except ValidationError:
            raise ValidationError(f"来源地址“{ip_address}”不是有效的 IP 地址。") from None
    attempts = AccessAttempt.objects.all()
    attempts = attempts.filter(username=username) if username else attempts.filter(ip_address=ip_address)
    deleted, _ = attempts.delete()
    return deleted
