"""The task queue for real: `manage.py db_worker` in its own process runs the jobs the platform starts; a
file that makes a reader abort kills only its job's child process, the worker marks that job failed and goes
on with the next; a worker killed in the middle of a job leaves a job the platform marks failed and retries."""

import os
import signal

import pytest

from outfalls.core import jobs
from outfalls.core.choices import JobStatus
from outfalls.core.models import Job
from outfalls.registry import jobs as registry_jobs
from outfalls.registry.models import LedgerImport
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.test_ledger_import import make_record
from outfalls.registry.tests.test_xlsx_guard import corner_bomb

from .workers import task_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def bureau(demo_db, django_user_model):
    return django_user_model.objects.get(username="bureau")


@pytest.fixture(scope="module")
def big_table(tmp_path_factory):
    """20,000 rows: a worker's child takes some seconds over them, time to kill it in the middle."""
    return ledger_files.make_large_xlsx(tmp_path_factory.mktemp("big") / "大同.xlsx", 20_000, fast=True).path


def finished(job):
    job.refresh_from_db()
    return job if not job.busy else None


def preview_started(worker, user, path):
    """An import of path whose preview job the worker is running in its child process: (record, job)."""
    record = make_record(user, path)
    job = registry_jobs.start_preview(record, user)
    wait_for(lambda: worker.children(), what="the worker to start the job's child process")
    return record, job


def test_worker_runs_jobs_and_a_reader_bomb_kills_only_its_job(bureau, media_root, tmp_path):
    # The guard is opened wide in the worker, so that the bomb reaches the reader (calamine aborts on it).
    with task_worker(SPREADSHEET_MAX_CELLS=10**12, SPREADSHEET_MAX_ROWS=10**7) as worker:
        bomb = make_record(bureau, corner_bomb(tmp_path / "炸弹.xlsx"))
        job = registry_jobs.start_preview(bomb, bureau)
        wait_for(lambda: finished(job), what="the bomb's job to end")
        assert job.status == JobStatus.FAILED and "内存" in job.error and not job.retryable
        assert job.worker.endswith(f":{worker.pid}")  # run by the worker, not by the test
        bomb.refresh_from_db()
        assert bomb.status == LedgerImport.Status.FAILED and bomb.error == job.error
        assert worker.alive(), worker.output()

        # The same worker goes on with the next job.
        good = make_record(bureau, ledger_files.make_large_xlsx(tmp_path / "大同.xlsx", 50, fast=True).path)
        job = registry_jobs.start_preview(good, bureau)
        wait_for(lambda: finished(job), what="the good file's job to end")
        assert job.status == JobStatus.SUCCEEDED, (job.error, worker.output())
        assert job.message == "解析完成：共 50 行。" and job.worker.endswith(f":{worker.pid}")
        good.refresh_from_db()
        assert good.status == LedgerImport.Status.PREVIEWED and good.counts["rows"] == 50


def test_a_killed_job_child_is_reported_by_the_live_worker(bureau, media_root, big_table):
    with task_worker() as worker:
        record, job = preview_started(worker, bureau, big_table)
        for child in worker.children():
            os.kill(child, signal.SIGKILL)
        wait_for(lambda: finished(job), what="the worker to report the killed child")
        assert job.status == JobStatus.FAILED and job.error == jobs.DIED_MESSAGE and job.retryable
        assert worker.alive()
        record.refresh_from_db()
        assert record.status == LedgerImport.Status.FAILED and record.error == jobs.DIED_MESSAGE

        # 重试 puts it back on the queue; the same worker finishes it this time.
        jobs.retry(job, bureau)
        wait_for(lambda: finished(job), timeout=180, what="the retried job")
        assert job.status == JobStatus.SUCCEEDED and job.attempts == 2, job.error
        record.refresh_from_db()
        assert record.status == LedgerImport.Status.PREVIEWED and record.counts["rows"] == 20_000


def test_a_job_whose_worker_died_is_marked_failed_by_the_platform(bureau, media_root, big_table):
    with task_worker() as worker:
        _, job = preview_started(worker, bureau, big_table)
        worker.kill()
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING  # nobody has noticed yet
        assert jobs.reap() == 1  # the worker's process is gone
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and job.error == "后台处理进程中断，请重试。"
        assert Job.objects.get(pk=job.pk).retryable
