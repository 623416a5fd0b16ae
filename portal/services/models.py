"""The service catalogue, service requests and group sessions."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.branches.models import Branch
from portal.core.calendar import last_day_before
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class ServiceStatus(StrEnum):
    """docs/services.md: submitted → accepted → completed → rated, or declined."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    RATED = "rated"
    DECLINED = "declined"


class RequestSource(StrEnum):
    """Where a request came from: the borrower's portal or a need ticked on a visit."""

    PORTAL = "portal"
    VISIT = "visit"


SERVICE_STATUS_LABELS = {
    ServiceStatus.SUBMITTED: _lp("service status", "Submitted"),
    ServiceStatus.ACCEPTED: _lp("service status", "Accepted"),
    ServiceStatus.COMPLETED: _lp("service status", "Completed"),
    ServiceStatus.RATED: _lp("service status", "Rated"),
    ServiceStatus.DECLINED: _lp("service status", "Declined"),
}
REQUEST_SOURCE_LABELS = {
    RequestSource.PORTAL: _l("Requested in the portal"),
    RequestSource.VISIT: _l("Ticked on a visit form"),
}
SERVICE_EVENT_LABELS = {
    "submitted": _l("Request received"),
    "opened_from_visit": _l("Opened from a visit form"),
    "assigned": _l("Accepted and assigned"),
    "reassigned": _l("Assigned to someone else"),
    "scheduled": _l("Added to a group session"),
    "absent": _l("Did not attend the group session"),
    "declined": _lp("service event", "Declined"),
    "completed": _lp("service event", "Completed"),
    "rated": _lp("service event", "Rated"),
}
# Requests still waiting for someone on the staff side.
OPEN_STATUSES = (ServiceStatus.SUBMITTED, ServiceStatus.ACCEPTED)


def localized_name(name_zh: str, name_en: str) -> str:
    """The Chinese or English name, following the user's language."""
    return name_zh if str(get_locale() or "zh").startswith("zh") else name_en


class ServiceKind(db.Model):
    """A kind of personalized service; the admin edits names and deadlines."""

    __tablename__ = "service_kinds"

    # The same codes as the "services needed" checklist of the visit form.
    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    response_days: Mapped[int] = mapped_column(default=7)
    position: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def id(self) -> str:
        """The code; lets the audit log name a kind like any other record."""
        return self.code

    @property
    def name(self) -> str:
        """The name in the user's language."""
        return localized_name(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


class ServiceSession(db.Model):
    """One group session (a breeding class for twelve farmers) serving many requests."""

    __tablename__ = "service_sessions"
    __table_args__ = (sa.Index("ix_service_sessions_branch_held", "branch_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    kind_code: Mapped[str] = mapped_column(sa.ForeignKey("service_kinds.code"))
    title: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(sa.String(200))
    trainer: Mapped[str] = mapped_column(sa.String(100))
    # An outside partner who runs it (the county livestock station), and how to reach them.
    partner_name: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    partner_contact: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    # The staff member who runs it: requests added are accepted in their name.
    organizer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    branch: Mapped[Branch] = relationship()
    kind: Mapped[ServiceKind] = relationship(lazy="joined")
    organizer: Mapped[User] = relationship(foreign_keys=[organizer_id], lazy="joined")

    # Filled by the sessions list: how many requests the session serves.
    listed_served: Mapped[int | None] = query_expression()

    @property
    def completed(self) -> bool:
        return self.completed_at is not None

    def can_manage(self, user: User) -> bool:
        """Admins and the branch head add requests to it."""
        return user.can_manage_branch(self.branch_id)

    def visible_to(self, user: User) -> bool:
        """Admins, the branch head and the organizer (who records attendance)."""
        return self.can_manage(user) or user.id == self.organizer_id

    @staticmethod
    def visible_filter(user: User):
        """``visible_to`` as a WHERE clause."""
        if user.role == Role.ADMIN:
            return sa.true()
        if user.role == Role.HEAD:
            return ServiceSession.branch_id == user.branch_id
        return ServiceSession.organizer_id == user.id


class ServiceRequest(db.Model):
    """One borrower's request for one kind of service, through its lifecycle."""

    __tablename__ = "service_requests"
    __table_args__ = (
        # A visit and its amendments open at most one request per kind of need.
        sa.UniqueConstraint("source_visit_root_id", "kind_code"),
        sa.Index("ix_service_requests_branch_status", "branch_id", "status", "respond_by"),
        sa.Index("ix_service_requests_assignee_status", "assignee_id", "status"),
        sa.Index("ix_service_requests_borrower", "borrower_id", "submitted_at"),
        sa.Index("ix_service_requests_rated_at", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"))
    # Copied from the borrower so the branch queue needs no join.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    kind_code: Mapped[str] = mapped_column(sa.ForeignKey("service_kinds.code"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    preferred_time: Mapped[str] = mapped_column(sa.String(100), default="")
    source: Mapped[RequestSource] = mapped_column(
        enum_type(RequestSource, 16), default=RequestSource.PORTAL
    )
    # The signed visit that opened it, and the original that visit is or amends.
    source_visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    source_visit_root_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"))
    status: Mapped[ServiceStatus] = mapped_column(
        enum_type(ServiceStatus, 16), default=ServiceStatus.SUBMITTED
    )

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The once-only token of the portal form that sent it (``portal.core.once``): the same
    # form posted twice finds this request instead of adding another.
    idempotency_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    planned_on: Mapped[date | None]
    # An outside partner who delivers it (a lawyer's office), and how to reach them; the
    # assignee is the staff member who arranges it.
    partner_name: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    partner_contact: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_sessions.id"), index=True)
    attended: Mapped[bool | None]

    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion_notes: Mapped[str] = mapped_column(sa.Text, default="")
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(sa.Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="")

    # Optimistic locking: two heads assigning at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    borrower: Mapped[Borrower] = relationship()
    branch: Mapped[Branch] = relationship()
    kind: Mapped[ServiceKind] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    session: Mapped[ServiceSession | None] = relationship()
    events: Mapped[list["ServiceEvent"]] = relationship(
        order_by="ServiceEvent.id", back_populates="request", cascade="all, delete-orphan"
    )
    # Filled by lists with ``overdue_clause`` so the flag is computed by the database.
    listed_overdue: Mapped[bool | None] = query_expression()

    @property
    def status_label(self):
        return SERVICE_STATUS_LABELS[self.status]

    @property
    def source_label(self):
        return REQUEST_SOURCE_LABELS[self.source]

    @property
    def last_answer_day(self) -> date:
        """The last day to answer, in the company's time zone."""
        return last_day_before(self.respond_by)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Not yet answered (accepted or declined) after the first-response deadline."""
        return self.status == ServiceStatus.SUBMITTED and self.respond_by < (now or utcnow())

    @classmethod
    def overdue_clause(cls, now: datetime):
        """``is_overdue`` as SQL, for lists and counts."""
        return sa.and_(cls.status == ServiceStatus.SUBMITTED, cls.respond_by < now)

    def visible_to(self, user: User) -> bool:
        """Whoever sees the borrower now, and the staff member it is assigned to.

        A finished request is the borrower's history: an officer who looked after the
        borrower before a reassignment no longer reaches it, as with visits. Open ones
        assigned to the former officer moved with the borrower
        (``portal.services.operations.hand_over_requests``).
        """
        if self.borrower.visible_to(user):
            return True
        if user.role == Role.BORROWER or user.id != self.assignee_id:
            return False
        return self.status in OPEN_STATUSES or not _looked_after_by(self.borrower_id, user)

    @staticmethod
    def assigned_filter(user: User):
        """Requests assigned to ``user`` that ``visible_to`` lets them reach; joins Borrower."""
        assigned = ServiceRequest.assignee_id == user.id
        if user.role != Role.OFFICER:
            return assigned
        looked_after = sa.exists().where(
            OfficerAssignment.borrower_id == ServiceRequest.borrower_id,
            OfficerAssignment.officer_id == user.id,
        )
        return sa.and_(
            assigned,
            sa.or_(
                ServiceRequest.status.in_(OPEN_STATUSES),
                Borrower.officer_id == user.id,
                ~looked_after,
            ),
        )

    def can_manage(self, user: User) -> bool:
        """Admins and the branch head assign, decline and schedule."""
        return user.can_manage_branch(self.branch_id)

    def can_complete(self, user: User) -> bool:
        """The assignee, or whoever manages the branch."""
        return self.can_manage(user) or (user.is_staff and user.id == self.assignee_id)


def _looked_after_by(borrower_id: int, user: User) -> bool:
    """Whether ``user`` is or was the officer of the borrower (the assignment history)."""
    return user.role == Role.OFFICER and db.session.scalar(
        sa.select(
            sa.exists().where(
                OfficerAssignment.borrower_id == borrower_id,
                OfficerAssignment.officer_id == user.id,
            )
        )
    )


class ServiceEvent(db.Model):
    """One step of a request's lifecycle: who did what, when, with which note."""

    __tablename__ = "service_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(20))
    from_status: Mapped[ServiceStatus | None] = mapped_column(enum_type(ServiceStatus, 16))
    to_status: Mapped[ServiceStatus] = mapped_column(enum_type(ServiceStatus, 16))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    request: Mapped[ServiceRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def action_label(self):
        return SERVICE_EVENT_LABELS.get(self.action, self.action)
