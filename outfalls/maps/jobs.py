"""The GIS import's confirmation on the task queue (core/jobs.py): re-read the stored upload, judge it again,
write it in one transaction, remove the upload. The preview stays on the page (gis_views); `manage.py
gis_import` runs the same services inline."""

import shutil
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from outfalls.core import jobs
from outfalls.core.choices import JobKind

from . import gis_services
from .gis_services import GisImportError, Mapping


def upload_root():
    """Where uploads wait between the preview and the confirmation (MEDIA_ROOT/gis-imports/<token>/)."""
    return Path(settings.MEDIA_ROOT) / "gis-imports"


def start_import(user, *, token, stored, filename, options, mapping):
    gis_services.check_can_import(user)
    params = {
        "token": token,
        "stored": stored,
        "filename": filename,
        "options": options,
        "mapping": asdict(mapping),
    }
    return jobs.start(JobKind.GIS_IMPORT, owner=user, params=params)


def _stored_path(job):
    token, stored = job.params["token"], job.params["stored"]
    if not token.isalnum() or "/" in stored or "\\" in stored:
        raise jobs.JobError("导入参数无效，请重新上传文件。")
    path = upload_root() / token / stored
    if not path.exists():
        raise jobs.JobError("上传的文件已不存在（预览已过期），请重新上传。")
    return path


def _check_file(job):
    _stored_path(job)


@jobs.register(JobKind.GIS_IMPORT, on_retry=_check_file)
def gis_import(job, progress):
    gis_services.check_can_import(job.owner)
    path, params = _stored_path(job), job.params
    options, filename = params["options"], params["filename"]
    progress.step("读取文件")
    try:
        dataset = gis_services.load_dataset(
            str(path),
            filename=filename,
            crs=options.get("crs", ""),
            encoding=options.get("encoding", ""),
            layer=options.get("layer", ""),
        )
        progress.step("逐个要素检查")
        plan = gis_services.plan_import(
            dataset, options["kind"], Mapping(**params["mapping"]), filename=filename
        )
        if not plan.ok:
            raise GisImportError("有错误或没有可导入的要素，未导入任何数据。请返回预览查看。")
        progress.step("写入（全部写入或全部不写入）")
        counts = gis_services.commit_import(plan, job.owner)
    except GisImportError as error:
        raise jobs.JobError(error.message)
    shutil.rmtree(path.parent, ignore_errors=True)
    job.result = {"back_url": reverse("gis:import"), "back_label": "继续导入 GIS 数据"}
    summary = "，".join(f"{label} {n}" for label, n in counts.items() if n)
    return f"已导入“{filename}”（{plan.kind_label}）：{summary}。空间检查结果请在参考数据更新后重新运行。"
