"""Core workflow helpers: status-change rows and attachments."""

from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from .choices import PHOTO_KINDS
from .models import Attachment, StatusChange, user_display

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
