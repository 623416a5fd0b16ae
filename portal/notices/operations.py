"""Writes of notices: the features that change a borrower's request, complaint or
invitation tell the borrower here. They flush and audit; the view (or job) commits."""

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.operations import record
from portal.database import utcnow
from portal.extensions import db
from portal.notices import channels
from portal.notices.models import Notice, NoticeChannel
from portal.notices.sms import text_borrower

# What a notice is about, by the class of ``about``.
SUBJECT_TYPES = {
    "Complaint": "complaint",
    "ServiceRequest": "service_request",
    "Invitation": "invitation",
    "CorrectionRequest": "correction_request",
}


def notify(borrower_id: int, event: str, about, *, once_key: str | None = None, **params):
    """Tell the borrower that ``about`` (a request, complaint or invitation) changed.

    ``event`` names the text (``portal.notices.queries.NOTICE_TEXTS``); ``params`` are
    what it needs. The borrower's choices for the event's topic decide whether it
    shows in the portal and whether it is texted (``portal.notices.channels``). With
    ``once_key`` the occasion is told once only: a second call with the same key does
    nothing. Returns the portal notice, or None when none was stored.
    """
    subject_type = SUBJECT_TYPES[type(about).__name__]
    if about.id is None:
        db.session.flush()
    if once_key is not None and _told(once_key):
        return None
    choice = channels.choice(borrower_id, channels.EVENT_TOPICS[event])
    notice = None
    if choice.portal:
        notice = _store(
            borrower_id=borrower_id,
            event=event,
            subject_type=subject_type,
            subject_id=about.id,
            params={key: _plain(value) for key, value in params.items()},
            once_key=once_key,
        )
        if notice is None:
            return None  # a run at the same time told it first
    if choice.sms:
        key = once_key or f"{event}:{about.id}:{uuid.uuid4().hex[:16]}"
        text_borrower(borrower_id, event, subject_type, about.id, key, params)
    return notice


def _store(**values) -> Notice | None:
    """Add the notice; one with a ``once_key`` is inserted unless the key exists."""
    if values["once_key"] is None:
        notice = Notice(**values)
        db.session.add(notice)
        return notice
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    notice_id = db.session.execute(
        insert(Notice.__table__)
        .on_conflict_do_nothing(index_elements=["once_key"])
        .returning(Notice.id),
        values | {"created_at": utcnow()},
    ).scalar()
    return None if notice_id is None else db.session.get(Notice, notice_id)


def _told(once_key: str) -> bool:
    """Whether the occasion was told already, in the portal or by SMS."""
    from portal.care.models import OutboxMessage

    in_portal = sa.select(Notice.id).where(Notice.once_key == once_key)
    texted = sa.select(OutboxMessage.id).where(OutboxMessage.once_key == f"notice:{once_key}")
    return bool(db.session.scalar(sa.select(sa.or_(sa.exists(in_portal), sa.exists(texted)))))


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def mark_all_read(borrower_id: int) -> int:
    """Mark every unread notice of the borrower as read; return how many."""
    result = db.session.execute(
        sa.update(Notice)
        .where(Notice.borrower_id == borrower_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    record("notice.read_all", None, f"borrower {borrower_id}: {result.rowcount} read")
    return result.rowcount


def save_choices(borrower_id: int, wanted: dict[str, channels.Choice], actor) -> None:
    """Store the borrower's channel per topic; a required portal channel stays on."""
    rows = {
        row.topic: row
        for row in db.session.scalars(
            sa.select(NoticeChannel).where(NoticeChannel.borrower_id == borrower_id)
        )
    }
    summary = []
    for topic in channels.TOPICS:
        choice = wanted.get(topic, channels.DEFAULT)
        portal = choice.portal or topic not in channels.OPTIONAL
        row = rows.get(topic)
        if row is None:
            row = NoticeChannel(borrower_id=borrower_id, topic=topic)
            db.session.add(row)
        row.portal, row.sms, row.updated_by_id = portal, choice.sms, actor.id
        summary.append(f"{topic}={'p' if portal else '-'}{'s' if choice.sms else '-'}")
    record("notice.channels", None, f"borrower {borrower_id}: {' '.join(summary)}")
