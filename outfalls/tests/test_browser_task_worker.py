"""In a real Chromium, with a real worker: a person uploads a large table, the worker is killed while it reads
it, the page says so in Chinese and offers 重试; a new worker starts, 重试 is pressed, the preview appears."""

import pytest

from outfalls.core.choices import JobStatus
from outfalls.core.models import Job
from outfalls.registry.tests import ledger_files

from .browser import browser_page, login  # noqa: F401  (fixture)
from .workers import Worker, task_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_killed_during_an_import_then_retry(demo_db, live_server, browser_page, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    path = ledger_files.make_large_xlsx(tmp_path / "大同市-全市.xlsx", 20_000, fast=True).path
    page = browser_page
    login(page, live_server.url, "bureau", settings.DEMO_PASSWORD)
    with task_worker() as worker:
        page.goto(f"{live_server.url}/ledger/imports/")
        page.set_input_files("input[type=file]", str(path))
        page.click("[data-testid=upload-form] button[type=submit]")
        page.wait_for_selector("[data-testid=job-progress][data-status=running]", timeout=60_000)
        assert "台账导入：解析与预览" in page.inner_text("[data-testid=job-progress]")
        job = Job.objects.get()
        wait_for(lambda: worker.children(), what="the worker's child to read the file")
        worker.kill()

        # The page polls; the platform sees the worker is gone and says so.
        page.wait_for_selector("[data-testid=job-error]", timeout=30_000)
        assert "后台处理进程中断，请重试" in page.inner_text("[data-testid=job-error]")
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED

        replacement = Worker().start()
        try:
            page.click("[data-testid=job-retry]")
            page.wait_for_selector("[data-testid=import-counts]", timeout=180_000)
            assert "全部 20000 行" in page.inner_text("[data-testid=import-counts]")
            job.refresh_from_db()
            assert job.status == JobStatus.SUCCEEDED and job.worker.endswith(f":{replacement.pid}")
            assert job.attempts == 2
        finally:
            replacement.stop()
