"""The borrower's notices."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class Notice(db.Model):
    """A line in the borrower's notices: something changed on a request or complaint.

    The text is chosen when shown (``portal.notices.queries``) so it follows the
    reader's language; ``params`` holds what the text needs.
    """

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_borrower_read", "borrower_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(40))
    subject_type: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[int]
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
