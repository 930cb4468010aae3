"""A real task worker for tests: `manage.py db_worker` in its own process, on the test database.

    with task_worker() as worker:          # the database backend for this test, a worker running on it
        job = jobs.start(...)              # the worker runs it in its own process
        wait_for(lambda: refreshed(job).status == "succeeded")
        worker.kill()                      # SIGKILL, as a crash or the OOM killer would

The test must use the transactional database (django_db(transaction=True) or live_server), so that what it
writes is committed and the worker sees it.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.test import override_settings

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
BASE_DIR = Path(settings.BASE_DIR)


def database_url():
    """The test database as a DATABASE_URL, for a process started by the test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host, port = db["HOST"] or "", f":{db['PORT']}" if db["PORT"] else ""
    if host.startswith("/"):
        return f"postgresql://{auth}@{port}/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{auth}@{host}{port}/{db['NAME']}"


class Worker:
    def __init__(self, **env):
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "TASK_BACKEND": DB_TASKS["default"]["BACKEND"],
            "TASK_HEARTBEAT_SECONDS": "1",
            **{key: str(value) for key, value in env.items()},
        }
        self.process = None
        self.log = tempfile.TemporaryFile()

    def start(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def children(self):
        """The worker's child processes (the one running a job)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill(self):
        """SIGKILL, as a crash would: no clean-up runs."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


@contextmanager
def task_worker(**env):
    """The database task backend for the test, and a worker process running on the test database."""
    with override_settings(TASKS=DB_TASKS):
        worker = Worker(**env).start()
        try:
            yield worker
        finally:
            worker.stop()


def wait_for(condition, *, timeout=90, interval=0.1, what="the condition"):
    """Poll condition() until it returns something true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
