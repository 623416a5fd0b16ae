"""How a borrower wants to hear of things: per topic, in the portal and by SMS.

Every notice belongs to a topic. A borrower (or the staff who look after them, at the
borrower's word) chooses per topic whether it reaches them in the portal and by SMS.
Without a choice both are on. Notices about their own requests and complaints always
stay in the portal — they are the record of what happened — so only their SMS can be
switched off; invitations and group-session reminders can be switched off entirely
(an opt-out). docs/care.md, "Notices and reminders".
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.notices.models import NoticeChannel

SERVICES, COMPLAINTS, EVENTS, SESSIONS = "services", "complaints", "events", "sessions"
TOPICS = (SERVICES, COMPLAINTS, EVENTS, SESSIONS)
TOPIC_LABELS = {
    SERVICES: _l("My service requests: accepted, planned, completed"),
    COMPLAINTS: _l("My complaints: answered"),
    EVENTS: _l("Invitations to networking events"),
    SESSIONS: _l("Reminders the day before a group session"),
}
# Topics whose notices may be switched off in the portal too (an opt-out).
OPTIONAL = frozenset({EVENTS, SESSIONS})

# The topic of each notice (portal.notices.queries.NOTICE_TEXTS).
EVENT_TOPICS = {
    "service.opened_from_visit": SERVICES,
    "service.accepted": SERVICES,
    "service.scheduled": SERVICES,
    "service.handed_over": SERVICES,
    "service.declined": SERVICES,
    "service.completed": SERVICES,
    "complaint.escalated": COMPLAINTS,
    "complaint.resolved": COMPLAINTS,
    "event.invited": EVENTS,
    "session.tomorrow": SESSIONS,
    # Answers to a request to correct one's record: kept in the portal like a request's.
    "correction.done": SERVICES,
    "correction.declined": SERVICES,
}


@dataclass(frozen=True)
class Choice:
    """Whether one topic reaches the borrower in the portal and by SMS."""

    portal: bool = True
    sms: bool = True


DEFAULT = Choice()


def choices_of(borrower_id: int) -> dict[str, Choice]:
    """Every topic's choice for the borrower (defaults where none was made), one query."""
    saved = {
        row.topic: Choice(row.portal or row.topic not in OPTIONAL, row.sms)
        for row in db.session.scalars(
            sa.select(NoticeChannel).where(NoticeChannel.borrower_id == borrower_id)
        )
    }
    return {topic: saved.get(topic, DEFAULT) for topic in TOPICS}


def choices_for(borrower_ids: list[int], topic: str) -> dict[int, Choice]:
    """One topic's choice for many borrowers, one query (the periodic reminders)."""
    rows = db.session.scalars(
        sa.select(NoticeChannel).where(
            NoticeChannel.borrower_id.in_(borrower_ids), NoticeChannel.topic == topic
        )
    )
    saved = {row.borrower_id: Choice(row.portal or topic not in OPTIONAL, row.sms) for row in rows}
    return {borrower_id: saved.get(borrower_id, DEFAULT) for borrower_id in borrower_ids}


def choice(borrower_id: int, topic: str) -> Choice:
    return choices_for([borrower_id], topic)[borrower_id]
