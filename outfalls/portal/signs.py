"""Sign boards (标识牌), the workflow side: what a sign says (``sign_fields``, the arguments of
``signboard.SignContent``), the record of each generated file (``record_generated``), and the county's
confirmation that a sign is installed, with its photo, which sets the ledger's 标识牌 field through
``registry.services.set_sign_installed``. Drawing the PDF is ``portal/signboard.py`` (another branch)."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from outfalls.core.choices import AttachmentKind, JurisdictionLevel
from outfalls.core.models import Attachment, Jurisdiction
from outfalls.registry import services as registry_services
from outfalls.registry.models import Outfall

from .choices import SignEventKind, SignSize
from .models import SignEvent
from .photos import clean_photo


def public_url(outfall):
    """The outfall's public page as an absolute address (PORTAL_BASE_URL), the sign's QR code."""
    return settings.PORTAL_BASE_URL + reverse("portal:outfall", args=[outfall.code])


def sign_fields(outfall):
    """The texts of the outfall's sign, as keyword arguments of signboard.SignContent: only public fields
    (registry/disclosure.py), the supervising bureau and the 举报 hotline."""
    city = Jurisdiction.objects.filter(level=JurisdictionLevel.CITY).only("name").first()
    entity = outfall.responsible_entity.name if outfall.responsible_entity_id else ""
    return {
        "name": outfall.name,
        "code": outfall.national_code or outfall.code,
        "type_label": outfall.type_label,
        "entity": entity,
        "pollutants": "",
        "supervisor": f"{city.name if city else ''}生态环境局{outfall.county.name}分局",
        "phone": settings.PORTAL_HOTLINE,
        "url": public_url(outfall),
    }


def record_generated(outfalls, *, user, size):
    """One record per outfall whose sign file was generated (the per-outfall and batch downloads call it)."""
    SignSize(size)
    return SignEvent.objects.bulk_create(
        SignEvent(outfall=o, kind=SignEventKind.GENERATED, size=size, by=user) for o in outfalls
    )


@transaction.atomic
def confirm_installed(outfall, *, user, photo, note=""):
    """The county (or the city bureau) confirms the sign is installed, with a photo of it on site: a record
    with the photo (re-encoded like every public upload), and the ledger's 标识牌 field set."""
    if not Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists():
        raise PermissionDenied("该排污口不在您的管辖范围内。")
    if photo is None:
        raise ValidationError({"photo": "请上传标识牌安装后的现场照片。"})
    content, lon, lat = clean_photo(photo, 1)
    event = SignEvent.objects.create(
        outfall=outfall, kind=SignEventKind.INSTALLED, note=(note or "")[:200], by=user
    )
    Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(SignEvent),
        object_id=event.pk,
        kind=AttachmentKind.PHOTO_AFTER,
        title="标识牌安装照片",
        file=content,
        size=content.size,
        exif_lon=lon,
        exif_lat=lat,
        uploaded_by=user,
    )
    registry_services.set_sign_installed(
        outfall, user=user, installed=True, reason=note or "确认标识牌已安装（附照片）"
    )
    return event
