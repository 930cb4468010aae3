"""Photo metadata: the time and GPS position a camera or phone wrote into a JPEG's EXIF (Pillow, no Django).

``read_exif(fileobj) -> (taken_at, lon, lat)``; any part that is missing or unreadable is None. The time is
``DateTimeOriginal`` (else ``DateTime``); with ``OffsetTimeOriginal`` it is returned time-zone aware, else
naive (phones write local time) unless ``default_tz`` is given. Positions are WGS84 as GPS receivers write
them (equal to CGCS2000 at this scale).
"""

import datetime as dt
import re

from PIL import Image, UnidentifiedImageError

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def _rational(value):
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator)
        return value[0] / value[1] if value[1] else None
    return float(value)


def _degrees(parts, ref):
    try:
        d, m, s = (_rational(p) for p in parts)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if d is None or m is None or s is None:
        return None
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if str(ref or "").strip().upper() in ("S", "W"):
        value = -value
    return round(value, 7)


def _time(text, offset, default_tz):
    if isinstance(text, bytes):
        text = text.decode("ascii", "ignore")
    text = str(text or "").strip().rstrip("\x00")
    try:
        value = dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    match = _OFFSET.match(str(offset or "").strip().rstrip("\x00"))
    if match:
        sign = -1 if match[1] == "-" else 1
        minutes = sign * (int(match[2]) * 60 + int(match[3]))
        return value.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    if default_tz is not None:
        return value.replace(tzinfo=default_tz)
    return value


def read_exif(fileobj, default_tz=None):
    """(taken_at, lon, lat) from an image file object; the file position is put back where it was."""
    start = fileobj.tell() if hasattr(fileobj, "tell") else 0
    try:
        with Image.open(fileobj) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError):
        return None, None, None
    finally:
        if hasattr(fileobj, "seek"):
            fileobj.seek(start)
    details = exif.get_ifd(EXIF_IFD)
    taken_at = _time(
        details.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME),
        details.get(TAG_OFFSET_TIME_ORIGINAL),
        default_tz,
    )
    gps = exif.get_ifd(GPS_IFD)
    lon = lat = None
    if gps.get(GPS_LAT) and gps.get(GPS_LON):
        lat = _degrees(gps[GPS_LAT], gps.get(GPS_LAT_REF))
        lon = _degrees(gps[GPS_LON], gps.get(GPS_LON_REF))
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            lon = lat = None
    return taken_at, lon, lat
