"""Admin-added occasions, greeting templates and the outbox of greetings."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.accounts.models import Role, User
from portal.borrowers.masking import mask_numbers_in_text
from portal.borrowers.models import Borrower
from portal.care.occasions import OccasionRule
from portal.core.crypto import EncryptedText, blind_index
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db

BIRTHDAY = "birthday"
LOCALES = ("zh", "en")


class Occasion(db.Model):
    """An occasion the admin added beside the built-in holidays of ``occasions.py``."""

    __tablename__ = "care_occasions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    calendar: Mapped[str] = mapped_column(sa.String(16))
    month: Mapped[int | None]
    day: Mapped[int | None]
    term_name: Mapped[str | None] = mapped_column(sa.String(8))
    name_zh: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def rule(self) -> OccasionRule:
        """The pure date rule this row describes."""
        return OccasionRule(
            self.code,
            self.calendar,  # type: ignore[arg-type]
            self.month,
            self.day,
            self.term_name,
            names={"zh": self.name_zh, "en": self.name_en},
        )


class GreetingTemplate(db.Model):
    """The admin's wording of one occasion's greeting in one language."""

    __tablename__ = "greeting_templates"
    __table_args__ = (sa.UniqueConstraint("occasion_code", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Built-in occasions live in code, not in care_occasions, so this is a code, not a key.
    occasion_code: Mapped[str] = mapped_column(sa.String(40))
    locale: Mapped[str] = mapped_column(sa.String(8))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class OutboxStatus(StrEnum):
    """Where a greeting is on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    # The provider's delivery receipt says the phone received it (docs/sms.md).
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    # Not sent, and never will be: the borrower withdrew their consent to greetings
    # after it was queued (``last_error`` says so).
    CANCELLED = "cancelled"


OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.DELIVERED: _l("Delivered"),
    OutboxStatus.RETRYING: _l("Failed, will retry"),
    OutboxStatus.FAILED: _l("Failed"),
    OutboxStatus.CANCELLED: _l("Cancelled"),
}
RESENDABLE = frozenset({OutboxStatus.RETRYING, OutboxStatus.FAILED})


class OutboxMessage(db.Model):
    """One greeting for one borrower: the record of what was (or will be) sent."""

    __tablename__ = "care_outbox"
    __table_args__ = (
        # The database, not the job, guarantees one greeting per borrower, occasion and year;
        # notices and reminders (``once_key`` set) are kept once by their key instead.
        sa.Index(
            "uq_care_outbox_greeting",
            "borrower_id",
            "occasion_code",
            "year",
            unique=True,
            sqlite_where=sa.text("once_key IS NULL"),
            postgresql_where=sa.text("once_key IS NULL"),
        ),
        sa.Index("ix_care_outbox_branch_due", "branch_id", "due_on"),
        sa.Index("ix_care_outbox_branch_status", "branch_id", "status"),
        sa.Index("ix_care_outbox_status_next", "status", "next_attempt_at"),
        # A provider's delivery receipt names the message by its own id (docs/sms.md).
        sa.Index("ix_care_outbox_provider_ref", "gateway", "provider_ref"),
        # The daily limit counts what went to one number since the company's midnight,
        # by the number's blind index (the number itself is encrypted).
        sa.Index("ix_care_outbox_mobile_hash_sent", "mobile_hash", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a reminder to a member of staff (``user_id``).
    borrower_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE")
    )
    # Copied from the borrower so the branch head's outbox needs no join to filter.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    occasion_code: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[int]
    due_on: Mapped[date]
    locale: Mapped[str] = mapped_column(sa.String(8))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, 16), default=OutboxStatus.PENDING
    )
    gateway: Mapped[str] = mapped_column(sa.String(16), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What an approved provider template is filled with ({"name": …, "branch": …}),
    # stored with the wording when the greeting is queued (docs/sms.md).
    template_values: Mapped[dict | None] = mapped_column(sa.JSON)
    # The number it was handed to the gateway for, set when a run claims it: encrypted
    # at rest, its blind index kept beside it (``_keep_index``) for the daily limit.
    mobile: Mapped[str | None] = mapped_column(EncryptedText)
    mobile_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The provider's id of the sent message (Alibaba BizId, Tencent SerialNo) and its
    # latest code (the send answer's, then the delivery receipt's).
    provider_ref: Mapped[str | None] = mapped_column(sa.String(64))
    provider_code: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Notices to borrowers and reminders to staff (portal/care/texts.py): the key that
    # keeps each occasion once, and the member of staff a reminder is for.
    once_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))

    borrower: Mapped[Borrower | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @validates("mobile")
    def _keep_index(self, _key: str, value: str | None) -> str | None:
        self.mobile_hash = blind_index(value) if value else None
        return value

    @validates("last_error")
    def _masked_error(self, _key: str, value: str | None) -> str | None:
        # A gateway's error may quote the number it refused: kept masked, never in clear.
        return mask_numbers_in_text(value) if value else value

    @property
    def idempotency_key(self) -> str:
        """Stable across retries, so a receiving gateway can drop duplicates."""
        if self.once_key:
            return self.once_key
        return f"greeting-{self.borrower_id}-{self.occasion_code}-{self.year}"

    @property
    def recipient_name(self) -> str:
        """The borrower's name, or the staff member's for a reminder."""
        if self.borrower is not None:
            return self.borrower.full_name
        return self.user.display_name if self.user is not None else ""

    @property
    def resendable(self) -> bool:
        return self.status in RESENDABLE

    def visible_to(self, user: User) -> bool:
        """Heads see their branch's outbox, the admin every branch."""
        return user.role == Role.ADMIN or (
            user.role == Role.HEAD and user.branch_id == self.branch_id
        )
