"""The branch report and the visit reports run a fixed number of queries, whatever the size."""

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.core.calendar import Month, month_of
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.reports import data, monthly, queries
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan
from tests.services.records import make_complaint, make_request
from tests.visits.helpers import make_visit


@contextmanager
def counted(app):
    """Every SQL statement sent inside the block."""
    statements: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", collect)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", collect)


def _add_borrowers(app, world, count: int) -> str:
    """Borrowers with visits, red ones, amendments, misses, requests and complaints."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        when = utcnow() - timedelta(hours=2)
        for i in range(count):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE)
            if i % 3 == 0:
                continue  # missed
            signals = (
                {RiskSignal.REPAYMENT_OVERDUE, RiskSignal.UNREACHABLE} if i % 3 == 1 else set()
            )
            visit = make_visit(borrower, officer, when, risk_signals=frozenset(signals))
            if i % 2:
                make_visit(borrower, officer, when + timedelta(minutes=5), amends=visit)
            make_request(borrower.id)
            make_complaint(borrower.id)
        db.session.commit()
        return str(month_of(when))


def _visit_ids(app, world, month: str) -> list[int]:
    with app.app_context():
        return [v.id for v in queries.month_visits(world.branch.id, Month.parse(month))]


def _queries_for(app, build) -> int:
    with app.test_request_context(), force_locale("zh"), counted(app) as statements:
        build()
    return len(statements)


def _figures(app, world, month: str) -> dict:
    ids = _visit_ids(app, world, month)

    def branch_report():
        monthly.branch_month_report(db.session.get(Branch, world.branch.id), Month.parse(month))

    return {
        "branch report": _queries_for(app, branch_report),
        "visit reports": _queries_for(app, lambda: data.visit_reports(ids)),
    }


def test_report_queries_do_not_grow_with_the_branch(app, world):
    month = _add_borrowers(app, world, 3)
    small = _figures(app, world, month)
    _add_borrowers(app, world, 27)
    assert _figures(app, world, month) == small
    # visits, originals, photos, erased photos (docs/privacy.md), signatures, versions
    # (+ BEGIN)
    assert small["visit reports"] <= 7
