"""GIS exchange pages: import reference data from GIS files (/gis/import/) and export the ledger's outfalls
as GeoJSON, GeoPackage, zipped Shapefile or KML (/gis/export/outfalls.<fmt>).

The import keeps the uploaded file in MEDIA_ROOT/gis-imports/<token>/ between the preview and the
confirmation (the token is remembered in the uploader's session); the confirmation is a job on the task
queue (maps/jobs.py) that re-reads and re-judges the file, writes it, and deletes it. Files left by abandoned previews are removed after a day.
"""

import json
import os
import secrets
import shutil
import tempfile
import time

import shapely
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe
from shapely.geometry import shape

from outfalls.core.downloads import attachment
from outfalls.core.forms import BootstrapMixin
from outfalls.core.models import Jurisdiction
from outfalls.core.views import apply_filter
from outfalls.geo import gisio
from outfalls.registry.choices import ProtectedAreaKind
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.ledger_export import county_by_code, export_subject

from . import gis_features, gis_services
from .gis_services import GisImportError, ImportKind, Mapping
from .jobs import start_import, upload_root

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SESSION_KEY = "gis_imports"
STALE_SECONDS = 24 * 3600
ENCODINGS = [("", "自动识别（.cpg 或 UTF-8/GBK）"), ("UTF-8", "UTF-8"), ("GBK", "GBK / GB18030")]
MAP_PREVIEW_FEATURES = 2000


def _remove_stale_uploads():
    root = upload_root()
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_SECONDS
    for entry in root.iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="GIS 文件",
        help_text="压缩的 Shapefile（.zip，含 .shp/.shx/.dbf，最好有 .prj、.cpg）、GeoPackage（.gpkg）、KML/KMZ 或 GeoJSON。",
    )
    kind = forms.ChoiceField(label="导入内容", choices=ImportKind.choices)
    crs = forms.CharField(
        label="声明坐标系（EPSG）",
        required=False,
        max_length=2000,
        help_text="文件没有坐标系（如缺少 .prj）时必填，如 4490、4547；填写后优先于文件自带的坐标系。",
    )
    encoding = forms.ChoiceField(label="属性编码（Shapefile）", choices=ENCODINGS, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = os.path.splitext(upload.name)[1].lower()
        if suffix not in gisio.READ_SUFFIXES or suffix == ".shp":
            raise forms.ValidationError(
                f"不支持的文件类型：{upload.name}。Shapefile 请把 .shp、.shx、.dbf、.prj、.cpg 打包为 .zip 上传；"
                "也可上传 .gpkg、.kml、.kmz、.geojson。"
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。")
        return upload

    def clean_crs(self):
        text = self.cleaned_data["crs"].strip()
        if text:
            try:
                gisio.parse_crs(text)
            except gisio.GisError as error:
                raise forms.ValidationError(error.message)
        return text


class MappingForm(BootstrapMixin, forms.Form):
    """The preview's options: how to read the file and which attribute holds what."""

    token = forms.CharField(widget=forms.HiddenInput)
    shown_kind = forms.CharField(widget=forms.HiddenInput, required=False)  # the kind the form was shown for
    kind = forms.ChoiceField(label="导入内容", choices=ImportKind.choices)
    layer = forms.ChoiceField(label="图层", required=False)
    crs = forms.CharField(label="声明坐标系（EPSG）", required=False, max_length=2000)
    encoding = forms.ChoiceField(label="属性编码（Shapefile）", choices=ENCODINGS, required=False)
    name_field = forms.ChoiceField(label="名称属性", required=False)
    code_field = forms.ChoiceField(label="编码/区划代码属性", required=False)
    kind_field = forms.ChoiceField(label="类型属性（保护区类型或工程类型）", required=False)
    fixed_kind = forms.ChoiceField(
        label="或整个文件为同一类型",
        required=False,
        choices=[("", "（按属性）"), *ProtectedAreaKind.choices],
    )
    water_field = forms.ChoiceField(label="所在水体属性（名称或编码）", required=False)
    level_field = forms.ChoiceField(label="断面级别属性", required=False)
    target_field = forms.ChoiceField(label="水质目标属性", required=False)
    assessed_field = forms.ChoiceField(label="最新评价水质属性", required=False)
    date_field = forms.ChoiceField(label="评价日期属性", required=False)
    source = forms.CharField(label="数据来源说明", required=False, max_length=200)

    ROLE_FIELDS = {
        "name": "name_field",
        "code": "code_field",
        "kind": "kind_field",
        "water": "water_field",
        "level": "level_field",
        "target": "target_field",
        "assessed": "assessed_field",
        "date": "date_field",
    }

    def __init__(self, *args, fields=(), layers=(), **kwargs):
        super().__init__(*args, **kwargs)
        attribute_choices = [("", "（不使用）"), *[(f, f) for f in fields]]
        for name in self.ROLE_FIELDS.values():
            self.fields[name].choices = attribute_choices
        self.fields["layer"].choices = [("", "全部图层"), *[(name, name) for name in layers]]

    def clean_crs(self):
        return UploadForm.clean_crs(self)

    def visible_roles(self, kind):
        roles = gis_services.KIND_ROLES[ImportKind(kind)]
        names = [self.ROLE_FIELDS[role] for role in roles]
        if kind == ImportKind.PROTECTED_AREAS:
            names.append("fixed_kind")
        return names

    def mapping(self):
        data = self.cleaned_data
        used = set(self.visible_roles(data["kind"]))
        return Mapping(
            **{
                name: (data.get(name) or "") if name in used else ""
                for name in ("fixed_kind", *gis_services.ROLE_NAMES)
            },
            source=data.get("source") or "",
        )


def _stored(request, token):
    """(path, original file name) of an upload this session made, or Http404."""
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry or not token.isalnum():
        raise Http404("预览已过期，请重新上传文件。")
    path = upload_root() / token / entry["stored"]
    if not path.exists():
        raise Http404("预览已过期，请重新上传文件。")
    return path, entry["filename"]


def _forget(request, token):
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads
    shutil.rmtree(upload_root() / token, ignore_errors=True)


def _save_upload(request, upload):
    _remove_stale_uploads()
    token = secrets.token_hex(16)
    folder = upload_root() / token
    folder.mkdir(parents=True, exist_ok=True)
    stored = "upload" + os.path.splitext(upload.name)[1].lower()
    with open(folder / stored, "wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    uploads = request.session.get(SESSION_KEY, {})
    uploads[token] = {"stored": stored, "filename": os.path.basename(upload.name)}
    request.session[SESSION_KEY] = uploads
    return token


def _map_preview(dataset):
    """Simplified geometries of the first features, for the preview map."""
    features = []
    for feature in dataset.features[:MAP_PREVIEW_FEATURES]:
        if not feature.geometry:
            continue
        try:
            geom = shapely.simplify(shape(feature.geometry), 0.0002, preserve_topology=True)
        except (ValueError, TypeError, AttributeError):
            continue
        features.append(
            {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(geom))}
        )
    return {"type": "FeatureCollection", "features": features}


def _city_outline():
    city = Jurisdiction.objects.filter(parent=None).exclude(boundary=None).only("boundary").first()
    return city.boundary if city else None


def _render_preview(request, form, kind, plan, dataset, error, filename, status=200):
    context = {
        "form": form,
        "plan": plan,
        "dataset": dataset,
        "error": error,
        "filename": filename,
        "role_fields": form.visible_roles(kind),
        "sample_rows": [[f.properties.get(name) for name in dataset.fields] for f in dataset.features[:10]]
        if dataset
        else [],
        "map_data": _map_preview(dataset) if dataset else None,
        "city_outline": _city_outline() if dataset else None,
    }
    return render(request, "maps/gis_import_preview.html", context, status=status)


def _mapping_data(token, options, dataset, posted=None):
    """The mapping form's data: what was posted, with attributes the file no longer has re-guessed."""
    kind = options["kind"]
    guessed = gis_services.guess_mapping(kind, dataset.fields)
    data = {
        "token": token,
        "kind": kind,
        "shown_kind": kind,
        "crs": options.get("crs", ""),
        "encoding": options.get("encoding", ""),
        "layer": options.get("layer", ""),
        "fixed_kind": "",
        "source": "",
    }
    for name in MappingForm.ROLE_FIELDS.values():
        data[name] = getattr(guessed, name)
    if posted is not None and posted.get("shown_kind") == kind:
        for name in ("fixed_kind", "source"):
            data[name] = posted.get(name, "")
        for name in MappingForm.ROLE_FIELDS.values():
            value = posted.get(name, "")
            if value == "" or value in dataset.fields:
                data[name] = value
    elif posted is not None:
        data["source"] = posted.get("source", "")
    return data


def _options(post):
    """How to read the file, from a posted form: kind, CRS, encoding and layer, checked."""
    kind = post.get("kind", "")
    if kind not in ImportKind.values:
        raise GisImportError("请选择导入内容。")
    crs = post.get("crs", "").strip()
    if crs:
        try:
            gisio.parse_crs(crs)
        except gisio.GisError as error:
            raise GisImportError(error.message)
    encoding = post.get("encoding", "")
    if encoding not in dict(ENCODINGS):
        raise GisImportError("请选择有效的属性编码。")
    return {"kind": kind, "crs": crs, "encoding": encoding, "layer": post.get("layer", "")}


@login_required
def import_page(request):
    """Upload → preview (file facts, attributes, first rows, per-row verdicts) → confirm."""
    gis_services.check_can_import(request.user)
    if request.method != "POST":
        return render(request, "maps/gis_import.html", {"form": UploadForm()})
    if "token" not in request.POST:
        return _upload(request)
    token = request.POST.get("token", "")
    path, filename = _stored(request, token)
    try:
        options = _options(request.POST)
        dataset = gis_services.load_dataset(str(path), filename=filename, **_read_options(options))
    except GisImportError as error:
        return _read_failed(request, filename, error.message)
    form = MappingForm(
        _mapping_data(token, options, dataset, request.POST),
        fields=dataset.fields,
        layers=dataset.available_layers,
    )
    if not form.is_valid():
        return _render_preview(
            request, form, options["kind"], None, dataset, "请修正标红的选项。", filename, 400
        )
    plan = gis_services.plan_import(dataset, options["kind"], form.mapping(), filename=filename)
    if request.POST.get("action") != "confirm":
        return _render_preview(request, form, options["kind"], plan, dataset, None, filename)
    if not plan.ok:
        error = "有错误或没有可导入的要素，未导入任何数据。"
        return _render_preview(request, form, options["kind"], plan, dataset, error, filename, 400)
    entry = request.session[SESSION_KEY][token]
    job = start_import(
        request.user,
        token=token,
        stored=entry["stored"],
        filename=filename,
        options=options,
        mapping=form.mapping(),
    )
    # The job reads the stored file and removes it; this session no longer offers the preview.
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads
    return redirect("core:job_detail", pk=job.pk)


def _read_options(options):
    return {"crs": options["crs"], "encoding": options["encoding"], "layer": options["layer"]}


def _upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "maps/gis_import.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    token = _save_upload(request, upload)
    path, filename = _stored(request, token)
    options = {
        "kind": form.cleaned_data["kind"],
        "crs": form.cleaned_data["crs"],
        "encoding": form.cleaned_data["encoding"],
        "layer": "",
    }
    try:
        dataset = gis_services.load_dataset(str(path), filename=filename, **_read_options(options))
    except GisImportError as error:
        _forget(request, token)
        form.add_error("file", error.message)
        return render(request, "maps/gis_import.html", {"form": form}, status=400)
    form = MappingForm(
        _mapping_data(token, options, dataset), fields=dataset.fields, layers=dataset.available_layers
    )
    form.is_valid()
    plan = gis_services.plan_import(dataset, options["kind"], form.mapping(), filename=filename)
    return _render_preview(request, form, options["kind"], plan, dataset, None, filename)


def _read_failed(request, filename, message):
    """The stored file cannot be read with the posted options: the preview page says why, options kept."""
    posted = [request.POST.get(name, "") for name in MappingForm.ROLE_FIELDS.values()]
    form = MappingForm(
        request.POST,
        fields=[value for value in dict.fromkeys(posted) if value],
        layers=[request.POST["layer"]] if request.POST.get("layer") else [],
    )
    form.is_valid()
    kind = (
        request.POST.get("kind")
        if request.POST.get("kind") in ImportKind.values
        else ImportKind.PROTECTED_AREAS
    )
    return _render_preview(request, form, kind, None, None, message, filename, 400)


# Export ---------------------------------------------------------------------------------------------------


@login_required
@require_safe
def export_outfalls(request, fmt):
    """The ledger's outfalls for the current filter, within the user's scope, as a GIS file."""
    if fmt not in gisio.FORMATS:
        raise Http404
    queryset, fields = gis_features.outfalls_for(request.user)
    filterset, queryset = apply_filter(OutfallFilter, request, queryset)
    code = filterset.form.cleaned_data.get("county") if filterset.is_bound and filterset.is_valid() else ""
    subject = export_subject(request.user, county_by_code(code) if code else None)
    handle = tempfile.TemporaryFile()
    gis_features.write_outfalls(queryset, fields, handle, fmt)
    handle.seek(0)
    _, suffix, content_type, _ = gisio.FORMATS[fmt]
    stamp = timezone.localdate().strftime("%Y%m%d")
    kind = ".shp" if fmt == "shp" else ""
    filename = f"入河排污口-{subject}-{stamp}{kind}{suffix}"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = attachment(filename, f"outfalls-{code or 'all'}-{stamp}{kind}{suffix}")
    return response
