"""Demo visits: six months, a spread of risk levels, missed months, two red warnings, idempotent."""

from collections import Counter
from datetime import date

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import Month
from portal.demo.visits import seed_visits
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.compliance import branch_trend
from portal.visits.models import Visit, VisitWarning
from portal.visits.operations import verify
from tests.factories import make_borrower, make_loan

TODAY = date(2026, 11, 22)


def _seed(app, world) -> list[int]:
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrowers = [db.session.get(Borrower, world.own_borrower.id)]
        for index in range(15):
            borrower = make_borrower(officer)
            disbursed = date(2026, 1, 10) if index else date(2026, 10, 25)
            make_loan(borrower, LoanStatus.ACTIVE, disbursed_on=disbursed)
            borrowers.append(borrower)
        created = seed_visits(borrowers, TODAY)
        db.session.commit()
        again = seed_visits(borrowers, TODAY)
        db.session.commit()
        assert again == 0
        return [created]


def test_demo_visits_are_spread_over_six_months_and_risk_levels(app, world):
    created = _seed(app, world)[0]
    with app.app_context():
        visits = db.session.scalars(sa.select(Visit)).all()
        assert len(visits) == created > 50
        months = Counter(str(Month(v.visited_at.year, v.visited_at.month)) for v in visits)
        assert set(months) <= {"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}
        assert len(months) == 6
        levels = Counter(v.risk_level.value for v in visits)
        assert (
            levels["green"] > levels["yellow"] > 0 and levels["orange"] > 0 and levels["red"] >= 2
        )
        warnings = db.session.scalars(sa.select(VisitWarning)).all()
        assert sum(not w.is_open for w in warnings) == 1 and any(w.is_open for w in warnings)
        assert all(verify(v) for v in visits[:10])
        trend = branch_trend(world.branch.id, Month(2026, 11))
        # Some months were missed: compliance is high but not perfect.
        assert any(m.done < m.owed for m in trend)
        assert all(m.done >= m.owed * 0.6 for m in trend[:-1])
