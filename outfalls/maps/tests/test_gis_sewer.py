"""GIS import of sewer coverage areas (污水管网覆盖范围): preview, confirm, update by name, errors, command."""

import io

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from shapely.geometry import shape

from outfalls.maps import gis_services
from outfalls.registry.models import SewerCoverageArea

from . import gis_files as g

pytestmark = pytest.mark.django_db
IMPORT = reverse("gis:import")
KIND = gis_services.ImportKind.SEWER_COVERAGE


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, data, filename):
    return client.post(
        IMPORT, {"file": SimpleUploadedFile(filename, data), "kind": KIND, "crs": "", "encoding": ""}
    )


def confirm(client, response):
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["action"] = "confirm"
    return client.post(IMPORT, data)


def test_kind_is_offered_on_the_import_page(client_for):
    content = client_for("bureau").get(IMPORT).content.decode()
    assert "污水管网覆盖范围" in content and f'value="{KIND}"' in content


def test_sewer_coverage_from_geojson_preview_then_confirm_with_county(client_for):
    client = client_for("bureau")
    data = g.geojson(
        [(g.SQUARE, {"名称": "平城区测试管网覆盖范围"}), (g.TRIANGLE, {"名称": "云州区测试管网"})]
    )
    response = upload(client, data, "管网覆盖.geojson")
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.ok and plan.counts["新建"] == 2
    assert response.context["form"]["name_field"].value() == "名称"
    assert not SewerCoverageArea.objects.filter(name__contains="测试").exists()  # the preview writes nothing
    assert confirm(client, response).status_code == 302
    area = SewerCoverageArea.objects.get(name="平城区测试管网覆盖范围")
    assert shape(area.geometry).symmetric_difference(g.SQUARE).area < 1e-9
    assert area.source == "GIS 导入：管网覆盖.geojson" and not area.approximate
    assert area.county is not None and area.county.code == "140213"
    assert (area.min_lon, area.max_lat) == pytest.approx((113.30, 40.08))


def test_same_name_is_updated_and_rows_with_the_same_name_merge(client_for):
    SewerCoverageArea.objects.create(name="测试县城管网", geometry=shapely.geometry.mapping(g.TRIANGLE))
    client = client_for("bureau")
    a = shapely.box(113.30, 40.05, 113.32, 40.08)
    b = shapely.box(113.32, 40.05, 113.34, 40.08)
    response = upload(
        client, g.geojson([(a, {"name": "测试县城管网"}), (b, {"name": "测试县城管网"})]), "a.geojson"
    )
    plan = response.context["plan"]
    assert plan.ok and plan.counts["更新"] == 2 and len(plan.changes) == 1
    assert confirm(client, response).status_code == 302
    area = SewerCoverageArea.objects.get(name="测试县城管网")
    assert shape(area.geometry).symmetric_difference(g.SQUARE).area < 1e-9


def test_lines_and_nameless_rows_are_errors_and_nothing_is_imported(client_for):
    client = client_for("bureau")
    data = g.geojson(
        [(g.SQUARE, {"名称": "测试甲"}), (g.LINE, {"名称": "测试乙"}), (g.TRIANGLE, {"名称": ""})]
    )
    response = upload(client, data, "bad.geojson")
    plan = response.context["plan"]
    assert not plan.ok and plan.counts["错误"] == 2
    html = response.content.decode()
    assert "污水管网覆盖范围须为面" in html and "名称（名称）为空" in html
    assert confirm(client, response).status_code == 400
    assert not SewerCoverageArea.objects.filter(name__startswith="测试").exists()


def test_county_officer_cannot_import(client_for):
    assert client_for("pingcheng").get(IMPORT).status_code == 403


def test_command(tmp_path):
    path = tmp_path / "coverage.geojson"
    path.write_bytes(g.geojson([(g.SQUARE, {"名称": "命令行测试管网"})]))
    out = io.StringIO()
    call_command("gis_import", str(path), "--kind", KIND, stdout=out)
    assert "污水管网覆盖范围" in out.getvalue()
    assert SewerCoverageArea.objects.filter(name="命令行测试管网").exists()


def test_map_layer_serves_the_areas_in_the_bbox(client_for):
    SewerCoverageArea.objects.create(name="测试图层管网", geometry=shapely.geometry.mapping(g.SQUARE))
    client = client_for("pingcheng")
    url = reverse("maps:api_sewer_coverage")
    data = client.get(url, {"bbox": "113.29,40.04,113.35,40.09", "zoom": 14}).json()
    names = {f["properties"]["name"] for f in data["features"]}
    assert "测试图层管网" in names
    far = client.get(url, {"bbox": "114.5,39.0,114.6,39.1", "zoom": 14}).json()
    assert "测试图层管网" not in {f["properties"]["name"] for f in far["features"]}
    page = client.get(reverse("maps:map")).content.decode()
    assert url in page  # the script's configuration names the layer's endpoint
