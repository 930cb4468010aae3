"""The recipes of docs/ogcapi.md, run with the real clients against a live server: GDAL's command-line tools
(Debian's gdal-bin, GDAL 3.6 on bookworm: the version whose Bearer recipe failed) and OWSLib.

GDAL runs in a child process (the live server is a thread of this one). scripts/run-tests.sh installs
gdal-bin when it is missing (scripts/ensure-gdal.sh); without it this test fails, it is never skipped.
"""

import os
import shutil
import subprocess
from urllib.parse import unquote

import pyogrio
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from outfalls.core.services import issue_token
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall

from .test_ogcapi import COLLECTION_IDS, PINGCHENG


def gdal(tool, *args, options=()):
    """Run ogrinfo/ogr2ogr with GDAL config options; (exit code, stdout + stderr)."""
    path = shutil.which(tool)
    assert path, f"{tool} missing: run scripts/ensure-gdal.sh (Debian's gdal-bin)"
    command = [path]
    for name, value in options:
        command += ["--config", name, value]
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"},
    )
    return done.returncode, done.stdout + done.stderr


def basic(username, password=None):
    return (
        ("GDAL_HTTP_AUTH", "BASIC"),
        ("GDAL_HTTP_USERPWD", f"{username}:{password or settings.DEMO_PASSWORD}"),
    )


def feature_count(output):
    line = next(line for line in output.splitlines() if line.startswith("Feature Count:"))
    return int(line.split(":")[1])


@pytest.mark.django_db(transaction=True)
def test_gdal_and_owslib_recipes(demo_db, live_server, tmp_path):
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    source = f"OAPIF:{live_server.url}/ogcapi/"
    pingcheng = Outfall.objects.filter(county__code=PINGCHENG)

    # Anonymous: every collection is listed (the public view).
    code, out = gdal("ogrinfo", "-ro", "-q", source)
    assert code == 0, out
    assert [
        line.split(": ", 1)[1].split(" ")[0] for line in out.splitlines() if ": " in line
    ] == COLLECTION_IDS

    # User name and password (HTTP Basic): the county officer's scope, every field.
    code, out = gdal("ogrinfo", "-ro", "-so", source, "outfalls", options=basic("pingcheng"))
    assert code == 0, out
    assert feature_count(out) == pingcheng.count() and "entity: String" in out

    # A where clause on the values shown goes to the server as query parameters (GDAL's debug output
    # shows the URL) and selects the same rows as the database.
    where = "county='平城区' AND status='保留' AND type_code='YH'"
    code, out = gdal(
        "ogrinfo", "-ro", "--debug", "on", source, "outfalls", "-where", where, options=basic("bureau")
    )
    assert code == 0, out
    fetched = [unquote(line) for line in out.splitlines() if "Fetch(" in line and "/items?" in line]
    assert any(
        "county=平城区" in url and "status=保留" in url and "type_code=YH" in url for url in fetched
    ), fetched
    expected = pingcheng.filter(status=LifecycleStatus.KEPT, type_code="YH").count()
    assert 0 < out.count("OGRFeature(outfalls)") == expected

    # An unknown value is the server's 400, with its Chinese reason.
    code, out = gdal(
        "ogrinfo", "-ro", "-q", source, "outfalls", "-where", "county='不存在区'", options=basic("bureau")
    )
    assert "HTTP error code : 400" in out and "不存在区" in out

    # A wrong password is a 401: GDAL cannot open the service (and the lockout counted it).
    code, out = gdal("ogrinfo", "-ro", "-so", source, "outfalls", options=basic("bureau", "wrong"))
    assert code != 0 and "401" in out

    # A token in a header (GDAL 3.6 has no GDAL_HTTP_AUTH=BEARER; GDAL_HTTP_HEADERS works).
    users = get_user_model().objects
    _, key = issue_token(users.get(username="bureau"))
    code, out = gdal(
        "ogrinfo",
        "-ro",
        "-so",
        source,
        "outfalls",
        options=[("GDAL_HTTP_HEADERS", f"Authorization: Token {key}")],
    )
    assert code == 0 and feature_count(out) == Outfall.objects.count(), out

    # ogr2ogr to a GeoPackage: the county's chain lines, and its outfalls with the approval date as a date.
    target = tmp_path / "pingcheng.gpkg"
    for layer, mode in (("outfalls", []), ("unit-chains", ["-update"])):
        code, out = gdal(
            "ogr2ogr", "-f", "GPKG", *mode, str(target), source, layer, options=basic("pingcheng")
        )
        assert code == 0, out
    info = pyogrio.read_info(target, layer="outfalls")
    assert info["features"] == pingcheng.count()
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["appr_date"] == "datetime64[D]"
    chains = pyogrio.read_info(target, layer="unit-chains")
    assert chains["features"] > 0 and chains["geometry_type"] == "LineString"

    # OWSLib with a user name and password (its Authentication), then with a token header.
    owslib = Features(f"{live_server.url}/ogcapi/", auth=Authentication("pingcheng", settings.DEMO_PASSWORD))
    page = owslib.collection_items("outfalls", county="平城区", limit=1)
    assert page["numberMatched"] == pingcheng.count()
    units = owslib.collection_items("discharge-units", limit=1)
    assert units["numberMatched"] > 0
    assert "county" in owslib.collection_queryables("outfalls")["properties"]
