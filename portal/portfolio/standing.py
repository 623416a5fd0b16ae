"""The loans' stored figures for a new day (the worker's nightly job, docs/portfolio.md).

A loan's overdue days grow every day an instalment stays unpaid, without anyone
writing anything; pages, the risk rules and the tiers read the stored figures, so the
worker brings them to the day after midnight (before the tier refresh). Payments keep
them right during the day (``portal.loans.lifecycle.add_repayment``).
"""

from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.loans.models import Loan, LoanInstalment, LoanStatus, RepaymentStatus


def late_since(day: date) -> dict[int, date]:
    """Loan id → due date of its oldest instalment unsettled on ``day`` and due before it."""
    rows = db.session.execute(
        sa.select(LoanInstalment.loan_id, sa.func.min(LoanInstalment.due_on))
        .where(
            sa.or_(
                LoanInstalment.settled_on.is_(None),
                LoanInstalment.settled_on > LoanInstalment.due_on,
            ),
            LoanInstalment.due_on < day,
            sa.or_(LoanInstalment.settled_on.is_(None), LoanInstalment.settled_on > day),
        )
        .group_by(LoanInstalment.loan_id)
    )
    return {loan_id: as_date(oldest) for loan_id, oldest in rows}


def as_date(value) -> date:
    """A date column's value (text on SQLite when it comes out of an aggregate)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def refresh(today: date) -> int:
    """Set the overdue days and repayment status of every active loan with a schedule as
    its instalments give them on ``today``; returns how many loans changed. Flushes,
    never commits."""
    late = late_since(today)
    scheduled = sa.exists().where(LoanInstalment.loan_id == Loan.id)
    stored = db.session.execute(
        sa.select(Loan.id, Loan.overdue_days).where(Loan.status == LoanStatus.ACTIVE, scheduled)
    ).all()
    changes = []
    for loan_id, days in stored:
        now = (today - late[loan_id]).days if loan_id in late else 0
        if now != days:
            status = RepaymentStatus.OVERDUE if now else RepaymentStatus.ON_TIME
            changes.append({"loan": loan_id, "days": now, "state": status.value})
    if changes:
        table = Loan.__table__
        db.session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("loan"))
            .values(
                overdue_days=sa.bindparam("days"),
                repayment_status=sa.bindparam("state"),
                version=table.c.version + 1,
            ),
            changes,
        )
    return len(changes)
