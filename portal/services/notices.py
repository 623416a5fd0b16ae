"""Notices to borrowers: written by the operations, read on /me/notices."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.services.models import Notice, ServiceKind

# What the borrower reads; chosen when shown, so it follows the reader's language.
NOTICE_TEXTS = {
    "service.opened_from_visit": _l(
        "A request for %(kind)s was opened from the needs you named during a visit."
    ),
    "service.accepted": _l(
        "Your request for %(kind)s was accepted: %(assignee)s will help you around %(date)s."
    ),
    "service.scheduled": _l(
        "Your request for %(kind)s is part of the group session “%(title)s” on %(date)s, at %(place)s."
    ),
    "service.handed_over": _l(
        "Your request for %(kind)s is now with %(assignee)s, your new loan officer."
    ),
    "service.declined": _l("Your request for %(kind)s was declined: %(reason)s"),
    "service.completed": _l("Your request for %(kind)s is completed. Please tell us how it went."),
    "complaint.escalated": _l("Your complaint “%(subject)s” was passed to the branch head."),
    "complaint.resolved": _l(
        "Your complaint “%(subject)s” has an answer. Please tell us if you are satisfied."
    ),
}
SUBJECT_ENDPOINTS = {
    "service_request": ("services.my_request", "request_id"),
    "complaint": ("complaints.my_complaint", "complaint_id"),
}


def notify(borrower_id: int, event: str, about, **params) -> Notice:
    """Tell the borrower that ``about`` (a request or complaint) changed."""
    subject_type = "complaint" if type(about).__name__ == "Complaint" else "service_request"
    if about.id is None:
        db.session.flush()
    notice = Notice(
        borrower_id=borrower_id,
        event=event,
        subject_type=subject_type,
        subject_id=about.id,
        params={key: _plain(value) for key, value in params.items()},
    )
    db.session.add(notice)
    return notice


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def unread_count(user_id: int) -> int:
    """Unread notices of the borrower who logs in as ``user_id`` (one COUNT)."""
    return db.session.scalar(
        sa.select(sa.func.count(Notice.id))
        .join(Borrower, Borrower.id == Notice.borrower_id)
        .where(Borrower.user_id == user_id, Notice.read_at.is_(None))
    )


def mark_all_read(borrower_id: int) -> int:
    """Mark every unread notice of the borrower as read; return how many."""
    result = db.session.execute(
        sa.update(Notice)
        .where(Notice.borrower_id == borrower_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    record("notice.read_all", None, f"borrower {borrower_id}: {result.rowcount} read")
    return result.rowcount


@dataclass(frozen=True)
class ShownNotice:
    """A notice ready for the page: its text in the reader's language and its link."""

    text: str
    url: str
    created_at: object
    unread: bool


def shown(notices: list[Notice]) -> list[ShownNotice]:
    """Texts and links of ``notices``; kind names come from one query."""
    kinds = {kind.code: kind.name for kind in db.session.scalars(sa.select(ServiceKind))}
    return [_shown(notice, kinds) for notice in notices]


def _shown(notice: Notice, kinds: dict) -> ShownNotice:
    params = dict(notice.params or {})
    if "kind" in params:
        params["kind"] = kinds.get(params["kind"], params["kind"])
    if params.get("date"):
        params["date"] = format_date(date.fromisoformat(params["date"]), "medium")
    endpoint, argument = SUBJECT_ENDPOINTS[notice.subject_type]
    return ShownNotice(
        text=str(NOTICE_TEXTS[notice.event]) % params,
        url=url_for(endpoint, **{argument: notice.subject_id}),
        created_at=notice.created_at,
        unread=notice.read_at is None,
    )
