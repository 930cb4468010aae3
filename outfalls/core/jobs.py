"""Long work on the task queue (django-tasks): start a job, run it in a worker, show how far it is, notice a
worker that died, retry.

    job = jobs.start(JobKind.LEDGER_PREVIEW, owner=user, target=record)    # a core.Job row, enqueued
    ...                                                                    # the page polls its progress

Each kind of job has one handler, registered by its app (``registry/jobs.py``, ``maps/jobs.py``,
``remediation/jobs.py``, imported from the app configs' ``ready``)::

    @jobs.register(JobKind.RULE_RUN, on_failure=..., on_retry=...)
    def rule_run(job, progress):       # progress.step("…"), progress(done, total)
        ...
        return "已运行……"               # the outcome shown on the page (Chinese)

The queue's task is ``run_job(job_id)``. In a worker process (``manage.py db_worker``, or an RQ worker) it
runs the handler in a forked child with an address-space limit (``TASK_MEMORY_LIMIT_MB``), so a file that
makes a reader allocate without end kills only that child; the worker notices and marks the job failed. The
worker beats the job's heartbeat while the child runs. With the immediate backend (the tests), the handler
runs inline.

A job whose worker is gone (the process no longer exists on this host, or no heartbeat for
``TASK_STALE_SECONDS``) is marked failed by ``reap()``, which the progress endpoint and the pages call, with
a Chinese message and 重试. Failures a person must fix (a ``JobError``: a bad file, a refused change) fail
without 重试; the handler's ``on_failure`` puts its object back in a state the person can act on.
"""

import faulthandler
import logging
import os
import resource
import signal
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus, task, task_backends
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.exceptions import TaskResultDoesNotExist

from .choices import JobStatus
from .models import Job

logger = logging.getLogger(__name__)

DIED_MESSAGE = "后台处理进程中断，请重试。"
SYSTEM_ERROR_MESSAGE = "处理时发生系统错误（已记录日志），请重试；仍然失败请联系管理员。"
PROGRESS_SECONDS = 0.5  # progress is written at most this often (and always at the end of a step)
POLL_SECONDS = 0.2  # how often the worker looks at the child it runs a job in
CHILD_FAILED = 70  # exit code of a child whose handler raised (the job row already says why)


class JobError(Exception):
    """A failure the person must act on (a bad file, a refused step): its Chinese message is shown as it is,
    and the job is not offered for retry."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


@dataclass(frozen=True)
class Handler:
    run: object  # (job, progress) -> outcome message
    on_failure: object = None  # (job, message) -> None: put the target back where a person can act
    on_retry: object = None  # (job) -> None: check and put the target back in the state run expects


HANDLERS = {}


def register(kind, *, on_failure=None, on_retry=None):
    """Decorator: the handler of one JobKind."""

    def decorator(function):
        HANDLERS[kind] = Handler(function, on_failure, on_retry)
        return function

    return decorator


# Starting ------------------------------------------------------------------------------------------------
def start(kind, *, owner, target=None, params=None):
    """Create the job and put it on the queue. With the immediate backend it has run when this returns."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        owner=owner,
        content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=target.pk if target is not None else None,
        params=params or {},
    )
    _enqueue(job)
    job.refresh_from_db()
    return job


def _enqueue(job):
    def enqueue():
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

    if _inline():
        enqueue()
    else:
        # A worker must not pick the task up before the job row it names is committed.
        transaction.on_commit(enqueue)


def latest_for(target):
    """The most recent job working on an object, or None."""
    return (
        Job.objects.filter(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)
        .order_by("-created_at", "-id")
        .first()
    )


# Running -------------------------------------------------------------------------------------------------
@task()
def run_job(job_id):
    """The queue's one task: run the job's handler (in a child process with a memory limit, in a worker)."""
    execute(job_id, isolate=settings.TASK_ISOLATE and not _inline())


def _inline():
    return isinstance(task_backends[run_job.backend], ImmediateBackend)


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(job_id, *, isolate):
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat=now,
        finished_at=None,
        worker=worker_name(),
        attempts=F("attempts") + 1,
        step="",
        done=0,
        total=0,
        error="",
        message="",
        retryable=False,
    )
    if not claimed:  # removed, or already taken by another run
        return
    if not isolate:
        _run(Job.objects.get(pk=job_id))
        return
    code = _run_in_child(job_id)
    job = Job.objects.get(pk=job_id)
    if job.status == JobStatus.RUNNING:  # the child died without finishing the job
        _fail(job, _death_message(code), retryable=code != -signal.SIGABRT or not memory_limit_bytes())


def _run(job):
    handler = HANDLERS[job.kind]
    progress = Progress(job)
    try:
        message = handler.run(job, progress)
    except JobError as error:
        _fail(job, error.message, retryable=False)
        return False
    except PermissionDenied as error:
        _fail(job, str(error) or "无权执行该操作。", retryable=False)
        return False
    except MemoryError:
        _fail(job, _memory_message(), retryable=False)
        return False
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, SYSTEM_ERROR_MESSAGE, retryable=True)
        return False
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.SUCCEEDED,
        message=message or "",
        result=job.result,
        finished_at=timezone.now(),
        heartbeat=timezone.now(),
        done=F("total"),
    )
    return True


def _fail(job, message, *, retryable):
    """Mark a running (or queued) job failed and let its kind put its object back where a person can act."""
    updated = Job.objects.filter(pk=job.pk, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).update(
        status=JobStatus.FAILED, error=message, retryable=retryable, finished_at=timezone.now()
    )
    if not updated:
        return False
    handler = HANDLERS.get(job.kind)
    if handler is not None and handler.on_failure is not None:
        try:
            handler.on_failure(job, message)
        except Exception:
            logger.exception("on_failure of job %s (%s) failed", job.pk, job.kind)
    return True


class Progress:
    """What a handler calls to say how far it is: ``progress.step("写入台账", total=n)``, ``progress(done)``."""

    def __init__(self, job):
        self.job = job
        self.total = 0
        self.done = 0
        self._written = 0.0

    def step(self, text, total=0):
        self.total, self.done = total, 0
        self._write(step=text[:100], done=0, total=total)

    def __call__(self, done, total=None):
        self.done = done
        if total is not None:
            self.total = total
        last = bool(self.total) and done >= self.total
        if last or time.monotonic() - self._written >= PROGRESS_SECONDS:
            self._write(done=done, total=self.total)

    def _write(self, **fields):
        self._written = time.monotonic()
        Job.objects.filter(pk=self.job.pk).update(heartbeat=timezone.now(), **fields)


# The child process -----------------------------------------------------------------------------------------
def memory_limit_bytes():
    return int(settings.TASK_MEMORY_LIMIT_MB) * 1024 * 1024 if settings.TASK_MEMORY_LIMIT_MB else 0


def _memory_message():
    return (
        f"处理时超出后台任务的内存上限（{settings.TASK_MEMORY_LIMIT_MB} MB），已停止。"
        "文件可能过大或内容异常，请检查文件或拆分后重新上传。"
    )


def _death_message(code):
    if code == -signal.SIGABRT and memory_limit_bytes():
        return _memory_message()  # an allocation the limit refused aborts native readers
    return DIED_MESSAGE


def _die_with_parent(parent):
    """Ask Linux to kill this child when the worker that forked it dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker's heartbeat still tells
        pass
    if os.getppid() != parent:  # the worker died before prctl took effect
        os._exit(1)


def limit_memory(limit=None):
    """Cap this process's address space; allocations beyond it fail (MemoryError, or a native abort)."""
    limit = memory_limit_bytes() if limit is None else limit
    if limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def run_isolated(function, *args, heartbeat=None, memory_limit=None):
    """Run function(*args) in a forked child with a memory limit; return the child's exit code
    (0: returned, CHILD_FAILED: raised, negative: killed by that signal). heartbeat() is called every
    TASK_HEARTBEAT_SECONDS while the child runs."""
    parent = os.getpid()
    connections.close_all()  # the child opens its own connections
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, whose coverage is not collected
        code = CHILD_FAILED
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the worker finishes the current job
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            faulthandler.disable()  # a native abort is reported by the parent, not dumped here
            _die_with_parent(parent)
            limit_memory(memory_limit)
            function(*args)
            code = 0
        except BaseException:
            logger.exception("isolated run of %s failed", getattr(function, "__name__", function))
        finally:
            try:
                connections.close_all()
            finally:
                os._exit(code)
    every = float(settings.TASK_HEARTBEAT_SECONDS)
    next_beat = time.monotonic() + every
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if heartbeat is not None and time.monotonic() >= next_beat:
            heartbeat()
            next_beat = time.monotonic() + every
        time.sleep(POLL_SECONDS)


def _run_in_child(job_id):
    def child():
        if not _run(Job.objects.get(pk=job_id)):
            os._exit(CHILD_FAILED)

    def heartbeat():
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(heartbeat=timezone.now())

    return run_isolated(child, heartbeat=heartbeat)


# Dead workers and retries -----------------------------------------------------------------------------------
def _process_gone(worker):
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdecimal():
        return False  # another machine: only the heartbeat tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _task_started_long_ago(job, stale_before):
    """A queued job whose task a worker took (or failed to start) long ago: the worker died in between."""
    if not job.task_id:
        return False
    try:
        result = run_job.get_result(job.task_id)
    except (TaskResultDoesNotExist, NotImplementedError, ValueError):
        return False
    if result.status == TaskResultStatus.READY:
        return False
    started = result.started_at or result.finished_at
    return started is not None and started < stale_before


def reap(jobs=None):
    """Mark failed the jobs whose worker is gone; return how many. jobs: an iterable, default every active job."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.TASK_STALE_SECONDS)
    candidates = Job.objects.active() if jobs is None else [j for j in jobs if j is not None and j.busy]
    failed = 0
    for job in candidates:
        if job.status == JobStatus.RUNNING:
            gone = (job.heartbeat or job.started_at or job.created_at) < stale_before or _process_gone(
                job.worker
            )
        else:
            gone = job.created_at < stale_before and _task_started_long_ago(job, stale_before)
        if gone and _fail(job, DIED_MESSAGE, retryable=True):
            failed += 1
            job.refresh_from_db()
    return failed


def can_retry(job, user):
    return job.status == JobStatus.FAILED and job.retryable and job.owner_id == user.pk


def retry(job, user):
    """Put a failed job back on the queue, as the person who started it."""
    if job.owner_id != user.pk:
        raise PermissionDenied("只能由发起人重试该任务。")
    reap([job])
    job.refresh_from_db()
    if job.status != JobStatus.FAILED:
        raise JobError(f"该任务当前状态为“{job.get_status_display()}”，不能重试。")
    if not job.retryable:
        raise JobError("该任务的失败需要先修改文件或数据，不能直接重试。")
    handler = HANDLERS[job.kind]
    if handler.on_retry is not None:
        handler.on_retry(job)
    Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED,
        error="",
        message="",
        step="",
        done=0,
        total=0,
        worker="",
        started_at=None,
        heartbeat=None,
        finished_at=None,
        retryable=False,
    )
    _enqueue(job)
    job.refresh_from_db()
    return job


def waiting_too_long(job):
    """A queued job no worker has taken for TASK_STALE_SECONDS: probably no worker is running."""
    stale_before = timezone.now() - timedelta(seconds=settings.TASK_STALE_SECONDS)
    return job.status == JobStatus.QUEUED and job.created_at < stale_before
