"""docs/ogcapi.md's QGIS recipe run with QGIS itself (Debian's python3-qgis, QGIS 3.22 on bookworm: its
OGC API - Features provider, the one behind 添加 WFS / OGC API - Features 图层) against a live server.

QGIS runs in Debian's system Python in a child process (qgis_client.py); scripts/run-tests.sh installs
python3-qgis when it is missing (scripts/ensure-qgis.sh); without it this test fails, it is never skipped.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import DischargeUnit, Outfall

from .test_ogcapi import PINGCHENG, disclose

SYSTEM_PYTHON = os.environ.get("QGIS_PYTHON", "/usr/bin/python3")


@pytest.mark.django_db(transaction=True)
def test_qgis_recipe(demo_db, live_server, tmp_path, client):

    public_ids = disclose()
    styles = {}
    for name in ("qml", "sld"):
        response = client.get(f"/ogcapi/collections/outfalls/styles/{name}")
        assert response.status_code == 200
        styles[name] = tmp_path / f"outfalls.{name}"
        styles[name].write_bytes(response.content)

    script = Path(__file__).with_name("qgis_client.py")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(script), f"{live_server.url}/ogcapi/", "pingcheng", settings.DEMO_PASSWORD]
        + [str(styles["qml"]), str(styles["sld"])],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, (
        f"QGIS failed (run scripts/ensure-qgis.sh for Debian's python3-qgis):\n{done.stderr[-3000:]}"
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    pingcheng = Outfall.objects.filter(county__code=PINGCHENG)
    # Anonymous: the public view, without the private fields.
    assert seen["public_valid"] and seen["public_count"] == len(public_ids) > 0
    assert "entity" not in seen["public_fields"]
    # Basic: the county officer's scope with every field.
    assert seen["mine_valid"] and seen["mine_count"] == pingcheng.count() > 0
    assert "entity" in seen["mine_fields"]
    assert seen["mine_kept"] == sorted(
        pingcheng.filter(status=LifecycleStatus.KEPT).values_list("code", flat=True)
    )
    assert seen["mine_storm"] == sorted(pingcheng.filter(type_code="YH").values_list("code", flat=True))
    assert seen["mine_storm"], "the demo county has storm outfalls"
    assert seen["field_types"]["appr_date"] == "Date"  # a date, not text
    assert seen["first_geometry"] == "Point"
    officer = get_user_model().objects.get(username="pingcheng")
    assert seen["units_count"] == DischargeUnit.objects.visible_to(officer).count() > 0
    # The styles load in QGIS as rules by type and status.
    assert seen["qml_loaded"] and seen["qml_renderer"] == "RuleRenderer" and seen["qml_rules"] > 5
    assert seen["sld_loaded"] and seen["sld_renderer"] == "RuleRenderer"
    # A wrong password never falls back to the public view.
    assert not seen["wrong_valid"]
