"""Complaints of borrowers, their handling and the borrower's verdict."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.calendar import last_day_before
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class ComplaintCategory(StrEnum):
    SERVICE_ATTITUDE = "service_attitude"
    PROCESS = "process"
    FEES = "fees"
    OFFICER_CONDUCT = "officer_conduct"
    OTHER = "other"


class ComplaintSeverity(StrEnum):
    """Declared from the mildest up."""

    GENERAL = "general"
    SERIOUS = "serious"
    VERY_SERIOUS = "very_serious"


class ComplaintStatus(StrEnum):
    """open → resolved → closed (borrower satisfied) or back to open (reopened)."""

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Response deadlines in days, counted in whole calendar days of the company's time
# zone (docs/services.md). A reopened complaint gets a fresh deadline.
RESPONSE_DAYS = {
    ComplaintSeverity.GENERAL: 7,
    ComplaintSeverity.SERIOUS: 3,
    ComplaintSeverity.VERY_SERIOUS: 1,
}
# These go to the branch head at once; an officer must not judge a complaint about
# their own conduct.
ESCALATE_AT_ONCE_SEVERITIES = frozenset({ComplaintSeverity.SERIOUS, ComplaintSeverity.VERY_SERIOUS})
ESCALATE_AT_ONCE_CATEGORIES = frozenset({ComplaintCategory.OFFICER_CONDUCT})

CATEGORY_LABELS = {
    ComplaintCategory.SERVICE_ATTITUDE: _l("Service attitude"),
    ComplaintCategory.PROCESS: _l("Process"),
    ComplaintCategory.FEES: _l("Fees"),
    ComplaintCategory.OFFICER_CONDUCT: _l("Officer conduct"),
    ComplaintCategory.OTHER: _lp("complaint category", "Other"),
}
SEVERITY_LABELS = {
    ComplaintSeverity.GENERAL: _lp("complaint severity", "General"),
    ComplaintSeverity.SERIOUS: _l("Serious"),
    ComplaintSeverity.VERY_SERIOUS: _l("Very serious"),
}
STATUS_LABELS = {
    ComplaintStatus.OPEN: _lp("complaint status", "Open"),
    ComplaintStatus.RESOLVED: _lp("complaint status", "Resolved"),
    ComplaintStatus.CLOSED: _lp("complaint status", "Closed"),
}


class Complaint(db.Model):
    """One complaint of one borrower."""

    __tablename__ = "complaints"
    __table_args__ = (
        sa.Index("ix_complaints_branch_status", "branch_id", "status", "respond_by"),
        sa.Index("ix_complaints_borrower", "borrower_id", "filed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    category: Mapped[ComplaintCategory] = mapped_column(enum_type(ComplaintCategory, 24))
    severity: Mapped[ComplaintSeverity] = mapped_column(enum_type(ComplaintSeverity, 16))
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ComplaintStatus] = mapped_column(
        enum_type(ComplaintStatus, 16), default=ComplaintStatus.OPEN
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    # No stored handler: the borrower's current officer handles a general complaint until
    # it is escalated, so a reassignment hands it over with the borrower (``visible_to``).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(default=0)

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    borrower: Mapped[Borrower] = relationship()
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    events: Mapped[list["ComplaintEvent"]] = relationship(
        order_by="ComplaintEvent.id", back_populates="complaint", cascade="all, delete-orphan"
    )
    # Filled by lists with ``overdue_clause`` so the flag is computed by the database.
    listed_overdue: Mapped[bool | None] = query_expression()

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @property
    def handler(self) -> User | None:
        """The officer who answers it now: the borrower's, until it goes to the branch head."""
        return None if self.escalated else self.borrower.officer

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    @property
    def severity_label(self):
        return SEVERITY_LABELS[self.severity]

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def last_answer_day(self) -> date:
        """The last day to answer, in the company's time zone."""
        return last_day_before(self.respond_by)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Still open after its response deadline."""
        return self.status == ComplaintStatus.OPEN and self.respond_by < (now or utcnow())

    @classmethod
    def overdue_clause(cls, now: datetime):
        """``is_overdue`` as SQL."""
        return sa.and_(cls.status == ComplaintStatus.OPEN, cls.respond_by < now)

    def visible_to(self, user: User) -> bool:
        """Admin all, head the branch, officer their current borrowers' unescalated ones,
        borrower their own."""
        if user.role == Role.ADMIN:
            return True
        if user.role == Role.HEAD:
            return user.branch_id == self.branch_id
        if user.role == Role.OFFICER:
            return not self.escalated and self.borrower.visible_to(user)
        return user.id == self.borrower.user_id

    def can_handle(self, user: User) -> bool:
        """Staff who may resolve or escalate it: whoever sees it, among the staff."""
        return user.is_staff and self.visible_to(user)

    @staticmethod
    def visible_filter(user: User):
        """``visible_to`` as a WHERE clause; officer and borrower lists join Borrower."""
        if user.role == Role.ADMIN:
            return sa.true()
        if user.role == Role.HEAD:
            return Complaint.branch_id == user.branch_id
        if user.role == Role.OFFICER:
            return sa.and_(Complaint.escalated_at.is_(None), Borrower.visible_filter(user))
        return Borrower.user_id == user.id


class ComplaintEvent(db.Model):
    """One step of a complaint: filed, escalated, resolved, reopened, closed."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(20))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def action_label(self):
        return EVENT_LABELS.get(self.action, self.action)


EVENT_LABELS = {
    "filed": _l("Filed"),
    "escalated": _l("Passed to the branch head"),
    "resolved": _lp("complaint event", "Resolved"),
    "reopened": _l("Reopened by the borrower"),
    "closed": _l("Closed: the borrower is satisfied"),
}
