"""The borrower record, the officer assignment history and activation codes."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.accounts.models import Role, User
from portal.branches.models import Branch
from portal.core.crypto import EncryptedBytes, EncryptedText, blind_index
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class Tier(StrEnum):
    """Client tiers, set yearly and reviewed every half year."""

    STRATEGIC = "strategic"
    KEY = "key"
    GENERAL = "general"
    POTENTIAL = "potential"


class BirthdayCalendar(StrEnum):
    """Which calendar the borrower's birthday greeting follows."""

    GREGORIAN = "gregorian"
    LUNAR = "lunar"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class BusinessType(StrEnum):
    """What the borrower's business does."""

    PIG_FARMING = "pig_farming"
    DUCK_FARMING = "duck_farming"
    POULTRY = "poultry"
    VEGETABLES = "vegetables"
    FRUIT = "fruit"
    GRAIN = "grain"
    FEED_SUPPLY = "feed_supply"
    FARM_MACHINERY = "farm_machinery"
    TRANSPORT = "transport"
    RETAIL_SHOP = "retail_shop"
    RESTAURANT = "restaurant"
    HANDICRAFT = "handicraft"
    OTHER = "other"


TIER_LABELS = {
    Tier.STRATEGIC: _l("Strategic"),
    Tier.KEY: _l("Key"),
    Tier.GENERAL: _l("General"),
    Tier.POTENTIAL: _l("Potential"),
}
SEX_LABELS = {Sex.MALE: _l("Male"), Sex.FEMALE: _l("Female")}
BIRTHDAY_CALENDAR_LABELS = {
    BirthdayCalendar.GREGORIAN: _l("Gregorian calendar"),
    BirthdayCalendar.LUNAR: _l("Lunar calendar"),
}
BUSINESS_TYPE_LABELS = {
    BusinessType.PIG_FARMING: _l("Pig farming"),
    BusinessType.DUCK_FARMING: _l("Duck farming"),
    BusinessType.POULTRY: _l("Poultry"),
    BusinessType.VEGETABLES: _l("Vegetables"),
    BusinessType.FRUIT: _l("Fruit"),
    BusinessType.GRAIN: _l("Grain"),
    BusinessType.FEED_SUPPLY: _l("Feed supply"),
    BusinessType.FARM_MACHINERY: _l("Farm machinery"),
    BusinessType.TRANSPORT: _l("Transport"),
    BusinessType.RETAIL_SHOP: _l("Retail shop"),
    BusinessType.RESTAURANT: _l("Restaurant"),
    BusinessType.HANDICRAFT: _l("Handicraft"),
    BusinessType.OTHER: _l("Other"),
}


class Borrower(db.Model):
    """A borrower's profile; loans, visits and services hang on it."""

    __tablename__ = "borrowers"
    __table_args__ = (
        sa.Index("ix_borrowers_officer_name", "officer_id", "full_name"),
        sa.Index("ix_borrowers_branch_name", "branch_id", "full_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"), index=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)

    full_name: Mapped[str] = mapped_column(sa.String(50))
    # Pinyin initials (王小明 → wxm) let officers search on a tablet keyboard.
    name_initials: Mapped[str] = mapped_column(sa.String(50), index=True)
    # The numbers are encrypted at rest (portal/core/crypto.py); their blind indexes
    # (keyed hashes) serve exact lookups and keep them unique. Assigning a number keeps
    # its index and tail in step (``_keep_indexes``). NULL once anonymised.
    resident_id: Mapped[str | None] = mapped_column(EncryptedText)
    resident_id_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    # The last four characters, indexed, serve "search by the last digits".
    resident_id_tail: Mapped[str] = mapped_column(sa.String(4), index=True)
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, 8))
    mobile: Mapped[str | None] = mapped_column(EncryptedText)
    mobile_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    mobile_tail: Mapped[str] = mapped_column(sa.String(4), index=True)
    address: Mapped[str] = mapped_column(sa.String(200))
    village: Mapped[str] = mapped_column(sa.String(100))
    business_type: Mapped[BusinessType] = mapped_column(enum_type(BusinessType))
    business_description: Mapped[str] = mapped_column(sa.Text, default="")
    household_size: Mapped[int]
    monthly_income: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    monthly_expenses: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    guarantor_name: Mapped[str] = mapped_column(sa.String(50), default="")
    guarantor_phone: Mapped[str | None] = mapped_column(EncryptedText, default="")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    birthday_calendar: Mapped[BirthdayCalendar] = mapped_column(
        enum_type(BirthdayCalendar, 16), default=BirthdayCalendar.GREGORIAN
    )
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, 16), default=Tier.POTENTIAL, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Set when the retention run anonymised the borrower (docs/privacy.md): the records
    # stay for the statistics, the person is no longer in them.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: an edit made on a stale form is refused, not merged.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    branch: Mapped[Branch] = relationship()
    officer: Mapped[User] = relationship(foreign_keys=[officer_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @validates("resident_id", "mobile")
    def _keep_indexes(self, key: str, value: str | None) -> str | None:
        """Every assignment of a number sets its blind index and tail with it."""
        setattr(self, f"{key}_hash", blind_index(value) if value else None)
        setattr(self, f"{key}_tail", value[-4:].upper() if value else "")
        return value

    def visible_to(self, user: User) -> bool:
        """docs/product.md: admin all, head the branch, officer the assigned, borrower self."""
        if user.role == Role.ADMIN:
            return True
        if user.role == Role.HEAD:
            return user.branch_id == self.branch_id
        if user.role == Role.OFFICER:
            return user.id == self.officer_id
        return user.id == self.user_id

    def can_manage(self, user: User) -> bool:
        """Staff who may change this borrower's records."""
        return user.role != Role.BORROWER and self.visible_to(user)

    @staticmethod
    def visible_filter(user: User):
        """The same rule as ``visible_to``, as a WHERE clause for lists."""
        if user.role == Role.ADMIN:
            return sa.true()
        if user.role == Role.HEAD:
            return Borrower.branch_id == user.branch_id
        if user.role == Role.OFFICER:
            return Borrower.officer_id == user.id
        return Borrower.user_id == user.id

    def __str__(self) -> str:
        return self.full_name


class IdCardPhoto(db.Model):
    """The photo of the ID card, re-encoded after decoding; kept apart from the profile row."""

    __tablename__ = "id_card_photos"

    borrower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(EncryptedBytes)  # encrypted at rest
    media_type: Mapped[str] = mapped_column(sa.String(32))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfficerAssignment(db.Model):
    """Who looked after a borrower, from when to when (the history of reassignments)."""

    __tablename__ = "officer_assignments"
    __table_args__ = (sa.Index("ix_officer_assignments_officer", "officer_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        sa.ForeignKey("borrowers.id", ondelete="CASCADE"), index=True
    )
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    officer: Mapped[User] = relationship(foreign_keys=[officer_id])


class ActivationCode(db.Model):
    """A one-time code an officer hands to a borrower to set their own password."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a hash is stored: the code itself is printed once for the borrower.
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
