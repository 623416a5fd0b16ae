"""Writes of notices: the features that change a borrower's request or complaint tell
the borrower here. They flush and audit; the view commits."""

from datetime import date

import sqlalchemy as sa

from portal.audit.operations import record
from portal.database import utcnow
from portal.extensions import db
from portal.notices.models import Notice


def notify(borrower_id: int, event: str, about, **params) -> Notice:
    """Tell the borrower that ``about`` (a request or complaint) changed.

    ``event`` names the text (``portal.notices.queries.NOTICE_TEXTS``); ``params`` are
    what it needs, dates stored as ISO text.
    """
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


def mark_all_read(borrower_id: int) -> int:
    """Mark every unread notice of the borrower as read; return how many."""
    result = db.session.execute(
        sa.update(Notice)
        .where(Notice.borrower_id == borrower_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    record("notice.read_all", None, f"borrower {borrower_id}: {result.rowcount} read")
    return result.rowcount
