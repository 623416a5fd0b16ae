"""Writes of the networking feature. They flush and audit; the view commits."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.actions import Refused
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.networking.models import (
    BusinessTag,
    EntryDetails,
    Introduction,
    Invitation,
    NetworkingEvent,
    Outcome,
    ProfileEntry,
    ProfileSide,
    Reply,
    month_list,
)
from portal.notices.operations import notify
from portal.privacy import consents
from portal.privacy.models import Purpose

FREE_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
MAX_FREE_TAGS = 10
FREE_TAG_LENGTH = 40
TAG_FIELDS = ("code", "name_zh", "name_en", "active")
EVENT_FIELDS = ("title", "held_on", "place", "description")


class NetworkingError(Refused):
    """A refused networking action; the message is shown to the user."""


# --- vocabulary ------------------------------------------------------------------------


def create_tag(**values) -> BusinessTag:
    """Add a word to the vocabulary."""
    tag = BusinessTag(**{key: values[key] for key in TAG_FIELDS if key in values})
    db.session.add(tag)
    record("networking.tag_create", tag, f"{tag.code} {tag.name_zh}/{tag.name_en}")
    return tag


def update_tag(tag: BusinessTag, **values) -> None:
    """Rename or retire a word; its code stays."""
    for key in TAG_FIELDS[1:]:
        if key in values:
            setattr(tag, key, values[key])
    record("networking.tag_update", tag, f"{tag.code} active={tag.active}")


# --- business profiles -----------------------------------------------------------------


def split_free_tags(text: str) -> list[str]:
    """Free tags typed as one line, separated by commas (either width), 、 or ；."""
    seen, tags = set(), []
    for part in FREE_TAG_SEPARATORS.split(text or ""):
        tag = " ".join(part.split())
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def check_free_tags(tags: list[str]) -> None:
    """Raise NetworkingError for too many or too long free tags."""
    if len(tags) > MAX_FREE_TAGS:
        raise NetworkingError(
            lazy_ngettext(
                "At most %(num)d free tag on each side.",
                "At most %(num)d free tags on each side.",
                MAX_FREE_TAGS,
            )
        )
    if any(len(tag) > FREE_TAG_LENGTH for tag in tags):
        raise NetworkingError(
            _l("A free tag may have at most %(length)s characters.", length=FREE_TAG_LENGTH)
        )


def _vocabulary_by_name() -> dict[str, BusinessTag]:
    tags = db.session.scalars(sa.select(BusinessTag).where(BusinessTag.active))
    return {name.casefold(): tag for tag in tags for name in (tag.name_zh, tag.name_en)}


def _entries(borrower_id: int, side: ProfileSide, tag_ids, free_tags, vocabulary) -> list:
    keys, entries = set(), []
    for tag_id in tag_ids:
        keys.add(f"tag:{tag_id}")
        entries.append(ProfileEntry(side=side, tag_id=tag_id, match_key=f"tag:{tag_id}"))
    for text in free_tags:
        # A free tag that is a vocabulary word in either language becomes that word,
        # so "feed" typed by one officer meets 饲料 picked by another.
        tag = vocabulary.get(text.casefold())
        key = f"tag:{tag.id}" if tag else f"free:{text.casefold()}"
        if key not in keys:
            keys.add(key)
            entries.append(
                ProfileEntry(
                    side=side, tag_id=tag.id if tag else None, free_tag="" if tag else text,
                    match_key=key,
                )
            )  # fmt: skip
    for entry in entries:
        entry.borrower_id = borrower_id
    return entries


def set_profile(
    borrower: Borrower,
    *,
    offer_tag_ids: list[int],
    need_tag_ids: list[int],
    free_offers: list[str],
    free_needs: list[str],
    details: dict[tuple, EntryDetails] | None = None,
) -> None:
    """Replace what the borrower offers and needs.

    An entry kept from before keeps its quantity, season and price unless ``details``
    (keyed by (side, match key)) gives new ones.
    """
    check_free_tags(free_offers)
    check_free_tags(free_needs)
    for item in (details or {}).values():
        check_details(item)
    vocabulary = _vocabulary_by_name()
    before = db.session.scalars(
        sa.select(ProfileEntry).where(ProfileEntry.borrower_id == borrower.id)
    ).all()
    kept = {(entry.side, entry.match_key): entry.details for entry in before} | (details or {})
    db.session.execute(sa.delete(ProfileEntry).where(ProfileEntry.borrower_id == borrower.id))
    entries = _entries(borrower.id, ProfileSide.OFFER, offer_tag_ids, free_offers, vocabulary)
    entries += _entries(borrower.id, ProfileSide.NEED, need_tag_ids, free_needs, vocabulary)
    for entry in entries:
        for name, value in (
            kept.get((entry.side, entry.match_key), EntryDetails()).as_dict().items()
        ):
            setattr(entry, name, value)
    db.session.add_all(entries)
    summary = ", ".join(f"{e.side.value}:{e.match_key}{_details_summary(e)}" for e in entries)
    record("networking.profile_set", borrower, summary)


def _details_summary(entry: ProfileEntry) -> str:
    details = entry.details
    if details.empty:
        return ""
    month_part = ",".join(str(m) for m in month_list(details.months))
    return (
        f"[{details.quantity or ''}{details.unit}{'/month' if details.per_month else ''}"
        f" months={month_part} price={details.price or ''}]"
    )


def check_details(details: EntryDetails) -> None:
    """Raise NetworkingError for a quantity or price without a unit, or a negative one."""
    for value in (details.quantity, details.price):
        if value is not None and value < 0:
            raise NetworkingError(_l("Quantities and prices cannot be negative."))
    if (details.quantity is not None or details.price is not None) and not details.unit.strip():
        raise NetworkingError(_l("Give the unit of the quantity or price (head, t, kg)."))


# --- events ----------------------------------------------------------------------------


def create_event(branch_id: int, created_by: User, **values) -> NetworkingEvent:
    """Plan an event for a branch."""
    event = NetworkingEvent(
        branch_id=branch_id,
        created_by_id=created_by.id,
        **{key: values[key] for key in EVENT_FIELDS},
    )
    db.session.add(event)
    record("networking.event_create", event, f"{event.held_on} {event.title}")
    return event


def update_event(event: NetworkingEvent, **values) -> None:
    """Change an event's title, date, place or description."""
    for key in EVENT_FIELDS:
        setattr(event, key, values[key])
    record("networking.event_update", event, f"{event.held_on} {event.title}")


def invitable_filter(event: NetworkingEvent):
    """Borrowers who may be invited: the event's branch, and its region when it has one."""
    region = db.session.scalar(sa.select(Branch.region).where(Branch.id == event.branch_id))
    if not region:
        return Borrower.branch_id == event.branch_id
    in_region = sa.select(Branch.id).where(Branch.region == region)
    return Borrower.branch_id.in_(in_region)


def invite(event: NetworkingEvent, borrower_ids: list[int], invited_by: User) -> int:
    """Invite borrowers not yet invited; refuse anyone outside the event's region."""
    wanted = set(borrower_ids)
    allowed = set(
        db.session.scalars(
            sa.select(Borrower.id).where(Borrower.id.in_(wanted), invitable_filter(event))
        )
    )
    if wanted - allowed:
        raise NetworkingError(_l("Only borrowers of this branch or its region can be invited."))
    unwilling = db.session.scalars(
        sa.select(Borrower.full_name)
        .where(Borrower.id.in_(wanted), ~consents.given_filter(Purpose.NETWORKING))
        .order_by(Borrower.full_name)
    ).all()
    if unwilling:
        raise NetworkingError(
            _l(
                "These borrowers have not agreed to networking, so they cannot be invited: %(names)s.",
                names=", ".join(unwilling),
            )
        )
    already = set(
        db.session.scalars(
            sa.select(Invitation.borrower_id).where(
                Invitation.event_id == event.id, Invitation.borrower_id.in_(wanted)
            )
        )
    )
    new = sorted(wanted - already)
    invitations = [
        Invitation(event_id=event.id, borrower_id=i, invited_by_id=invited_by.id) for i in new
    ]
    db.session.add_all(invitations)
    db.session.flush()
    # An event already held is recorded after the fact: nobody is invited to the past.
    for invitation in invitations if event.held_on >= local_today() else []:
        notify(
            invitation.borrower_id,
            "event.invited",
            invitation,
            once_key=f"event.invited:{invitation.id}",
            title=event.title,
            date=event.held_on,
            place=event.place,
        )
    record("networking.invite", event, f"{len(new)} invited: {new}")
    return len(new)


def reply(invitation: Invitation, answer: Reply, replied_by: User, today: date) -> None:
    """Record the guest's answer (coming or not); it may change until the event's day."""
    if invitation.event.held_on < today:
        raise NetworkingError(_l("This event has already taken place."))
    invitation.reply = answer
    invitation.replied_at = utcnow()
    invitation.replied_by_id = replied_by.id
    record("networking.reply", invitation.event, f"borrower {invitation.borrower_id}: {answer}")


def set_attendance(event: NetworkingEvent, attended_ids: set[int], today: date) -> None:
    """Mark who came; everyone else invited did not."""
    if event.held_on > today:
        raise NetworkingError(_l("Attendance can be recorded from the day of the event."))
    invitations = db.session.scalars(sa.select(Invitation).where(Invitation.event_id == event.id))
    for invitation in invitations:
        invitation.attended = invitation.borrower_id in attended_ids
    record("networking.attendance", event, f"attended: {sorted(attended_ids)}")


def _attendees(event: NetworkingEvent) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Invitation.borrower_id).where(
                Invitation.event_id == event.id, Invitation.attended
            )
        )
    )


def add_introduction(
    event: NetworkingEvent, supplier_id: int, buyer_id: int, topic: str, recorded_by: User
) -> Introduction:
    """Record that two attendees were introduced to each other."""
    if supplier_id == buyer_id:
        raise NetworkingError(_l("Choose two different borrowers."), field="buyer_id")
    if not {supplier_id, buyer_id} <= _attendees(event):
        raise NetworkingError(_l("Both borrowers must have attended the event."), field="buyer_id")
    exists = db.session.scalar(
        sa.select(Introduction.id).filter_by(
            event_id=event.id, supplier_id=supplier_id, buyer_id=buyer_id
        )
    )
    if exists is not None:
        raise NetworkingError(_l("This introduction is already recorded."), field="buyer_id")
    introduction = Introduction(
        event_id=event.id,
        supplier_id=supplier_id,
        buyer_id=buyer_id,
        topic=topic.strip(),
        recorded_by_id=recorded_by.id,
    )
    db.session.add(introduction)
    record("networking.introduction", introduction, f"{supplier_id} -> {buyer_id} {topic}")
    return introduction


def set_outcome(introduction: Introduction, outcome: Outcome, amount: Decimal | None) -> None:
    """Record whether the introduction led to a deal, and for how much."""
    if outcome != Outcome.DEAL and amount is not None:
        raise NetworkingError(_l("An amount can only be given for a deal."))
    introduction.outcome = outcome
    introduction.deal_amount = amount
    record("networking.outcome", introduction, f"{outcome.value} {amount or ''}")
