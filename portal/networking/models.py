"""Business profiles (offers and needs), networking events, invitations and introductions."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class BusinessTag(db.Model):
    """A word of the admin's vocabulary for what borrowers offer and need."""

    __tablename__ = "business_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(40))
    name_en: Mapped[str] = mapped_column(sa.String(60))
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        """The name in ``locale``."""
        return self.name_en if str(locale) == "en" else self.name_zh


class ProfileSide(StrEnum):
    OFFER = "offer"
    NEED = "need"


class ProfileEntry(db.Model):
    """One thing a borrower offers or needs: a vocabulary tag or a free tag."""

    __tablename__ = "business_profile_entries"
    __table_args__ = (
        # Serves "counterparts with this key, in borrower order, first few only".
        sa.Index("ix_business_profile_entries_match", "match_key", "side", "borrower_id"),
        sa.Index("ix_business_profile_entries_borrower", "borrower_id", "side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    side: Mapped[ProfileSide] = mapped_column(enum_type(ProfileSide, 8))
    tag_id: Mapped[int | None] = mapped_column(sa.ForeignKey("business_tags.id"))
    free_tag: Mapped[str] = mapped_column(sa.String(40), default="")
    # "tag:<id>" or "free:<casefolded text>": an offer meets a need with the same key.
    match_key: Mapped[str] = mapped_column(sa.String(60))

    # How much, when and at what price (all optional): 60 head in March, 2 t a month.
    quantity: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    unit: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    per_month: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The season as a bit set of months (bit 0 = January); 0 is "any time".
    months: Mapped[int] = mapped_column(default=0, server_default="0")
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))

    tag: Mapped[BusinessTag | None] = relationship(lazy="joined")

    def label(self, locale: str) -> str:
        """The tag's name in ``locale``, or the free tag as typed."""
        return self.tag.name(locale) if self.tag else self.free_tag

    @property
    def details(self) -> "EntryDetails":
        return EntryDetails(self.quantity, self.unit, self.per_month, self.months, self.price)


DETAIL_FIELDS = ("quantity", "unit", "per_month", "months", "price")


def month_set(months: list[int]) -> int:
    """Months 1–12 as the bit set stored in ``ProfileEntry.months``."""
    return sum(1 << (month - 1) for month in set(months) if 1 <= month <= 12)


def month_list(bits: int) -> list[int]:
    """The months 1–12 of a bit set, in calendar order."""
    return [month for month in range(1, 13) if bits & (1 << (month - 1))]


@dataclass(frozen=True)
class EntryDetails:
    """What an offer or need says beyond its tag; every part optional."""

    quantity: Decimal | None = None
    unit: str = ""
    per_month: bool = False
    months: int = 0
    price: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self.quantity is None and not self.months and self.price is None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in DETAIL_FIELDS}


class NetworkingEvent(db.Model):
    """A 联谊活动 organised by a branch."""

    __tablename__ = "networking_events"
    __table_args__ = (sa.Index("ix_networking_events_branch_date", "branch_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    title: Mapped[str] = mapped_column(sa.String(100))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Branch] = relationship()

    def visible_to(self, user: User) -> bool:
        """Staff of the organising branch and the admin."""
        return user.role == Role.ADMIN or (
            user.role in (Role.HEAD, Role.OFFICER) and user.branch_id == self.branch_id
        )

    def can_manage(self, user: User) -> bool:
        """The organising branch's head and the admin."""
        return user.can_manage_branch(self.branch_id)

    @staticmethod
    def visible_filter(user: User):
        """``visible_to`` as a WHERE clause."""
        if user.role == Role.ADMIN:
            return sa.true()
        if user.role in (Role.HEAD, Role.OFFICER):
            return NetworkingEvent.branch_id == user.branch_id
        return sa.false()


class Reply(StrEnum):
    """A guest's answer to an invitation."""

    COMING = "coming"
    NOT_COMING = "not_coming"


REPLY_LABELS = {
    Reply.COMING: _l("Coming"),
    Reply.NOT_COMING: _l("Not coming"),
}


class Invitation(db.Model):
    """A borrower invited to an event, their reply, and whether they came."""

    __tablename__ = "event_invitations"
    __table_args__ = (sa.UniqueConstraint("event_id", "borrower_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("networking_events.id", ondelete="CASCADE"), index=True
    )
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    attended: Mapped[bool] = mapped_column(default=False)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Coming or not, as the borrower answered in the portal (or staff noted it); None
    # until they answer.
    reply: Mapped[Reply | None] = mapped_column(enum_type(Reply, 16))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    borrower: Mapped[Borrower] = relationship()
    event: Mapped[NetworkingEvent] = relationship()

    @property
    def reply_label(self):
        return REPLY_LABELS[self.reply] if self.reply else None

    def visible_to(self, user: User) -> bool:
        """The invited borrower, and whoever sees the event."""
        if user.role == Role.BORROWER:
            return self.borrower.user_id == user.id
        return self.event.visible_to(user)

    def can_answer(self, user: User) -> bool:
        """The borrower, or staff who look after them and see the event (an answer given
        by phone, by a borrower without a portal account)."""
        if user.role == Role.BORROWER:
            return self.borrower.user_id == user.id
        return self.event.visible_to(user) and self.borrower.visible_to(user)


class Outcome(StrEnum):
    OPEN = "open"
    DEAL = "deal"
    NO_DEAL = "no_deal"


OUTCOME_LABELS = {
    Outcome.OPEN: _l("Not known yet"),
    Outcome.DEAL: _l("Deal made"),
    Outcome.NO_DEAL: _l("No deal"),
}


class Introduction(db.Model):
    """Two attendees introduced at an event: the one who offers and the one who needs."""

    __tablename__ = "event_introductions"
    __table_args__ = (sa.UniqueConstraint("event_id", "supplier_id", "buyer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("networking_events.id", ondelete="CASCADE"), index=True
    )
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(sa.String(100), default="")
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome, 16), default=Outcome.OPEN)
    deal_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[NetworkingEvent] = relationship()
    supplier: Mapped[Borrower] = relationship(foreign_keys=[supplier_id])
    buyer: Mapped[Borrower] = relationship(foreign_keys=[buyer_id])

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]

    def visible_to(self, user: User) -> bool:
        """Whoever sees the event."""
        return self.event.visible_to(user)
