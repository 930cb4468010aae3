"""read_exif: the time and GPS position a phone writes into a JPEG, read back with Pillow."""

import datetime as dt
import io

from PIL import Image

from outfalls.core.photos import EXIF_IFD, GPS_IFD, read_exif


def _dms(value):
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg_with_exif(taken="2023:04:10 09:15:30", lon=113.312345, lat=40.090123, offset=None, size=(32, 24)):
    """A small JPEG with DateTimeOriginal and GPS tags (as a phone camera writes them)."""
    image = Image.new("RGB", size, (90, 120, 150))
    exif = Image.Exif()
    if taken:
        exif.get_ifd(EXIF_IFD)[0x9003] = taken
        if offset:
            exif.get_ifd(EXIF_IFD)[0x9011] = offset
    if lon is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(abs(lat))
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(abs(lon))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    buffer.seek(0)
    return buffer


def test_time_and_position_read_back():
    taken_at, lon, lat = read_exif(jpeg_with_exif())
    assert taken_at == dt.datetime(2023, 4, 10, 9, 15, 30)
    assert abs(lon - 113.312345) < 1e-6
    assert abs(lat - 40.090123) < 1e-6


def test_offset_and_default_zone_make_aware_times():
    taken_at, _, _ = read_exif(jpeg_with_exif(offset="+08:00"))
    assert taken_at.utcoffset() == dt.timedelta(hours=8)
    zone = dt.timezone(dt.timedelta(hours=8))
    taken_at, _, _ = read_exif(jpeg_with_exif(), default_tz=zone)
    assert taken_at.tzinfo is zone and taken_at.hour == 9


def test_southern_and_western_hemispheres_are_negative():
    _, lon, lat = read_exif(jpeg_with_exif(lon=-70.5, lat=-33.25))
    assert abs(lon + 70.5) < 1e-6 and abs(lat + 33.25) < 1e-6


def test_missing_tags_and_non_images_give_none_and_keep_position():
    assert read_exif(jpeg_with_exif(taken=None, lon=None)) == (None, None, None)
    not_an_image = io.BytesIO(b"not an image at all")
    not_an_image.seek(4)
    assert read_exif(not_an_image) == (None, None, None)
    assert not_an_image.tell() == 4
