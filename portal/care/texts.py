"""Text messages other than greetings, queued into the same outbox.

Notices to borrowers (a request accepted, an invitation; ``portal.notices``) and
reminders to staff (the morning's visits, a late red warning; ``portal.reminders``)
leave through the greetings' outbox, so the same gateway, delivery runs, retries and
outbox page apply to them (docs/care.md, "Notices and reminders"). Each carries a
``once_key``, unique in the outbox: queueing the same occasion twice — a periodic run
repeated by a second worker or by hand — stores one row, and so sends one message.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from portal.care.models import OutboxMessage, OutboxStatus
from portal.core.crypto import blind_index
from portal.database import utcnow
from portal.extensions import db

# What the outbox page calls each text that is not a greeting, by occasion code.
OCCASION_LABELS = {
    "service_accepted": _l("Request accepted"),
    "service_scheduled": _l("Request in a group session"),
    "service_declined": _l("Request declined"),
    "service_completed": _l("Request completed"),
    "complaint_resolved": _l("Complaint answered"),
    "event_invited": _l("Invitation to an event"),
    "session_tomorrow": _l("Group session tomorrow"),
    "visits_morning": _l("Visits due (officer)"),
    "warning_head": _l("Late red warning (head)"),
    "warning_admin": _l("Late red warning (admin)"),
    "warnings_head": _l("Late red warnings (head)"),
    "warnings_admin": _l("Late red warnings (admin)"),
}


# The values each kind of text carries for a provider's approved template (docs/sms.md),
# and whether it may only ever be a notice (those about loans: visits, red warnings).
TEXT_KINDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "service_accepted": (("name", "kind", "assignee", "date", "link"), False),
    "service_scheduled": (("name", "kind", "title", "date", "place", "link"), False),
    "service_declined": (("name", "kind", "reason", "link"), False),
    "service_completed": (("name", "kind", "link"), False),
    "complaint_resolved": (("name", "subject", "link"), False),
    "event_invited": (("name", "title", "date", "place", "link"), False),
    "session_tomorrow": (("name", "kind", "title", "date", "place", "link"), False),
    "visits_morning": (("name", "date", "overdue", "due", "days_left", "link"), True),
    "warning_head": (
        ("name", "borrower", "date", "officer", "deadline", "admin_date", "link"),
        True,
    ),
    "warning_admin": (("name", "branch", "borrower", "date", "officer", "deadline", "link"), True),
    "warnings_head": (("name", "count", "link"), True),
    "warnings_admin": (("name", "count", "link"), True),
}


def occasion_label(code: str) -> str:
    """The name of a text's occasion on the outbox page; the code when unknown."""
    return str(OCCASION_LABELS.get(code, code))


@dataclass(frozen=True)
class Text:
    """One message to queue: for a borrower (``borrower_id``) or a member of staff
    (``user_id`` and their ``mobile``)."""

    once_key: str
    occasion: str
    branch_id: int
    locale: str
    body: str
    due_on: date
    borrower_id: int | None = None
    user_id: int | None = None
    mobile: str | None = None
    values: dict | None = None


def _insert():
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    return (
        insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(index_elements=["once_key"])
        .returning(OutboxMessage.id)
    )


def queue(text: Text) -> int | None:
    """Put ``text`` into the outbox unless its key is there already; the new row's id.

    In the caller's transaction: the message leaves with the next delivery run once
    that transaction is committed (docs/jobs.md).
    """
    row = {
        "once_key": text.once_key,
        "occasion_code": text.occasion,
        "borrower_id": text.borrower_id,
        "user_id": text.user_id,
        "branch_id": text.branch_id,
        "year": text.due_on.year,
        "due_on": text.due_on,
        "locale": text.locale,
        "body": text.body,
        "status": OutboxStatus.PENDING.value,
        "created_at": utcnow(),
    }
    if text.mobile is not None:
        # A Core insert: the column type encrypts, the blind index is ours to add.
        row["mobile"] = text.mobile
        row["mobile_hash"] = blind_index(text.mobile) if text.mobile else None
    if text.values is not None:
        row["template_values"] = text.values
    return db.session.execute(_insert(), row).scalar()
