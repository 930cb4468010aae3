"""The task queue for real: `manage.py db_worker` in its own process runs the jobs the platform starts; a
file that makes a reader run out of the job's memory kills only its job's child process, the worker marks that job failed and goes
on with the next; a worker killed in the middle of a job leaves a job the platform marks failed and retries."""

import os
import signal
import zipfile
from pathlib import Path

import openpyxl
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

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

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


def strings_bomb(path, count):
    """A 6 MB workbook whose shared-strings table unpacks to about `count` KB of distinct texts (under the
    guard's compression-ratio limit): a reader must hold every shared string, so memory grows with it."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "汇总表"
    workbook.active.append(["序号", "受纳河流名称", "入河排污口名称"])
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    filler = "x" * 1000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
        with package.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
            for start in range(0, count, 1000):
                texts = (
                    f"<si><t>{i:08x}{i * 2654435761 % 2**32:08x}{filler}</t></si>"
                    for i in range(start, start + 1000)
                )
                strings.write("".join(texts).encode())
            strings.write(b"</sst>")
    return path


def virtual_memory_mb(pid):
    """The process's address space (VmSize), which RLIMIT_AS caps."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmSize:")).split()[1]) // 1024


def test_worker_runs_jobs_and_a_reader_bomb_kills_only_its_job(bureau, media_root, tmp_path):
    # The guard is opened wide in the worker, so that the bombs reach the reader.
    wide = {
        "SPREADSHEET_MAX_CELLS": 10**12,
        "SPREADSHEET_MAX_ROWS": 10**7,
        "SPREADSHEET_MAX_UNZIPPED_MB": 10**6,
    }
    with task_worker(**wide) as worker:
        # Values in A1 and XFD1048576: the streaming reader does not build the sheet, so the job ends with
        # the file's real problem (no header), not out of memory.
        corner = make_record(bureau, corner_bomb(tmp_path / "角落.xlsx"))
        job = registry_jobs.start_preview(corner, bureau)
        wait_for(lambda: finished(job), what="the corner bomb's job to end")
        assert job.status == JobStatus.FAILED and "没有找到表头" in job.error, job.error
        size = virtual_memory_mb(worker.pid)

    # 600 MB of distinct shared strings against a cap 200 MB above the worker's address space: the child
    # runs out of its memory, and only the child.
    with task_worker(TASK_MEMORY_LIMIT_MB=size + 200, **wide) as worker:
        bomb = make_record(bureau, strings_bomb(tmp_path / "炸弹.xlsx", 600_000))
        job = registry_jobs.start_preview(bomb, bureau)
        wait_for(lambda: finished(job), what="the bomb's job to end")
        assert job.status == JobStatus.FAILED and "内存" in job.error and not job.retryable, job.error
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
