"""Consents by purpose, their history, and the borrower's correction requests."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.crypto import EncryptedText
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class Purpose(StrEnum):
    """What the borrower's personal information is processed for, each consented apart."""

    LOAN = "loan"  # required: the loan, its visits and its records
    GREETINGS = "greetings"  # birthday and holiday greetings by SMS
    NETWORKING = "networking"  # the business profile shown to other borrowers
    PHOTOS = "photos"  # photos taken on visits
    SURVEYS = "surveys"  # satisfaction surveys


OPTIONAL_PURPOSES = (Purpose.GREETINGS, Purpose.NETWORKING, Purpose.PHOTOS, Purpose.SURVEYS)

PURPOSE_LABELS = {
    Purpose.LOAN: _l("Processing for the loan"),
    Purpose.GREETINGS: _l("Care greetings by SMS"),
    Purpose.NETWORKING: _l("Business profile shown to other borrowers"),
    Purpose.PHOTOS: _l("Photos on visits"),
    Purpose.SURVEYS: _l("Satisfaction surveys"),
}


class ConsentMethod(StrEnum):
    """How a consent was given or withdrawn."""

    PAPER = "paper"  # on paper, with the officer
    PORTAL = "portal"  # by the borrower in the portal
    # Recorded before consents were kept by purpose: the one consent at onboarding (and
    # the greetings choice) carried over by migration 0023.
    CARRIED_OVER = "carried_over"
    # Ended by the retention run when it anonymised the borrower (portal/retention/run.py).
    RETENTION = "retention"


CONSENT_METHOD_LABELS = {
    ConsentMethod.PAPER: _l("On paper, with the officer"),
    ConsentMethod.PORTAL: _l("By the borrower in the portal"),
    ConsentMethod.CARRIED_OVER: _l("Carried over from the single consent at onboarding"),
    ConsentMethod.RETENTION: _l("Ended when the borrower was anonymised (retention schedule)"),
}


class Consent(db.Model):
    """Where one borrower's consent to one purpose stands now (one row per purpose).

    Every decision is also kept in ``consent_events``; this row is what features ask
    before they act (portal/privacy/consents.py).
    """

    __tablename__ = "consents"
    __table_args__ = (
        sa.UniqueConstraint("borrower_id", "purpose"),
        # "Borrowers who agreed to X": the greetings run and the networking matches.
        sa.Index("ix_consents_purpose_given", "purpose", "given", "borrower_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    purpose: Mapped[Purpose] = mapped_column(enum_type(Purpose, 16))
    given: Mapped[bool]
    text_version: Mapped[str] = mapped_column(sa.String(20))
    method: Mapped[ConsentMethod] = mapped_column(enum_type(ConsentMethod, 16))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    borrower: Mapped[Borrower] = relationship()
    decided_by: Mapped[User | None] = relationship()


class ConsentEvent(db.Model):
    """One decision on a consent (given or withdrawn): who, when, which text, how. Never
    changed once written."""

    __tablename__ = "consent_events"
    __table_args__ = (sa.Index("ix_consent_events_borrower", "borrower_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    purpose: Mapped[Purpose] = mapped_column(enum_type(Purpose, 16))
    given: Mapped[bool]
    text_version: Mapped[str] = mapped_column(sa.String(20))
    method: Mapped[ConsentMethod] = mapped_column(enum_type(ConsentMethod, 16))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    decided_by: Mapped[User | None] = relationship()


class CorrectionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DECLINED = "declined"


class CorrectionRequest(db.Model):
    """A borrower's request to correct one named field of their record, with a note."""

    __tablename__ = "correction_requests"
    __table_args__ = (sa.Index("ix_correction_requests_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE"), index=True
    )
    # The field's name in the borrower record (portal/privacy/corrections.py lists them).
    field: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[CorrectionStatus] = mapped_column(
        enum_type(CorrectionStatus, 16), default=CorrectionStatus.OPEN
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[date]
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(sa.String(500), default="")

    borrower: Mapped[Borrower] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    def visible_to(self, user: User) -> bool:
        """Whoever sees the borrower (their current officer, the head, the admin, they)."""
        return self.borrower.visible_to(user)


class IdentityCorrection(db.Model):
    """One identity field of a borrower corrected by a head, with the value it replaced.

    The old and new values are encrypted like the numbers they may be (portal/core/
    crypto.py); the audit log names the field and the reason with masked values only.
    Anonymisation (portal/retention/run.py) blanks both values and keeps the fact.
    """

    __tablename__ = "identity_corrections"
    __table_args__ = (sa.Index("ix_identity_corrections_borrower", "borrower_id", "corrected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    # The field's name in the borrower record: full_name, resident_id, birth_date, sex.
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(EncryptedText)
    new_value: Mapped[str | None] = mapped_column(EncryptedText)
    reason: Mapped[str] = mapped_column(sa.String(500))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    corrected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    corrected_by: Mapped[User | None] = relationship()
