"""Small helpers shared by the loan and training tests."""

import itertools
from datetime import date, timedelta

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.extensions import db
from portal.loans.models import Loan, LoanEvent, LoanStatus
from portal.training.models import TrainingSignoff
from tests.factories import make_loan


def english(client) -> None:
    """Switch the logged-in user (or the anonymous session) to English."""
    client.submit("/language", {"locale": "en"}, page="/login")


def today(app) -> date:
    """The company's today."""
    with app.app_context():
        return local_today()


def iso(app, days: int = 0) -> str:
    """Today plus ``days`` as the date inputs send it."""
    return (today(app) + timedelta(days=days)).isoformat()


_contract_numbers = itertools.count(1)
SIGNED = (LoanStatus.CONTRACTED, LoanStatus.DISBURSING, LoanStatus.ACTIVE, LoanStatus.CLOSED)


def new_loan(app, world, status=LoanStatus.APPLIED, foreign=False, **overrides) -> int:
    """A loan of the officer's borrower (or the other branch's) in ``status``; its id."""
    if status in SIGNED:
        overrides.setdefault("contract_number", f"T-{next(_contract_numbers):05d}")
    with app.app_context():
        ref = world.foreign_borrower if foreign else world.own_borrower
        loan = make_loan(db.session.get(Borrower, ref.id), status, **overrides)
        db.session.commit()
        return loan.id


def get_loan(app, loan_id: int) -> Loan:
    """A detached copy of the loan as stored now."""
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        db.session.expunge(loan)
        return loan


def counts(app) -> tuple:
    """Rows of everything a step may write: loans, events, sign-offs, audit entries."""
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Loan, LoanEvent, TrainingSignoff, AuditEntry)
        )


def snapshot(app, loan_id: int) -> tuple:
    """What a refused step must leave alone: the loan's columns and the row counts."""
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        columns = {c.key: getattr(loan, c.key) for c in sa.inspect(Loan).column_attrs}
    return columns, counts(app)


def audit_actions(app, loan_id: int) -> list[str]:
    """The audit actions recorded about the loan, oldest first."""
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "Loan", AuditEntry.object_id == str(loan_id))
            .order_by(AuditEntry.id)
        ).all()


def events(app, loan_id: int) -> list[tuple]:
    """(action, from, to) of the loan's events, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(LoanEvent.action, LoanEvent.from_status, LoanEvent.to_status)
            .where(LoanEvent.loan_id == loan_id)
            .order_by(LoanEvent.id)
        ).all()
    return [(a, f.value if f else None, t.value) for a, f, t in rows]
