"""Reads of the jobs feature: the heartbeat, the queue page, a report's reusable job."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal.database import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobKind, JobStatus, WorkerBeat

# A heartbeat older than this many beats is stale.
STALE_AFTER_BEATS = 4
QUEUE_PAGE_ROWS = 50


def worker_heartbeat() -> str:
    """``fresh``, ``stale`` (no worker has beaten lately) or ``none`` (no worker ever ran)."""
    newest = db.session.scalar(sa.select(sa.func.max(WorkerBeat.beat_at)))
    if newest is None:
        return "none"
    if newest.tzinfo is None:  # max() bypasses the column type on some databases
        from datetime import UTC

        newest = newest.replace(tzinfo=UTC)
    interval = float(current_app.config["JOBS_HEARTBEAT_SECONDS"])
    fresh = utcnow() - newest <= timedelta(seconds=interval * STALE_AFTER_BEATS)
    return "fresh" if fresh else "stale"


def _fresh_after():
    interval = float(current_app.config["JOBS_HEARTBEAT_SECONDS"])
    return utcnow() - timedelta(seconds=interval * STALE_AFTER_BEATS)


def live_workers() -> set[str]:
    """The workers whose heartbeat is fresh."""
    return set(
        db.session.scalars(sa.select(WorkerBeat.name).where(WorkerBeat.beat_at >= _fresh_after()))
    )


def is_abandoned(job: Job, alive: set[str] | None = None) -> bool:
    """A running job whose worker has stopped (no fresh heartbeat): it will never finish."""
    alive = live_workers() if alive is None else alive
    return job.status == JobStatus.RUNNING and job.worker not in alive


def workers() -> list[WorkerBeat]:
    return list(db.session.scalars(sa.select(WorkerBeat).order_by(WorkerBeat.name)))


def reusable_report(kind: JobKind, user_id: int, fingerprint: str, **target) -> Job | None:
    """The user's job for the same report and data: waiting, running, or done and unexpired."""
    filters = [Job.kind == kind, Job.requested_by_id == user_id, Job.fingerprint == fingerprint]
    filters += [getattr(Job, name) == value for name, value in target.items()]
    live = sa.or_(
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        sa.and_(Job.status == JobStatus.DONE, Job.file_size > 0, Job.expires_at > utcnow()),
    )
    return db.session.scalars(
        sa.select(Job).where(*filters, live).order_by(Job.id.desc()).limit(1)
    ).first()


def queue_counts() -> dict[JobStatus, int]:
    rows = db.session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status))
    counts = dict.fromkeys(JobStatus, 0)
    counts.update(dict(rows.all()))
    return counts


def jobs_with_status(status: JobStatus, limit: int = QUEUE_PAGE_ROWS) -> list[Job]:
    order = Job.id.asc() if status == JobStatus.QUEUED else Job.id.desc()
    return list(
        db.session.scalars(
            sa.select(Job)
            .options(sa.orm.selectinload(Job.requested_by))
            .where(Job.status == status)
            .order_by(order)
            .limit(limit)
        )
    )


def failed_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Job).where(Job.status == JobStatus.FAILED)
    )
