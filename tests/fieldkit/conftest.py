"""The World, plus the service catalogue (ticked needs become requests) and more borrowers."""

from datetime import timedelta

import pytest

from portal.accounts.models import User
from portal.core.calendar import current_month, local_midnight, local_today
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.services.operations import ensure_catalogue
from portal.visits.risk import RiskSignal
from tests.factories import Ref, make_borrower, make_loan
from tests.visits.helpers import make_visit


@pytest.fixture
def world(world, app):
    with app.app_context():
        ensure_catalogue()
        db.session.commit()
    return world


def last_month_moment():
    """The middle of last month, as a UTC time."""
    start = local_midnight(current_month().shift(-1).day(15))
    return start + timedelta(hours=10)


@pytest.fixture
def villages(app, world) -> dict[str, Ref]:
    """Four more borrowers of the officer, with active loans, in three villages.

    east_green and east_red were visited last month (green, red): due this month.
    west_never was never visited: overdue from last month. south_done was visited today.
    """
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        made = {}
        for key, village in (
            ("east_green", "东村"),
            ("east_red", "东村"),
            ("west_never", "西村"),
            ("south_done", "南村"),
        ):
            borrower = make_borrower(officer, village=village)
            make_loan(borrower, LoanStatus.ACTIVE)
            made[key] = borrower
        make_visit(made["east_green"], officer, last_month_moment())
        make_visit(made["east_red"], officer, last_month_moment(), **_red())
        make_visit(made["south_done"], officer, last_month_moment())
        make_visit(made["south_done"], officer, earlier_today())
        db.session.commit()
        return {key: Ref(b.id, b.full_name) for key, b in made.items()}


def _red():
    return {
        "risk_signals": frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})
    }


def earlier_today(minutes: int = 90):
    """A moment earlier today (company calendar), at most ``minutes`` ago."""
    return max(
        utcnow() - timedelta(minutes=minutes), local_midnight(local_today()) + timedelta(minutes=1)
    )
