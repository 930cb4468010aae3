"""Bad GIS uploads answer with a Chinese message and leave nothing behind: a zip member failing its CRC, a
zip bomb, a file GDAL cannot read (whose message must not show server paths)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outfalls.geo import archives, gisio

from .test_gis_views import areas_zip, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def crc_broken(data):
    """The zip stored (not deflated) under plain names, with one byte of the .dbf changed: that member fails
    its CRC when read, although the archive's directory is intact."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr("areas" + info.filename[info.filename.rfind(".") :], source.read(info))
    raw = bytearray(buffer.getvalue())
    dbf = next(i for i in source.infolist() if i.filename.endswith(".dbf"))
    start = raw.find(source.read(dbf)[:64])
    raw[start + 40] ^= 0xFF
    return bytes(raw)


def uploads_left(media_root):
    folder = media_root / "gis-imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_member_failing_its_crc_is_a_message_and_leaves_no_folder(client_for, media_root):
    response = upload(client_for("bureau"), crc_broken(areas_zip()), "保护区.zip", "protected_areas")
    assert response.status_code == 400
    html = response.content.decode()
    assert "已损坏（校验失败或内容不完整）" in html and "保护区.zip" in html
    assert uploads_left(media_root) == []


def test_zip_bomb_is_refused_before_unpacking(client_for, media_root):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.geojson", b" " * 30_000_000)
    response = upload(client_for("bureau"), buffer.getvalue(), "a.zip", "protected_areas")
    assert response.status_code == 400 and "压缩比异常" in response.content.decode()
    assert uploads_left(media_root) == []


def test_gdal_messages_do_not_show_server_paths(client_for, media_root):
    response = upload(client_for("bureau"), b"not a kml", "保护区.kml", "protected_areas")
    assert response.status_code == 400
    message = response.context["form"].errors["file"][0]
    assert "保护区.kml" in message
    assert "/" not in message and str(media_root) not in message and "gisio-" not in message


def test_point_import_messages_do_not_show_server_paths(client_for):
    from outfalls.survey.models import Campaign

    campaign = Campaign.objects.filter(county__code="140213").order_by("pk").first()
    response = client_for("pingcheng").post(
        reverse("survey:point_import", args=[campaign.pk]),
        {"file": SimpleUploadedFile("航测点.kml", b"<kml><broken"), "crs": "cgcs2000", "source": "uav"},
    )
    html = response.content.decode()
    assert "航测点.kml" in html
    assert "/tmp/" not in html and "gisio-" not in html and "var/media" not in html


def test_without_paths_keeps_relative_words():
    text = "ERROR parsing kml /tmp/gisio-abc/upload.kml :syntax error; C:\\data\\x.shp; 1/2 km"
    assert gisio.without_paths(text, "a.kml") == "ERROR parsing kml a.kml :syntax error; a.kml; 1/2 km"


def test_read_member_turns_a_bad_crc_into_a_refusal(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(crc_broken(areas_zip())))
    dbf = next(i for i in archive.infolist() if i.filename.endswith(".dbf"))
    with pytest.raises(archives.ArchiveRefused, match="“areas.dbf”已损坏"):
        archives.read_member(archive, dbf, io.BytesIO(), "x.zip")
