"""The registry's long work on the task queue (core/jobs.py): the ledger import's preview and commit, and the
batch spatial check. The pages start these and show their progress; the management commands run inline."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from outfalls.core import jobs
from outfalls.core.choices import JobKind
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of

from . import checks, ledger_import
from .models import LedgerImport, Outfall


def _record(job):
    return LedgerImport.objects.get(pk=job.object_id)


# Ledger import: the preview ------------------------------------------------------------------------------
def start_preview(record, user):
    return jobs.start(JobKind.LEDGER_PREVIEW, owner=user, target=record)


def _preview_failed(job, message):
    LedgerImport.objects.filter(
        pk=job.object_id, status__in=(LedgerImport.Status.PENDING, LedgerImport.Status.RUNNING)
    ).update(status=LedgerImport.Status.FAILED, error=message)


def _preview_retry(job):
    updated = LedgerImport.objects.filter(pk=job.object_id, status=LedgerImport.Status.FAILED).update(
        status=LedgerImport.Status.PENDING, error="", rows_done=0
    )
    if not updated:
        raise jobs.JobError("该导入已不在失败状态，不能重试解析。")


@jobs.register(JobKind.LEDGER_PREVIEW, on_failure=_preview_failed, on_retry=_preview_retry)
def preview(job, progress):
    record = _record(job)
    progress.step("读取文件并逐行检查")
    try:
        result = ledger_import.run_preview(record, user=job.owner, progress=progress)
    except ledger_import.LedgerImportError as error:
        raise jobs.JobError(str(error))
    return f"解析完成：共 {result.counts['rows']} 行。"


# Ledger import: the commit -------------------------------------------------------------------------------
def start_commit(record, user, decisions, rest=""):
    """Check the confirmation (ledger_import.start_commit) and put the writing on the queue."""
    decisions = ledger_import.start_commit(record, user, decisions, rest)
    return jobs.start(
        JobKind.LEDGER_COMMIT,
        owner=user,
        target=record,
        params={"decisions": {str(k): v for k, v in decisions.items()}},
    )


def _commit_failed(job, message):
    # The commit writes in one transaction: nothing was written, the preview still stands.
    LedgerImport.objects.filter(pk=job.object_id, status=LedgerImport.Status.COMMITTING).update(
        status=LedgerImport.Status.PREVIEWED, error=message
    )


def _commit_retry(job):
    ledger_import.start_commit(_record(job), job.owner, job.params.get("decisions"))


@jobs.register(JobKind.LEDGER_COMMIT, on_failure=_commit_failed, on_retry=_commit_retry)
def commit(job, progress):
    record = _record(job)
    progress.step("写入台账（全部写入或全部不写入）", total=record.rows_total or 0)
    try:
        ledger_import.commit(record, job.owner, job.params.get("decisions"), progress=progress)
    except ledger_import.LedgerImportError as error:
        raise jobs.JobError(str(error))
    record.refresh_from_db()
    return f"已导入：新增 {len(record.created_ids)} 个排口，更新 {len(record.updated_ids)} 个。"


# The batch spatial check -----------------------------------------------------------------------------------
def can_run_spatial_check(user):
    return scope_of(user).can_edit_citywide


def start_spatial_check(user, county=None):
    if not can_run_spatial_check(user):
        raise PermissionDenied("只有市级管理员和市生态环境局可以批量运行空间检查。")
    return jobs.start(
        JobKind.SPATIAL_CHECK, owner=user, params={"county": county.code if county is not None else ""}
    )


@jobs.register(JobKind.SPATIAL_CHECK)
def spatial_check(job, progress):
    if not can_run_spatial_check(job.owner):
        raise PermissionDenied("只有市级管理员和市生态环境局可以批量运行空间检查。")
    code = job.params.get("county") or ""
    outfalls, where = None, "全市"  # None: every outfall, every old finding replaced
    if code:
        county = Jurisdiction.objects.get(code=code)
        outfalls, where = Outfall.objects.filter(county=county), county.name
    progress.step(f"检查{where}的排口")
    lines = checks.check_outfalls(outfalls, user=job.owner).summary_lines()
    job.result = {"back_url": reverse("registry:finding_list"), "back_label": "查看空间检查结果"}
    return f"{where}：{lines[0]}" + "；".join(line.strip() for line in lines[1:]) + "。"
