"""What the evidence feature stores: borrowers' sites, the flags raised on visits, the head's checks.

A flag is a fact computed when a visit is signed (the visit itself stays frozen); the
head's check of a flagged visit is a record of its own. docs/visit-evidence.md gives
the rules.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.visits.models import Visit


class SiteSource(StrEnum):
    VISITS = "visits"  # established from the first visits with a position fix
    PINNED = "pinned"  # pinned by the officer, in force once the head confirms it


class BorrowerSite(db.Model):
    """Where the borrower's business is, against which each visit's position is measured."""

    __tablename__ = "borrower_sites"

    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"), primary_key=True)
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    source: Mapped[SiteSource] = mapped_column(enum_type(SiteSource, 8))
    established_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pinned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class VisitFlag(db.Model):
    """One reason to check a visit, raised when it was signed ("far_from_site", "photo_reused"…).

    ``detail`` holds the figures the reason is told with (distance, seconds, the other
    visit and photo). Branch, officer and visit time are copied from the visit, so the
    head's list of a branch and month is read from this table's index alone.
    """

    __tablename__ = "visit_flags"
    __table_args__ = (
        sa.Index("ix_visit_flags_branch_visited", "branch_id", "visited_at"),
        sa.Index("ix_visit_flags_officer_visited", "officer_id", "visited_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    code: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()


class ReviewAction(StrEnum):
    CONFIRMED = "confirmed"  # the head confirmed the visit genuine
    ASKED = "asked"  # the head asked the officer to explain
    ANSWERED = "answered"  # the officer answered the head's question; the head checks again


class VisitReview(db.Model):
    """The head's action on a flagged visit, with a note; the newest one is its state."""

    __tablename__ = "visit_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    action: Mapped[ReviewAction] = mapped_column(enum_type(ReviewAction, 16))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    reviewed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()
    reviewed_by: Mapped[User] = relationship()
