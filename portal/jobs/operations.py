"""Writes of the jobs feature.

A request only adds a job (``queue_report``; the view's ``@writes`` commits it, through
``settle()`` before the task is queued, so the worker finds it). Everything else here is
the worker's: like the greeting job (portal/care/sending.py), each step commits on its
own, because the work in between takes minutes and must not hold a transaction — a
claim, each progress step, the stored file, the failure.
"""

import traceback
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.audit.operations import record
from portal.database import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobFileChunk, JobKind, JobStatus, WorkerBeat

CHUNK_BYTES = 1024 * 1024
# Runs of the periodic jobs are kept this long on the queue page, then deleted.
KEEP_RUNS = timedelta(days=30)


def queue_report(kind: JobKind, user, fingerprint: str, **target) -> Job:
    """A new report job for ``user`` (the caller commits, then queues its task)."""
    job = Job(kind=kind, requested_by=user, fingerprint=fingerprint, **target)
    db.session.add(job)
    db.session.flush()
    record("job.report_requested", job, f"{kind.value} {target}")
    return job


def start_periodic(kind: JobKind, slot: str) -> Job | None:
    """Claim the periodic run ``slot`` for this worker; None when another worker has it.

    The slot is unique in the database: when two workers (on one machine or two) fire
    the same schedule, both insert and exactly one insert lands.
    """
    from portal.jobs.queue import worker_name

    now = utcnow()
    job = Job(
        kind=kind,
        slot=slot,
        status=JobStatus.RUNNING,
        attempts=1,
        started_at=now,
        updated_at=now,
        worker=worker_name(),
    )
    db.session.add(job)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return None
    return job


def claim(job_id: int) -> bool:
    """Take a waiting job for this worker; False when another worker took it first."""
    from portal.jobs.queue import worker_name

    now = utcnow()
    taken = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            started_at=now,
            updated_at=now,
            attempts=Job.attempts + 1,
            worker=worker_name(),
            error="",
            progress_done=0,
        )
    ).rowcount
    db.session.commit()
    return taken == 1


def progress(job_id: int, done: int, total: int) -> None:
    """Record how far a running job is (its own short transaction)."""
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(progress_done=done, progress_total=total, updated_at=utcnow())
    )
    db.session.commit()


def finish(job_id: int, summary: str = "") -> None:
    """Mark a job done."""
    now = utcnow()
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(
            status=JobStatus.DONE,
            finished_at=now,
            updated_at=now,
            summary=summary[:400],
            progress_done=Job.progress_total,
        )
    )
    db.session.commit()


def store_file(job_id: int, pdf: bytes, name: str, ascii_name: str, summary: str) -> None:
    """Keep a rendered report for ``JOBS_FILE_HOURS``, in chunks, and mark the job done."""
    db.session.execute(sa.delete(JobFileChunk).where(JobFileChunk.job_id == job_id))
    for seq, start in enumerate(range(0, len(pdf), CHUNK_BYTES)):
        db.session.add(JobFileChunk(job_id=job_id, seq=seq, data=pdf[start : start + CHUNK_BYTES]))
    now = utcnow()
    hours = float(current_app.config["JOBS_FILE_HOURS"])
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(
            status=JobStatus.DONE,
            finished_at=now,
            updated_at=now,
            expires_at=now + timedelta(hours=hours),
            file_size=len(pdf),
            file_name=name[:200],
            file_name_ascii=ascii_name[:200],
            summary=summary[:400],
            progress_done=Job.progress_total,
        )
    )
    db.session.commit()


def fail(job_id: int, error: BaseException) -> None:
    """Record why a job failed (the last lines of the traceback) for the queue page."""
    db.session.rollback()
    text = "".join(traceback.format_exception_only(error)).strip()
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.FAILED, error=text[:4000], updated_at=utcnow())
    )
    db.session.commit()


def retry(job: Job) -> None:
    """The admin's retry: the job waits again (the view queues its task after the commit)."""
    job.status = JobStatus.QUEUED
    job.error = ""
    job.progress_done = 0
    job.updated_at = utcnow()
    record("job.retried", job, f"{job.kind.value} #{job.id}")


def file_chunks(job_id: int) -> Iterator[bytes]:
    """The stored file, piece by piece (one query per piece: no file is held in memory)."""
    seq = 0
    while True:
        data = db.session.scalar(
            sa.select(JobFileChunk.data).where(
                JobFileChunk.job_id == job_id, JobFileChunk.seq == seq
            )
        )
        if data is None:
            return
        yield bytes(data)
        seq += 1


def clean_up(now: datetime | None = None) -> int:
    """Delete expired files and old periodic runs; the number of files deleted."""
    now = now or utcnow()
    expired = sa.select(Job.id).where(Job.expires_at < now, Job.file_size > 0)
    ids = list(db.session.scalars(expired))
    if ids:
        db.session.execute(sa.delete(JobFileChunk).where(JobFileChunk.job_id.in_(ids)))
        db.session.execute(sa.update(Job).where(Job.id.in_(ids)).values(file_size=0))
    db.session.execute(
        sa.delete(Job).where(Job.slot.is_not(None), Job.created_at < now - KEEP_RUNS)
    )
    db.session.commit()
    return len(ids)


def beat(name: str) -> None:
    """The worker ``name`` is alive now."""
    now = utcnow()
    updated = db.session.execute(
        sa.update(WorkerBeat).where(WorkerBeat.name == name).values(beat_at=now)
    ).rowcount
    if not updated:
        db.session.add(WorkerBeat(name=name, started_at=now, beat_at=now))
    db.session.commit()


def forget_beat(name: str) -> None:
    """A worker that stops cleanly leaves no stale heartbeat behind."""
    db.session.execute(sa.delete(WorkerBeat).where(WorkerBeat.name == name))
    db.session.commit()
