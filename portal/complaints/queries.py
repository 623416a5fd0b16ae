"""The borrower's and the staff's complaint lists and the menu count, in SQL."""

from functools import cache

import sqlalchemy as sa
from flask import g
from flask_login import current_user
from sqlalchemy.orm import contains_eager, with_expression

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.complaints.models import Complaint, ComplaintSeverity, ComplaintStatus
from portal.core.statements import UserParameters, user_parameters
from portal.database import utcnow
from portal.extensions import db

STATUS_FILTERS = {
    "open": (ComplaintStatus.OPEN,),
    "resolved": (ComplaintStatus.RESOLVED,),
    "closed": (ComplaintStatus.CLOSED,),
    "all": tuple(ComplaintStatus),
}
# Most severe first: the order of the enum, reversed.
SEVERITY_RANK = sa.case(
    {severity.value: rank for rank, severity in enumerate(reversed(ComplaintSeverity))},
    value=Complaint.severity,
)


def borrower_complaints(borrower_id: int):
    """A borrower's own complaints, newest first."""
    return (
        sa.select(Complaint)
        .where(Complaint.borrower_id == borrower_id)
        .order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    )


def staff_list(user: User, status: str):
    """Complaints ``user`` may see in ``status``: most severe, then most urgent first."""
    now = utcnow()
    return (
        sa.select(Complaint)
        .join(Complaint.borrower)
        .where(Complaint.visible_filter(user), Complaint.status.in_(STATUS_FILTERS[status]))
        .order_by(SEVERITY_RANK, Complaint.respond_by, Complaint.id)
        .options(
            contains_eager(Complaint.borrower).joinedload(Borrower.officer),
            with_expression(Complaint.listed_overdue, Complaint.overdue_clause(now)),
        )
    )


def waiting_filter(user: User):
    """Open complaints waiting for ``user``: the head's escalated ones, the officer's own."""
    if user.role == Role.OFFICER:
        return Complaint.visible_filter(user)
    escalated = Complaint.escalated_at.is_not(None)
    if user.role == Role.HEAD:
        return sa.and_(Complaint.branch_id == user.branch_id, escalated)
    return escalated


def menu_count() -> int:
    """How many open complaints wait for the current staff member (one COUNT)."""
    if "complaint_menu_count" not in g:
        g.complaint_menu_count = db.session.scalar(
            _menu_count_stmt(current_user.role), user_parameters(current_user)
        )
    return g.complaint_menu_count


@cache
def _menu_count_stmt(role: Role):
    """The menu's COUNT for a role, built once (portal/core/statements.py)."""
    return (
        sa.select(sa.func.count(Complaint.id))
        .join(Complaint.borrower)
        .where(Complaint.status == ComplaintStatus.OPEN, waiting_filter(UserParameters(role)))
    )
