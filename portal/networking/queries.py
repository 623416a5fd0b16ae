"""Reading networking data: profiles, events and what their pages show."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower, BusinessType, Tier
from portal.branches.models import Branch
from portal.core.forms import optional_id
from portal.extensions import db
from portal.networking.details import describe
from portal.networking.models import (
    REPLY_LABELS,
    BusinessTag,
    Introduction,
    Invitation,
    NetworkingEvent,
    Outcome,
    ProfileEntry,
    ProfileSide,
    Reply,
)
from portal.networking.operations import invitable_filter
from portal.privacy import consents
from portal.privacy.models import Purpose

FILTER_LIMIT = 50


def profiles(borrower_ids: list[int], locale: str) -> dict[int, dict[str, list[str]]]:
    """{borrower id: {"offer": [labels], "need": [labels]}} in one query."""
    result: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"offer": [], "need": []})
    entries = db.session.scalars(
        sa.select(ProfileEntry)
        .where(ProfileEntry.borrower_id.in_(borrower_ids))
        .order_by(ProfileEntry.id)
    )
    for entry in entries:
        details = describe(entry.details)
        label = entry.label(locale) + (f" · {details}" if details else "")
        result[entry.borrower_id][entry.side.value].append(label)
    return result


def shown(borrower_ids: list[int]) -> set[int]:
    """Those of ``borrower_ids`` whose consent to networking stands: their profile may be
    shown and matched (one query for a page)."""
    if not borrower_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Borrower.id).where(
                Borrower.id.in_(borrower_ids), consents.given_filter(Purpose.NETWORKING)
            )
        )
    )


def profile_entries(borrower_id: int) -> list[ProfileEntry]:
    """The borrower's saved offers, then needs, in the order they were saved."""
    return db.session.scalars(
        sa.select(ProfileEntry)
        .where(ProfileEntry.borrower_id == borrower_id)
        .order_by(ProfileEntry.side.desc(), ProfileEntry.id)
    ).all()


def profile_form_data(borrower_id: int) -> dict:
    """The current profile as the profile form's data."""
    entries = db.session.scalars(
        sa.select(ProfileEntry).where(ProfileEntry.borrower_id == borrower_id)
    ).all()

    def pick(side: ProfileSide):
        chosen = [e for e in entries if e.side == side]
        return [e.tag_id for e in chosen if e.tag_id], "，".join(
            e.free_tag for e in chosen if not e.tag_id
        )

    (offers, free_offers), (needs, free_needs) = pick(ProfileSide.OFFER), pick(ProfileSide.NEED)
    return {"offers": offers, "free_offers": free_offers, "needs": needs, "free_needs": free_needs}


def profiles_statement(user: User, query: str = ""):
    """Borrowers the user sees, by name, optionally searched by name."""
    stmt = (
        sa.select(Borrower)
        .options(selectinload(Borrower.branch))
        .where(Borrower.visible_filter(user))
        .order_by(Borrower.full_name, Borrower.id)
    )
    if query:
        stmt = stmt.where(Borrower.full_name.contains(query.strip(), autoescape=True))
    return stmt


def tags_statement():
    """The vocabulary, in code order."""
    return sa.select(BusinessTag).order_by(BusinessTag.code)


def events_statement(user: User):
    """Events the user sees, the latest first."""
    return (
        sa.select(NetworkingEvent)
        .options(selectinload(NetworkingEvent.branch))
        .where(NetworkingEvent.visible_filter(user))
        .order_by(NetworkingEvent.held_on.desc(), NetworkingEvent.id.desc())
    )


@dataclass(frozen=True)
class Guest:
    """An invited borrower as the event page shows them."""

    invitation_id: int
    borrower_id: int
    name: str
    branch: str
    attended: bool
    visible: bool
    reply: Reply | None = None
    replied_at: datetime | None = None

    @property
    def reply_label(self):
        return REPLY_LABELS[self.reply] if self.reply else None


def guests(event: NetworkingEvent, user: User) -> list[Guest]:
    """The event's invited borrowers with their branch and attendance, by name."""
    rows = db.session.execute(
        sa.select(Invitation, Borrower, Branch.name)
        .join(Borrower, Invitation.borrower_id == Borrower.id)
        .join(Branch, Borrower.branch_id == Branch.id)
        .where(Invitation.event_id == event.id)
        .order_by(Borrower.full_name, Borrower.id)
    )
    return [
        Guest(
            inv.id,
            b.id,
            b.full_name,
            branch,
            inv.attended,
            b.visible_to(user),
            inv.reply,
            inv.replied_at,
        )
        for inv, b, branch in rows
    ]


def introductions(event: NetworkingEvent) -> list[Introduction]:
    """The event's introductions in the order they were recorded."""
    return list(
        db.session.scalars(
            sa.select(Introduction)
            .options(selectinload(Introduction.supplier), selectinload(Introduction.buyer))
            .where(Introduction.event_id == event.id)
            .order_by(Introduction.id)
        )
    )


@dataclass(frozen=True)
class Summary:
    """The figures at the top of an event's page."""

    invited: int
    attended: int
    introductions: int
    deals: int
    deal_total: Decimal
    coming: int = 0
    not_coming: int = 0

    @property
    def unanswered(self) -> int:
        return self.invited - self.coming - self.not_coming


def summary(guest_list: list[Guest], intros: list[Introduction]) -> Summary:
    """Count what the page already loaded."""
    deals = [i for i in intros if i.outcome == Outcome.DEAL]
    return Summary(
        invited=len(guest_list),
        attended=sum(g.attended for g in guest_list),
        introductions=len(intros),
        deals=len(deals),
        deal_total=sum((i.deal_amount or Decimal(0) for i in deals), Decimal(0)),
        coming=sum(g.reply == Reply.COMING for g in guest_list),
        not_coming=sum(g.reply == Reply.NOT_COMING for g in guest_list),
    )


def filtered_candidates(event: NetworkingEvent, user: User, form) -> list[Borrower]:
    """Borrowers the user sees that may be invited, narrowed by the filter form; only those
    who agreed to networking."""
    stmt = (
        sa.select(Borrower)
        .options(selectinload(Borrower.branch))
        .where(
            Borrower.visible_filter(user),
            invitable_filter(event),
            consents.given_filter(Purpose.NETWORKING),
        )
        .order_by(Borrower.full_name, Borrower.id)
        .limit(FILTER_LIMIT)
    )
    if form.q.data:
        stmt = stmt.where(Borrower.full_name.contains(form.q.data.strip(), autoescape=True))
    if form.tier.data in set(Tier):
        stmt = stmt.where(Borrower.tier == Tier(form.tier.data))
    if form.business_type.data in set(BusinessType):
        stmt = stmt.where(Borrower.business_type == BusinessType(form.business_type.data))
    if optional_id(form.tag.data):
        tagged = sa.select(ProfileEntry.borrower_id).where(
            ProfileEntry.tag_id == optional_id(form.tag.data)
        )
        stmt = stmt.where(Borrower.id.in_(tagged))
    return list(db.session.scalars(stmt))


def invited_ids(event: NetworkingEvent) -> set[int]:
    """Who is already invited."""
    return set(
        db.session.scalars(sa.select(Invitation.borrower_id).where(Invitation.event_id == event.id))
    )


def my_invitations(borrower_id: int) -> list[Invitation]:
    """The borrower's invitations, the latest event first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .join(Invitation.event)
            .options(sa.orm.contains_eager(Invitation.event).selectinload(NetworkingEvent.branch))
            .where(Invitation.borrower_id == borrower_id)
            .order_by(NetworkingEvent.held_on.desc(), Invitation.id.desc())
        )
    )
