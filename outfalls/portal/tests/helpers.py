"""Building reports for the tests: photos (with or without a GPS position in EXIF) and form data."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from outfalls.registry.disclosure import public_outfalls


def jpeg(name="photo.jpg", gps=None, size=(64, 48)):
    """A small JPEG; gps=(lon, lat) writes a GPS position (and a camera make) into its EXIF."""
    image = Image.new("RGB", size, (90, 120, 60))
    exif = Image.Exif()
    if gps is not None:
        lon, lat = gps

        def dms(value):
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60 * 100)
            return (float(d), float(m), s / 100)

        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes() if gps is not None else b"")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def public_outfall(**filters):
    return public_outfalls().filter(**filters).select_related("county").order_by("code").first()


def form_data(outfall=None, *, lon=None, lat=None, **extra):
    """Form fields of a valid report placed at the outfall (about it) or at lon/lat."""
    data = {
        "category": "colour",
        "description": "河边排口在排黄色的水，有刺鼻气味。",
        "anonymous": "yes",
        "location_source": "map",
    }
    if outfall is not None:
        data.update(lon=f"{outfall.lon + 0.0001:.6f}", lat=f"{outfall.lat:.6f}", outfall_code=outfall.code)
    if lon is not None:
        data.update(lon=f"{lon:.6f}", lat=f"{lat:.6f}")
    data.update(extra)
    return data
