"""The officer's day plan and the entries received from the tablet's outbox (docs/field-kit.md)."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.visits.models import Visit


class DayPlan(db.Model):
    """The borrowers one officer plans to visit on one day of the company calendar.

    One row per officer and day; planning the same day again replaces its borrowers and
    keeps ``created_at`` (the tablet's signing times are bounded by it), noting
    ``replanned_at``.
    """

    __tablename__ = "day_plans"
    __table_args__ = (
        sa.UniqueConstraint("officer_id", "day"),
        # The head's "planned vs done" counts one branch's plans of a month by officer.
        sa.Index("ix_day_plans_branch_day", "branch_id", "day", "officer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # The officer's branch when planning, so the head's counts need no join.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    day: Mapped[date]
    # The day's bounds in UTC (local midnight to the next), for "visited on the planned day".
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    officer: Mapped[User] = relationship()
    stops: Mapped[list["PlannedBorrower"]] = relationship(
        back_populates="plan",
        order_by="PlannedBorrower.position",
        cascade="all, delete-orphan",
    )

    def visible_to(self, user: User) -> bool:
        """The officer's own plan; the head of the branch and admins read it."""
        return user.id == self.officer_id or user.can_manage_branch(self.branch_id)


class PlannedBorrower(db.Model):
    """One borrower on a day plan, in the order the officer means to visit them."""

    __tablename__ = "day_plan_borrowers"
    __table_args__ = (sa.Index("ix_day_plan_borrowers_borrower", "borrower_id"),)

    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("day_plans.id", ondelete="CASCADE"), primary_key=True
    )
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"), primary_key=True)
    position: Mapped[int]
    # The active loan when planned: a visit received for another loan is held (loan_closed).
    loan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loans.id"))

    plan: Mapped[DayPlan] = relationship(back_populates="stops")
    borrower: Mapped[Borrower] = relationship()


class Outcome(StrEnum):
    """What became of an entry received from the tablet's outbox."""

    STORED = "stored"
    HELD = "held"


class HoldReason(StrEnum):
    """Why an entry was held for the head instead of becoming a visit."""

    REASSIGNED = "reassigned"
    LOAN_CLOSED = "loan_closed"
    WINDOW_PASSED = "window_passed"
    INVALID = "invalid"
    HASH_MISMATCH = "hash_mismatch"
    TIME = "time"


HOLD_REASON_LABELS = {
    HoldReason.REASSIGNED: _l("The borrower is no longer looked after by this loan officer."),
    HoldReason.LOAN_CLOSED: _l("The loan that was planned is no longer active."),
    HoldReason.WINDOW_PASSED: _l("The time for recording this visit has passed."),
    HoldReason.INVALID: _l("The form has answers the portal cannot accept."),
    HoldReason.HASH_MISMATCH: _l("The entry was changed after it was signed on the tablet."),
    HoldReason.TIME: _l("The tablet's signing time is not plausible."),
}


def hold_reason_label(reason) -> str:
    return str(HOLD_REASON_LABELS[HoldReason(reason)])


class FieldEntry(db.Model):
    """One outbox entry received from an officer's tablet, exactly once per client id.

    Stored entries point to the visit they became. Held entries keep the whole body as
    received (the signature included) in ``payload`` and are never changed, except that
    the head records what was done (``handled_*``).
    """

    __tablename__ = "field_entries"
    __table_args__ = (
        # Exactly once: the tablet's id of the entry is unique per officer.
        sa.UniqueConstraint("officer_id", "client_id"),
        # The head's queue and menu badge: one branch's open held entries.
        sa.Index("ix_field_entries_branch_open", "branch_id", "outcome", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome, 8))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), unique=True)
    # Held entries: why, the form's errors (JSON), and the body as received (JSON text).
    reason: Mapped[HoldReason | None] = mapped_column(enum_type(HoldReason, 16))
    errors: Mapped[str] = mapped_column(sa.Text, default="")
    payload: Mapped[str] = mapped_column(sa.Text, default="")
    # The borrower named by the entry when there is one, and the branch whose head sees it.
    borrower_id: Mapped[int | None] = mapped_column(sa.ForeignKey("borrowers.id"))
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("branches.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_note: Mapped[str] = mapped_column(sa.Text, default="")

    officer: Mapped[User] = relationship(foreign_keys=[officer_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
    borrower: Mapped[Borrower | None] = relationship()
    visit: Mapped[Visit | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.outcome == Outcome.HELD and self.handled_at is None

    def visible_to(self, user: User) -> bool:
        """Held entries: the head of the borrower's branch and admins."""
        return self.outcome == Outcome.HELD and user.can_manage_branch(self.branch_id)
