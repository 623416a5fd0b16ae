"""The history of a borrower's tier: every confirmation and override, with its reason."""

from datetime import datetime
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
