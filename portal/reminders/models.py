"""What staff are reminded of, and whether they want it by SMS too."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.crypto import EncryptedText
from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class StaffNotice(db.Model):
    """A reminder for one member of staff: this morning's visits, a late red warning.

    The text is chosen when shown, in the reader's language, from ``kind`` and
    ``params``. ``once_key`` is unique: a periodic run that comes twice (two workers,
    a run by hand) finds the reminder already there and tells nobody again.
    """

    __tablename__ = "staff_notices"
    __table_args__ = (sa.Index("ix_staff_notices_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    # The red warning a late-warning reminder is about; None for the morning's visits.
    subject_id: Mapped[int | None]
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    once_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSms(db.Model):
    """A member of staff's own mobile number and whether their reminders are texted too."""

    __tablename__ = "staff_sms"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    mobile: Mapped[str] = mapped_column(EncryptedText, default="")  # encrypted at rest
    opted_in: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
