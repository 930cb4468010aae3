"""Background jobs (core/jobs.py) as the pages see them: scope, progress, a dead worker noticed and marked
failed with a Chinese message, retry by the person who started it, and the child process with its memory
limit. The worker itself runs in outfalls/tests/test_task_worker.py."""

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outfalls.core import jobs
from outfalls.core.choices import JobKind, JobStatus
from outfalls.core.models import Job
from outfalls.registry import jobs as registry_jobs
from outfalls.registry.models import LedgerImport
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.test_ledger_import import make_record, new_row
from outfalls.registry.tests.test_xlsx_guard import corner_bomb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def record(demo_user, tmp_path):
    return make_record(demo_user("pingcheng"), ledger_files.messy_xlsx(tmp_path, [new_row(1)]))


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def running(record, *, worker, heartbeat_age=0):
    """A preview job as a worker leaves it when it dies in the middle: running, the import being read."""
    job = Job.objects.create(
        kind=JobKind.LEDGER_PREVIEW,
        owner=record.created_by,
        target=record,
        status=JobStatus.RUNNING,
        worker=worker,
        started_at=timezone.now() - timedelta(seconds=heartbeat_age),
        heartbeat=timezone.now() - timedelta(seconds=heartbeat_age),
        step="读取文件并逐行检查",
        done=500,
    )
    LedgerImport.objects.filter(pk=record.pk).update(status=LedgerImport.Status.RUNNING)
    return job


def test_job_of_a_dead_process_on_this_host_is_failed_at_once(record):
    job = running(record, worker=f"{socket.gethostname()}:{dead_pid()}")
    assert jobs.reap() == 1
    job.refresh_from_db()
    assert (job.status, job.error, job.retryable) == (JobStatus.FAILED, "后台处理进程中断，请重试。", True)
    record.refresh_from_db()
    assert record.status == LedgerImport.Status.FAILED and record.error == "后台处理进程中断，请重试。"


def test_job_on_another_machine_fails_only_when_its_heartbeat_is_stale(record, settings):
    settings.TASK_STALE_SECONDS = 60
    job = running(record, worker="worker-2:4242", heartbeat_age=30)
    assert jobs.reap() == 0 and Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    Job.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(seconds=61))
    assert jobs.reap() == 1 and Job.objects.get(pk=job.pk).status == JobStatus.FAILED


def test_a_live_worker_keeps_its_job(record):
    job = running(record, worker=jobs.worker_name())
    assert jobs.reap() == 0 and Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_import_page_shows_the_failure_and_retry_runs_the_preview_again(record, client_for):
    job = running(record, worker=f"{socket.gethostname()}:{dead_pid()}")
    client = client_for("pingcheng")
    url = reverse("registry:import_detail", args=[record.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="job-error"' in page and "后台处理进程中断，请重试。" in page
    assert 'data-testid="job-retry"' in page
    assert 'data-testid="import-error"' not in page  # said once, in the job's box

    done = client.post(reverse("core:job_retry", args=[job.pk]), {"back": url})
    assert done.status_code == 302 and done["Location"] == url
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1  # inline here: a worker adds one per run
    record.refresh_from_db()
    assert record.status == LedgerImport.Status.PREVIEWED and record.counts["new"] == 1
    assert 'data-testid="import-counts"' in client.get(url).content.decode()


def test_only_the_owner_retries_and_others_outside_scope_get_404(record, client_for):
    job = running(record, worker=f"{socket.gethostname()}:{dead_pid()}")
    jobs.reap()
    other_county = client_for("yunzhou")
    for name in ("core:job_detail", "core:job_progress", "core:job_download"):
        assert other_county.get(reverse(name, args=[job.pk])).status_code == 404
    assert other_county.post(reverse("core:job_retry", args=[job.pk])).status_code == 404
    bureau = client_for("bureau")  # sees every job, may not retry someone else's
    page = bureau.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "后台处理进程中断" in page and 'data-testid="job-retry"' not in page
    assert bureau.post(reverse("core:job_retry", args=[job.pk])).status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED


def test_progress_endpoint_polls_while_busy_and_reloads_when_done(record, client_for):
    job = running(record, worker=jobs.worker_name())
    Job.objects.filter(pk=job.pk).update(total=2000)
    client = client_for("pingcheng")
    url = reverse("core:job_progress", args=[job.pk]) + "?back=/ledger/imports/"
    busy = client.get(url)
    html = busy.content.decode()
    assert "HX-Refresh" not in busy and 'hx-trigger="every 1s"' in html
    assert "（500 / 2000）" in html and 'aria-valuenow="25"' in html and "读取文件并逐行检查" in html
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert client.get(url)["HX-Refresh"] == "true"


def test_a_bad_file_fails_without_retry(demo_user, client_for, tmp_path):
    user = demo_user("pingcheng")
    bomb = make_record(user, corner_bomb(tmp_path / "炸弹.xlsx"))
    job = registry_jobs.start_preview(bomb, user)
    assert job.status == JobStatus.FAILED and not job.retryable and "XFD1048576" in job.error
    page = client_for("pingcheng").get(reverse("registry:import_detail", args=[bomb.pk])).content.decode()
    assert "XFD1048576" in page and 'data-testid="job-retry"' not in page
    with pytest.raises(jobs.JobError, match="需要先修改文件"):
        jobs.retry(job, user)


def test_a_job_no_worker_takes_says_so(record, client_for, settings):
    job = Job.objects.create(kind=JobKind.LEDGER_PREVIEW, owner=record.created_by, target=record)
    page = client_for("pingcheng").get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-waiting"' not in page
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    page = client_for("pingcheng").get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "后台处理进程可能没有运行" in page
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED  # it may still be taken


def test_spatial_check_from_the_findings_page_is_for_city_editors(client_for):
    url = reverse("registry:finding_list")
    assert 'data-testid="run-spatial-check"' in client_for("bureau").get(url).content.decode()
    assert 'data-testid="run-spatial-check"' not in client_for("pingcheng").get(url).content.decode()
    assert client_for("pingcheng").post(reverse("registry:finding_run")).status_code == 403
    client = client_for("bureau")
    started = client.post(reverse("registry:finding_run"))
    job = Job.objects.get(kind=JobKind.SPATIAL_CHECK)
    assert started["Location"] == reverse("core:job_detail", args=[job.pk])
    page = client.get(started["Location"]).content.decode()
    assert job.status == "succeeded" or Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    assert "全市：检查入河排污口" in page and reverse("registry:finding_list") in page


def _calamine_reads(path):
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    workbook.get_sheet_by_name(workbook.sheet_names[0])


def _allocate(megabytes):
    bytearray(megabytes * 1024 * 1024)


def test_a_reader_that_aborts_in_the_child_leaves_this_process_alive(tmp_path):
    code = jobs.run_isolated(_calamine_reads, corner_bomb(tmp_path / "bomb.xlsx"), memory_limit=2048 * 2**20)
    assert code == -signal.SIGABRT
    assert os.getpid() and _allocate(1) is None  # still here, still allocating


def test_the_memory_limit_applies_in_the_child_only():
    assert jobs.run_isolated(_allocate, 4096, memory_limit=1024 * 2**20) == jobs.CHILD_FAILED
    assert jobs.run_isolated(_allocate, 16, memory_limit=0) == 0
