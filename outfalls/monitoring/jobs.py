"""Monitoring work on the task queue (core/jobs.py): a lab file's import, a whole evaluation of exceedances and
dry-weather evidence, the exceedance notice (.docx) and the loads. The management commands run the same services
inline."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from outfalls.core import jobs
from outfalls.core.choices import JobKind
from outfalls.core.scopes import scope_of

from . import dry_weather, exceedances, sample_import, services
from .choices import ImportStatus
from .models import SampleImport


# A lab file --------------------------------------------------------------------------------------------------
def start_import(upload, *, user, source, lab=""):
    if source not in services.allowed_sources(user):
        raise PermissionDenied("您的角色不能导入该来源的监测数据。")
    record = sample_import.create_record(upload, user=user, source=source, lab=lab)
    job = jobs.start(JobKind.SAMPLE_IMPORT, owner=user, target=record)
    return record, job


def _import_failed(job, message):
    SampleImport.objects.filter(pk=job.object_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.FAILED, errors=[message]
    )


def _import_retry(job):
    SampleImport.objects.filter(pk=job.object_id).update(status=ImportStatus.PENDING, errors=[])


@jobs.register(JobKind.SAMPLE_IMPORT, on_failure=_import_failed, on_retry=_import_retry)
def run_import(job, progress):
    record = SampleImport.objects.get(pk=job.object_id)
    result = sample_import.import_samples(record, user=job.owner, progress=progress)
    record.refresh_from_db()
    job.result = {
        "back_url": reverse("monitoring:import_detail", args=[record.pk]),
        "back_label": "查看导入结果",
    }
    if record.status == ImportStatus.FAILED:
        raise jobs.JobError(f"导入未完成：共 {len(record.errors)} 处问题，已全部列出，修改文件后重新上传。")
    if record.status == ImportStatus.UNCHANGED:
        return "文件与此前导入的相同，未作改动。"
    return (
        f"已导入样品 {result.created} 个（监测值 {result.values} 个），已存在未改动 {result.unchanged} 个。"
    )


# Evaluation ----------------------------------------------------------------------------------------------------
def can_evaluate(user):
    return scope_of(user).can_edit_citywide


def start_evaluation(user):
    if not can_evaluate(user):
        raise PermissionDenied("只有市生态环境局可以重新判定全部排口。")
    return jobs.start(JobKind.EVALUATE, owner=user)


@jobs.register(JobKind.EVALUATE)
def run_evaluation(job, progress):
    if not can_evaluate(job.owner):
        raise PermissionDenied("只有市生态环境局可以重新判定全部排口。")
    progress.step("判定超标、持续超标与缺测")
    summary = exceedances.evaluate()
    progress.step("检查城镇雨洪排口旱天排水")
    events = dry_weather.scan(user=None)
    job.result = {"back_url": reverse("monitoring:matrix"), "back_label": "返回超标矩阵"}
    return f"{summary.text()} 新发现旱天排水 {len(events)} 起。"
