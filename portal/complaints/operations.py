"""Writes on complaints. They flush, audit and notify the borrower; the view commits.

``ALLOWED`` is the whole lifecycle: which action may happen in which status.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.complaints.models import (
    ESCALATE_AT_ONCE_CATEGORIES,
    ESCALATE_AT_ONCE_SEVERITIES,
    RESPONSE_DAYS,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSeverity,
    ComplaintStatus,
)
from portal.core.actions import Refused
from portal.core.calendar import deadline_after
from portal.database import utcnow
from portal.extensions import db
from portal.notices.operations import notify

C = ComplaintStatus
ALLOWED = {
    "escalate": {C.OPEN},
    "resolve": {C.OPEN},
    "close": {C.RESOLVED},
    "reopen": {C.RESOLVED},
}
REFUSALS = {
    "escalate": _l("Only an open complaint can be passed to the branch head."),
    "resolve": _l("Only an open complaint can be answered."),
    "close": _l("Only an answered complaint can be closed."),
    "reopen": _l("Only an answered complaint can be reopened."),
}


class ComplaintError(Refused):
    """A refused step; its message is translated and shown to the user."""


def _check(complaint: Complaint, action: str) -> None:
    if complaint.status not in ALLOWED[action]:
        raise ComplaintError(str(REFUSALS[action]))


def _event(complaint: Complaint, action: str, actor: User | None, note: str = "") -> None:
    db.session.add(
        ComplaintEvent(
            complaint=complaint, action=action, actor_id=actor.id if actor else None, note=note
        )
    )
    record(f"complaint.{action}", complaint, note[:500])


def escalates_at_once(category: ComplaintCategory, severity: ComplaintSeverity) -> bool:
    """Serious ones, and any about an officer's conduct, go straight to the branch head."""
    return severity in ESCALATE_AT_ONCE_SEVERITIES or category in ESCALATE_AT_ONCE_CATEGORIES


def file_complaint(
    borrower: Borrower,
    *,
    category: ComplaintCategory,
    severity: ComplaintSeverity,
    subject: str,
    description: str,
    actor: User | None,
    now: datetime | None = None,
) -> Complaint:
    """Record a borrower's complaint, with its deadline; serious ones go to the head at once."""
    now = now or utcnow()
    complaint = Complaint(
        borrower=borrower,
        branch_id=borrower.branch_id,
        category=category,
        severity=severity,
        subject=subject.strip(),
        description=description.strip(),
        filed_at=now,
        filed_by_id=actor.id if actor else None,
        respond_by=deadline_after(now, RESPONSE_DAYS[severity]),
    )
    db.session.add(complaint)
    _event(complaint, "filed", actor, f"{category.value}/{severity.value}")
    if escalates_at_once(category, severity):
        complaint.escalated_at = now
        _event(complaint, "escalated", None)
    return complaint


def escalate(complaint: Complaint, actor: User | None, note: str = "") -> None:
    """Pass a complaint to the branch head."""
    _check(complaint, "escalate")
    if complaint.escalated:
        raise ComplaintError(str(_l("This complaint is already with the branch head.")))
    complaint.escalated_at = utcnow()
    _event(complaint, "escalated", actor, note.strip())
    notify(complaint.borrower_id, "complaint.escalated", complaint, subject=complaint.subject)


def resolve(complaint: Complaint, resolution: str, actor: User | None) -> None:
    """Answer the complaint; the borrower then says whether it satisfies them."""
    _check(complaint, "resolve")
    complaint.status = C.RESOLVED
    complaint.resolution = resolution.strip()
    complaint.resolved_at = utcnow()
    complaint.resolved_by_id = actor.id if actor else None
    _event(complaint, "resolved", actor, complaint.resolution)
    notify(complaint.borrower_id, "complaint.resolved", complaint, subject=complaint.subject)


def accept_resolution(complaint: Complaint, actor: User | None) -> None:
    """The borrower is satisfied: the complaint is closed."""
    _check(complaint, "close")
    complaint.status = C.CLOSED
    complaint.closed_at = utcnow()
    _event(complaint, "closed", actor)


def reopen(
    complaint: Complaint, reason: str, actor: User | None, now: datetime | None = None
) -> None:
    """The borrower is not satisfied: open again, with a fresh deadline."""
    _check(complaint, "reopen")
    now = now or utcnow()
    complaint.status = C.OPEN
    complaint.reopen_count += 1
    complaint.resolution = ""
    complaint.resolved_at = None
    complaint.respond_by = deadline_after(now, RESPONSE_DAYS[complaint.severity])
    _event(complaint, "reopened", actor, reason.strip())
