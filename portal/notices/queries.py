"""Reading notices: the borrower's list, the unread count, and their texts."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.borrowers.models import Borrower
from portal.core.i18n import date_text
from portal.extensions import db
from portal.notices.models import Notice

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
    "event.invited": _l(
        "You are invited to “%(title)s” on %(date)s, at %(place)s. Please tell us whether you "
        "are coming."
    ),
    "session.tomorrow": _l(
        "Reminder: the group session “%(title)s” for your request for %(kind)s is tomorrow, "
        "%(date)s, at %(place)s."
    ),
    "correction.done": _l("Your record was corrected as you asked: %(answer)s"),
    "correction.declined": _l("Your request to correct your record was declined: %(answer)s"),
}
# Where a notice leads: the borrower's own page of what it is about.
SUBJECT_ENDPOINTS = {
    "service_request": ("services.my_request", "request_id"),
    "complaint": ("complaints.my_complaint", "complaint_id"),
    "invitation": ("networking.my_invitations", None),
    "correction_request": ("privacy.mine", None),
}


def borrower_notices(borrower_id: int) -> sa.Select:
    """The borrower's notices, newest first."""
    return (
        sa.select(Notice)
        .where(Notice.borrower_id == borrower_id)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )


def unread_count(user_id: int) -> int:
    """Unread notices of the borrower who logs in as ``user_id`` (one COUNT)."""
    return db.session.scalar(
        sa.select(sa.func.count(Notice.id))
        .join(Borrower, Borrower.id == Notice.borrower_id)
        .where(Borrower.user_id == user_id, Notice.read_at.is_(None))
    )


@dataclass(frozen=True)
class ShownNotice:
    """A notice ready for the page: its text in the reader's language and its link."""

    text: str
    url: str
    created_at: object
    unread: bool


def shown(notices: list[Notice], kind_names: Mapping[str, str]) -> list[ShownNotice]:
    """Texts and links of ``notices``; ``kind_names`` names the kinds of service by code."""
    return [_shown(notice, kind_names) for notice in notices]


def _shown(notice: Notice, kind_names: Mapping[str, str]) -> ShownNotice:
    params = dict(notice.params or {})
    if "kind" in params:
        params["kind"] = kind_names.get(params["kind"], params["kind"])
    if params.get("date"):
        params["date"] = date_text(date.fromisoformat(params["date"]))
    endpoint, argument = SUBJECT_ENDPOINTS[notice.subject_type]
    return ShownNotice(
        text=str(NOTICE_TEXTS[notice.event]) % params,
        url=url_for(endpoint, **({argument: notice.subject_id} if argument else {})),
        created_at=notice.created_at,
        unread=notice.read_at is None,
    )
