"""Reading loans: the list, one borrower's loans, a loan's history, the disbursements to confirm."""

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from flask import g
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.statements import UserParameters, user_parameters
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanEvent, LoanStatus, RepaymentStatus
from portal.loans.repayments import Paid

# The list's filter of the disbursements waiting for the user's confirmation.
TO_CONFIRM = "to_confirm"


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
    elif status == TO_CONFIRM:
        stmt = stmt.where(waiting_for_confirmation(user))
    elif status:
        stmt = stmt.where(Loan.status == LoanStatus(status))
    return stmt


def waiting_for_confirmation(user) -> sa.ColumnElement[bool]:
    """Disbursements ``user`` may confirm: recorded by someone else, in the head's branch
    (any branch for an admin). The SQL twin of the "confirm_disbursement" step's checks."""
    if user.role not in lifecycle.CHECKER_ROLES:
        return sa.false()
    return sa.and_(
        Loan.status == LoanStatus.DISBURSING,
        (Loan.branch_id == user.branch_id) if user.role == Role.HEAD else sa.true(),
        Loan.disbursement_recorded_by_id.is_distinct_from(user.id),
    )


def confirmation_menu_count() -> int:
    """How many disbursements wait for the current head's confirmation (one COUNT on the
    branch's loans by status). Admins, who check every branch, go by the list's filter."""
    if current_user.role != Role.HEAD:
        return 0
    if "loan_confirmation_count" not in g:
        g.loan_confirmation_count = db.session.scalar(
            _confirmation_count_stmt(), user_parameters(current_user)
        )
    return g.loan_confirmation_count


@cache
def _confirmation_count_stmt():
    """The head's COUNT, built once (portal/core/statements.py)."""
    return sa.select(sa.func.count(Loan.id)).where(
        waiting_for_confirmation(UserParameters(Role.HEAD))
    )


@dataclass(frozen=True)
class DisbursementPeople:
    """Who recorded a loan's disbursement, and who confirmed it (four eyes)."""

    recorded_by: User | None
    confirmed_by: User | None


def disbursement_people(loan: Loan) -> DisbursementPeople:
    """The two people of the loan's disbursement, as far as it has come."""

    def user(user_id: int | None) -> User | None:
        return db.session.get(User, user_id) if user_id is not None else None

    return DisbursementPeople(
        user(loan.disbursement_recorded_by_id), user(loan.disbursement_confirmed_by_id)
    )


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
