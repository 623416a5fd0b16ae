"""Closed months are kept per worker, yet a late loan step still shows up at once."""

from datetime import date

from portal.accounts.models import User
from portal.core.calendar import Month
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.compliance import branch_trend
from tests.factories import make_borrower, make_loan

SEPTEMBER = Month(2026, 9)  # closed: its recording window ended long ago


def _owed_in_september(app, branch_id: int) -> int:
    with app.app_context():
        return branch_trend(branch_id, SEPTEMBER, months=1)[0].owed


def test_a_loan_entered_late_with_a_past_disbursement_counts_in_the_closed_month(app, world):
    before = _owed_in_september(app, world.branch.id)
    assert _owed_in_september(app, world.branch.id) == before  # served again, unchanged
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer, full_name="补录甲")
        make_loan(borrower, LoanStatus.ACTIVE, disbursed_on=date(2026, 9, 2))
        db.session.commit()
    assert _owed_in_september(app, world.branch.id) == before + 1


def test_closed_months_of_two_branches_are_kept_apart(app, world):
    own = _owed_in_september(app, world.branch.id)
    other = _owed_in_september(app, world.other_branch.id)
    assert own == other == 1  # each branch's single active borrower of the World
    with app.app_context():
        officer = db.session.get(User, world.other_officer.id)
        make_loan(make_borrower(officer), LoanStatus.ACTIVE, disbursed_on=date(2026, 8, 1))
        db.session.commit()
    assert _owed_in_september(app, world.other_branch.id) == 2
    assert _owed_in_september(app, world.branch.id) == 1
