"""A borrower's tier: the history of decisions, and the stored suggestion."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Tier
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class Decision(StrEnum):
    """How the head decided: took the portal's suggestion, or chose another tier."""

    CONFIRMED = "confirmed"
    OVERRIDDEN = "overridden"


DECISION_LABELS = {
    Decision.CONFIRMED: _l("Suggestion confirmed"),
    Decision.OVERRIDDEN: _l("Overridden"),
}


class TierChange(db.Model):
    """One decision on a borrower's tier; the newest is the tier in force."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        sa.Index("ix_tier_changes_borrower", "borrower_id", "decided_at"),
        sa.Index("ix_tier_changes_period", "period", "borrower_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    from_tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16))
    to_tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16))
    suggested_tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16))
    decision: Mapped[Decision] = mapped_column(enum_type(Decision, 16))
    # "2026" for the yearly setting, "2026-H2" for a half-yearly review, "" for one-off changes.
    period: Mapped[str] = mapped_column(sa.String(8), default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decided_by: Mapped[User | None] = relationship()


class TierSuggestion(db.Model):
    """The tier the rules suggest for a borrower, stored with the facts it rests on.

    Kept current in the transaction that changes those facts (portal/tiers/stored.py)
    and refreshed nightly for what time alone changes, so the review pages read pages
    of these instead of judging a whole branch per view. A row is trusted only while
    ``for_tier`` is the tier in force and ``recheck_on`` has not come; otherwise the
    suggestion is judged afresh (docs/tiers.md).
    """

    __tablename__ = "tier_suggestions"

    borrower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE"), primary_key=True
    )
    # The borrower's branch (borrowers never change branch), so that the review page
    # reads one branch's suggestions from this index instead of joining all of them:
    # PostgreSQL hashed the whole table for a branch of 5,000 (docs/performance.md).
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"), index=True)
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16))
    # The tier in force it was judged against (marks hold a tier down, docs/tiers.md).
    for_tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16))
    # The facts' date, and the first day time alone may change the answer (None: never).
    as_of: Mapped[date] = mapped_column(sa.Date)
    recheck_on: Mapped[date | None] = mapped_column(sa.Date)
    # The facts, so that the reasons are worded in the reader's language.
    lent_total: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=0)
    loans: Mapped[int] = mapped_column(default=0)
    first_disbursed: Mapped[date | None] = mapped_column(sa.Date)
    overdue_now: Mapped[bool] = mapped_column(default=False)
    max_overdue_days: Mapped[int] = mapped_column(default=0)
    written_off: Mapped[bool] = mapped_column(default=False)
    orange_visits: Mapped[int] = mapped_column(default=0)
    red_visits: Mapped[int] = mapped_column(default=0)
