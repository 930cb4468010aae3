"""A citizen's photos: checked (type, size, pixels) and re-encoded as plain JPEG with Pillow, so the stored file
carries no EXIF at all (no position, no device, no time) and no payload of the original. The position the
phone wrote is read first and kept, as data beside the photo for the handler, only when the reporter
consented; the file never carries it."""

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from outfalls.core.photos import read_exif

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before decoding
MAX_SIDE = 2560


def clean_photo(upload, number):
    """(ContentFile of a re-encoded JPEG, lon, lat from EXIF or None, None). Raises a Chinese ValidationError
    naming the photo (number counts from 1)."""
    name = f"第 {number} 张照片（{upload.name[:60]}）"
    limit = settings.PORTAL_PHOTO_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(f"{name}超过 {limit // (1024 * 1024)} MB，请压缩后再上传。")
    if upload.size == 0:
        raise ValidationError(f"{name}是空文件。")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(f"{name}不是可识别的图片，请上传 JPEG、PNG 或 WebP 照片。") from None
    if kind not in ALLOWED_FORMATS:
        raise ValidationError(f"{name}的格式 {kind} 不支持，请上传 JPEG、PNG 或 WebP 照片。")
    if width * height > MAX_PIXELS:
        raise ValidationError(f"{name}像素过多（{width}×{height}），请缩小后再上传。")
    _, lon, lat = read_exif(io.BytesIO(data))
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)  # keep what the reporter saw upright, then drop EXIF
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: none is written
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(f"{name}无法读取，请换一张照片。") from None
    return ContentFile(out.getvalue(), name=f"report-{number}.jpg"), lon, lat
