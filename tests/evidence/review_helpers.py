"""Flagged visits for the tests of the head's check: flags written directly, as the rules would.

The visits are signed through the real operation; whatever flags the rules raise for
them are removed, and the test's own flags put in their place, so each test decides
exactly which reasons a visit carries.
"""

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import Month, company_tz, current_month
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from tests.visits.helpers import make_visit

_unique = iter(range(10**6))


def last_month() -> Month:
    return current_month().shift(-1)


def in_month(month: Month, day: int = 10, hour: int = 10) -> datetime:
    """A working-hours time on ``day`` of ``month``, as a UTC-aware datetime."""
    return datetime.combine(month.day(day), time(hour, 0), company_tz())


def signed_visit(borrower: Borrower, officer: User, visited_at: datetime, **overrides):
    """A visit with its own signature and observations, without any flag of the rules."""
    n = next(_unique)
    visit = make_visit(
        borrower,
        officer,
        visited_at,
        officer_observations=overrides.pop("officer_observations", f"第{n}次走访：存栏正常。"),
        **overrides,
    )
    # make_visit signs with the standard signature: nothing here may look copied.
    db.session.execute(sa.delete(VisitFlag).where(VisitFlag.visit_id == visit.id))
    db.session.flush()
    return visit


def flag(visit, code: str, **detail) -> VisitFlag:
    """A flag on ``visit`` as the rules would raise it."""
    row = VisitFlag(
        visit_id=visit.id,
        branch_id=visit.branch_id,
        officer_id=visit.officer_id,
        visited_at=visit.visited_at,
        code=code,
        detail=detail,
    )
    db.session.add(row)
    db.session.flush()
    return row


def review(visit, action: ReviewAction, user: User, note: str = "", minutes: int = 0):
    row = VisitReview(
        visit_id=visit.id,
        branch_id=visit.branch_id,
        action=action,
        note=note,
        reviewed_by_id=user.id,
    )
    if minutes:
        row.reviewed_at = visit.visited_at + timedelta(minutes=minutes)
    db.session.add(row)
    db.session.flush()
    return row
