"""Monitoring work on the task queue (core/jobs.py): a lab file's import, a whole evaluation of exceedances and
dry-weather evidence, the exceedance notice (.docx) and the loads. The management commands run the same services
inline."""

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from outfalls.core import jobs
from outfalls.core.choices import JobKind
from outfalls.core.scopes import scope_of

from . import dry_weather, exceedances, loads, notice, sample_import, services
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


# The notice ---------------------------------------------------------------------------------------------------
def start_notice(user, year, month):
    if not notice.can_make(user):
        raise PermissionDenied("只有市级用户可以生成超标通报。")
    return jobs.start(JobKind.EXCEEDANCE_NOTICE, owner=user, params={"year": year, "month": month})


@jobs.register(JobKind.EXCEEDANCE_NOTICE)
def make_notice(job, progress):
    if not notice.can_make(job.owner):
        raise PermissionDenied("只有市级用户可以生成超标通报。")
    year, month = int(job.params["year"]), int(job.params["month"])
    progress.step("汇总超标情况并生成 Word 文件")
    name = notice.filename(year, month)
    data = notice.build_notice(job.owner, year, month, today=timezone.localdate(job.created_at))
    stored = default_storage.save(f"jobs/{job.pk}/{name}", ContentFile(data))
    job.result = {
        "file": stored,
        "filename": name,
        "back_url": reverse("monitoring:notice"),
        "back_label": "返回超标通报",
    }
    return f"通报已生成：{name}。"


# Loads --------------------------------------------------------------------------------------------------------
def start_loads(user, year=None):
    if not scope_of(user).can_edit_citywide:
        raise PermissionDenied("只有市生态环境局可以重新计算污染物负荷。")
    return jobs.start(JobKind.LOADS, owner=user, params={"year": year or timezone.localdate().year})


@jobs.register(JobKind.LOADS)
def run_loads(job, progress):
    if not scope_of(job.owner).can_edit_citywide:
        raise PermissionDenied("只有市生态环境局可以重新计算污染物负荷。")
    year = int(job.params["year"])
    progress.step(f"计算 {year} 年各排口污染物负荷")
    written = loads.compute(year)
    job.result = {"back_url": reverse("monitoring:loads") + f"?year={year}", "back_label": "返回污染物负荷"}
    return f"已计算 {year} 年负荷 {written} 条。"
