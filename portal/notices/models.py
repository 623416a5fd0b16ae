"""The borrower's notices, and how each borrower wants to hear of them."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class Notice(db.Model):
    """A line in the borrower's notices: something changed on a request or complaint.

    The text is chosen when shown (``portal.notices.queries``) so it follows the
    reader's language; ``params`` holds what the text needs. ``once_key`` names an
    occasion that must be told once only (a session's day-before reminder): a second
    notice with the same key is never stored.
    """

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_borrower_read", "borrower_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(40))
    subject_type: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[int]
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    once_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeChannel(db.Model):
    """A borrower's choice for one topic of notices: in the portal, by SMS, both or neither.

    No row means the default: both. ``portal.notices.channels`` says which topics may
    be switched off entirely (an opt-out) and which always stay in the portal.
    """

    __tablename__ = "notice_channels"

    borrower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    portal: Mapped[bool] = mapped_column(default=True)
    sms: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
