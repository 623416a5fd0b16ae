"""Reading loans: the list, one borrower's loans, a loan's history."""

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanEvent, LoanStatus, RepaymentStatus
from portal.loans.repayments import Paid


def list_statement(user: User, status: str | None) -> sa.Select:
    """The loans ``user`` may see, newest first, borrower and officer in the same query."""
    stmt = (
        sa.select(Loan)
        .join(Loan.borrower)
        .where(Borrower.visible_filter(user))
        .options(
            contains_eager(Loan.borrower).joinedload(Borrower.officer),
            contains_eager(Loan.borrower).joinedload(Borrower.branch),
        )
        .order_by(Loan.applied_on.desc(), Loan.id.desc())
    )
    if status == "overdue":
        stmt = stmt.where(
            Loan.status == LoanStatus.ACTIVE, Loan.repayment_status == RepaymentStatus.OVERDUE
        )
    elif status:
        stmt = stmt.where(Loan.status == LoanStatus(status))
    return stmt


def borrower_loans(borrower_id: int) -> list[Loan]:
    """One borrower's loans, newest first, with their schedules."""
    return db.session.scalars(
        sa.select(Loan)
        .where(Loan.borrower_id == borrower_id)
        .options(selectinload(Loan.instalments), selectinload(Loan.repayments))
        .order_by(Loan.applied_on.desc(), Loan.id.desc())
    ).all()


def next_instalment(loan: Loan) -> Paid | None:
    """The first instalment an active loan has not settled (its date, what is owed); else None."""
    if loan.status != LoanStatus.ACTIVE or not loan.instalments:
        return None
    return lifecycle.standing_of(loan).next_due


def loan_history(loan_id: int) -> list[LoanEvent]:
    """The loan's events in the order they happened, with who did them."""
    return db.session.scalars(
        sa.select(LoanEvent)
        .where(LoanEvent.loan_id == loan_id)
        .options(joinedload(LoanEvent.actor))
        .order_by(LoanEvent.happened_at, LoanEvent.id)
    ).all()
