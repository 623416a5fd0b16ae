"""Jobs as a test needs them: stored reports, a failed periodic run, a real worker."""

import time
from contextlib import contextmanager
from datetime import timedelta

from portal.database import utcnow
from portal.extensions import db
from portal.jobs import operations
from portal.jobs.models import Job, JobKind, JobStatus

TINY_PDF = b"%PDF-1.4\n%test\n"


def stored_job(kind: JobKind, user_id: int, pdf: bytes = TINY_PDF, **target) -> Job:
    """A finished report job with its file, as the worker leaves it (caller commits)."""
    job = Job(kind=kind, requested_by_id=user_id, status=JobStatus.RUNNING, **target)
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    operations.store_file(job_id, pdf, "报告.pdf", "report.pdf", "test")
    return db.session.get(Job, job_id)


def failed_run(kind: JobKind = JobKind.CARE_RETRY, error: str = "RuntimeError: boom") -> Job:
    job = Job(
        kind=kind,
        slot=f"{kind.value}@test",
        status=JobStatus.FAILED,
        error=error,
        created_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add(job)
    db.session.flush()
    return job


@contextmanager
def running_worker(app, workers: int = 2, periodic: bool = False):
    """A real Huey consumer for ``app`` in this process (threads), stopped on leaving."""
    from portal.jobs.queue import consumer

    running = consumer(app, workers, periodic=periodic)
    running._set_signal_handlers = lambda: None  # the test runner keeps its own
    running.start()
    try:
        yield running
    finally:
        running.stop(graceful=True)


def wait_for(condition, timeout: float = 120.0, step: float = 0.1):
    """Poll ``condition()`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")
