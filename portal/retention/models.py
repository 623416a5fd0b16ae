"""Legal holds: a dispute or a lawsuit stops the retention run for one borrower."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class LegalHold(db.Model):
    """While a hold is in place (not lifted), nothing of the borrower is deleted."""

    __tablename__ = "legal_holds"
    __table_args__ = (sa.Index("ix_legal_holds_borrower_lifted", "borrower_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    placed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    borrower: Mapped[Borrower] = relationship()
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    def visible_to(self, user: User) -> bool:
        return self.borrower.visible_to(user)
