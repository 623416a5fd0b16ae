"""Jobs the worker runs, their stored files, and the workers' heartbeats."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    JobStatus.QUEUED: _l("Waiting"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
}


class JobKind(StrEnum):
    VISIT_PACK = "visit_pack"
    BRANCH_MONTH = "branch_month"
    BORROWER_DOSSIER = "borrower_dossier"
    CARE_SEND_DUE = "care_send_due"
    CARE_RETRY = "care_retry"
    CARE_SMS_STATUS = "care_sms_status"
    TIER_REFRESH = "tier_refresh"
    LOAN_STANDING = "loan_standing"
    # Reminders (portal/reminders): the officers' morning, late red warnings, sessions.
    VISIT_REMINDERS = "visit_reminders"
    WARNING_ESCALATION = "warning_escalation"
    SESSION_REMINDERS = "session_reminders"
    # The retention schedule (portal/retention/run.py, docs/privacy.md).
    RETENTION = "retention"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def is_report(self) -> bool:
        return self in REPORT_KINDS


KIND_LABELS = {
    JobKind.VISIT_PACK: _l("Visit reports of the month"),
    JobKind.BRANCH_MONTH: _l("Monthly branch report"),
    JobKind.BORROWER_DOSSIER: _l("Borrower dossier"),
    JobKind.CARE_SEND_DUE: _l("Morning greetings"),
    JobKind.CARE_RETRY: _l("Greeting retries"),
    JobKind.CARE_SMS_STATUS: _l("SMS delivery status"),
    JobKind.TIER_REFRESH: _l("Nightly tier refresh"),
    JobKind.LOAN_STANDING: _l("Loans' overdue days for the new day"),
    JobKind.VISIT_REMINDERS: _l("Officers' morning reminders"),
    JobKind.WARNING_ESCALATION: _l("Red warnings past their deadline"),
    JobKind.SESSION_REMINDERS: _l("Group session reminders"),
    JobKind.RETENTION: _l("Retention: deletion and anonymisation"),
}
REPORT_KINDS = frozenset({JobKind.VISIT_PACK, JobKind.BRANCH_MONTH, JobKind.BORROWER_DOSSIER})


class Job(db.Model):
    """One piece of work for the worker: a report to render or a periodic run.

    A periodic run carries a ``slot`` (its kind and the minute it was due, company
    time); the slot is unique, so when two workers' schedulers fire the same minute
    only the one whose insert lands runs it. A report carries what it prints (branch
    and month, or borrower), who asked, in which language and whether internal
    assessments are in it, and the fingerprint of the data it was rendered from.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("ix_jobs_report_lookup", "kind", "requested_by_id", "branch_id", "borrower_id"),
        sa.Index("ix_jobs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.QUEUED)
    slot: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("branches.id", ondelete="CASCADE"))
    borrower_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE")
    )
    month: Mapped[str | None] = mapped_column(sa.String(7))
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh")
    internal: Mapped[bool] = mapped_column(default=False)
    fingerprint: Mapped[str] = mapped_column(sa.String(120), default="")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    summary: Mapped[str] = mapped_column(sa.String(400), default="")
    worker: Mapped[str] = mapped_column(sa.String(120), default="")
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")
    file_name_ascii: Mapped[str] = mapped_column(sa.String(200), default="")
    file_size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User | None] = relationship()

    @property
    def has_file(self) -> bool:
        return self.status == JobStatus.DONE and self.kind.is_report and self.file_size > 0


class JobFileChunk(db.Model):
    """A finished report's bytes, in pieces of ``CHUNK_BYTES``, streamed in order."""

    __tablename__ = "job_file_chunks"

    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class WorkerBeat(db.Model):
    """A worker process's last sign of life (``/healthz`` reads the newest)."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
