"""The officer's month, the branch compliance and the warning queue run a fixed number of queries."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.calendar import current_month
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan
from tests.visits.conftest import SHANGHAI
from tests.visits.helpers import make_visit

RED = frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.UNREACHABLE})


@contextmanager
def counted(app):
    """Collect every SQL statement sent to the database inside the block."""
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


def _add_borrowers(app, world, count: int) -> None:
    """Borrowers with every kind of history: visits, red warnings, amendments, misses."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        start, _ = current_month().bounds(SHANGHAI)
        last_month = start - timedelta(days=10)
        for i in range(count):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE)
            if i % 3 == 0:
                continue  # never visited
            visit = make_visit(
                borrower, officer, last_month, risk_signals=RED if i % 3 == 1 else frozenset()
            )
            if i % 2:
                make_visit(borrower, officer, last_month + timedelta(hours=1), amends=visit)
            if i % 4 == 0:
                make_visit(borrower, officer, min(start + timedelta(minutes=5), utcnow()))
        db.session.commit()


PAGES = [
    ("officer", "/visits/month"),
    ("officer", "/"),
    ("head", "/visits/compliance"),
    ("head", "/visits/compliance?month=2026-06"),
    ("head", "/visits/warnings?show=all"),
    ("admin", "/visits/compliance?branch={branch}"),
    ("officer", "/borrowers/{own}/visits"),
]


@pytest.mark.parametrize(("username", "path"), PAGES, ids=[p for _, p in PAGES])
def test_query_count_does_not_grow_with_the_borrowers(app, client, world, username, path):
    path = path.format(own=world.own_borrower.id, branch=world.branch.id)
    client.login(username)

    def measure() -> int:
        client.get(path)  # warm: the first request may load what later ones keep
        with counted(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements)

    _add_borrowers(app, world, 3)
    few = measure()
    _add_borrowers(app, world, 27)
    many = measure()
    assert few == many, f"{path}: {few} queries with 3 borrowers, {many} with 30"
    # 16: the admin's compliance page, whose one extra statement asks whether the
    # closed months kept by the worker are still current (docs/visits.md), one the
    # field kit's planned vs done (docs/field-kit.md), one the officers' flagged
    # and confirmed visits (docs/visit-evidence.md), and one the open correction
    # requests the menu counts (docs/privacy.md).
    assert many <= 16
