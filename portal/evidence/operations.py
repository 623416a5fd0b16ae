"""Writes of the evidence feature: the borrower's site; the head's checks below.

They flush and audit; the view's transaction (portal/core/actions.py) commits.
"""

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.core.actions import Refused
from portal.evidence import queries
from portal.evidence.models import ReviewAction, VisitReview
from portal.extensions import db
from portal.visits.models import Visit

# --- The head's check of a flagged visit, and the officer's answer -----------------------


class ReviewRefused(Refused):
    """A check or an answer that cannot be recorded, with the reason."""


def review_visit(visit: Visit, action: ReviewAction, note: str, head: User) -> VisitReview:
    """The branch head confirms a flagged visit genuine, or asks its officer to explain.

    The newest check is the visit's state; the earlier ones stay as its history.
    """
    state = queries.review_state(visit)
    if action == ReviewAction.CONFIRMED and state == ReviewAction.CONFIRMED:
        raise ReviewRefused(_l("This visit was already confirmed genuine."))
    if action == ReviewAction.ASKED and state == ReviewAction.ASKED:
        raise ReviewRefused(
            _l("The officer was already asked about this visit and has not answered yet.")
        )
    if action == ReviewAction.ASKED and not note:
        raise ReviewRefused(_l("Write the question the officer should answer."), field="note")
    if action not in (ReviewAction.CONFIRMED, ReviewAction.ASKED):
        raise ReviewRefused(_l("Choose: confirmed genuine, or ask the officer."), field="action")
    return _add_review(visit, action, note, head)


def answer_question(visit: Visit, note: str, officer: User) -> VisitReview:
    """The officer answers the head's question; the visit goes back to the head's list."""
    if queries.review_state(visit) != ReviewAction.ASKED:
        raise ReviewRefused(_l("Nobody is waiting for an answer about this visit."))
    if not note:
        raise ReviewRefused(_l("Write your answer to the branch head."), field="note")
    return _add_review(visit, ReviewAction.ANSWERED, note, officer)


def _add_review(visit: Visit, action: ReviewAction, note: str, user: User) -> VisitReview:
    review = VisitReview(
        visit_id=visit.id,
        branch_id=visit.branch_id,
        action=action,
        note=note,
        reviewed_by_id=user.id,
    )
    db.session.add(review)
    db.session.flush()
    record(f"evidence.review_{action.value}", review, f"visit={visit.id}: {note}", actor=user)
    return review
