"""Whether each imported row fits a loan: every problem in words, nothing written.

The same check serves the preview and, again inside the writing transaction, the
apply (docs/imports.md, "What is checked"). Loans and what their new payments can change
of their schedules (lifecycle.payment_tails) are read a few hundred loans per query,
never one loan at a time.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User
from portal.core.calendar import local_today
from portal.extensions import db
from portal.imports.reading import ImportRow
from portal.loans.lifecycle import PaymentTail, among, payment_tails
from portal.loans.models import (
    LOAN_STATUS_LABELS,
    Loan,
    LoanStatus,
    Repayment,
)

# What an imported payment is stored as (Repayment.source); with the lending system's
# reference it is unique, which is what makes a second import of a row change nothing.
SOURCE = "import"
CHUNK = 500


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Scope:
    """Whose loans an import may pay into: one branch's, or (None) every branch's."""

    branch_id: int | None

    @classmethod
    def of(cls, user: User) -> "Scope":
        """An admin imports for every branch, a head for their own."""
        return cls(None if user.role == Role.ADMIN else user.branch_id)

    def covers(self, branch_id: int) -> bool:
        return self.branch_id is None or self.branch_id == branch_id


@dataclass(frozen=True)
class LoanFacts:
    """What the check needs of one loan, besides its payment tail."""

    id: int
    branch_id: int
    status: LoanStatus
    disbursed_on: date | None


@dataclass(frozen=True)
class Preview:
    """The rows of one import, each with its problems (or marked as imported before)."""

    rows: list[ImportRow]
    # What the rows' payments can change of each loan, as read by the check (lifecycle).
    tails: dict[int, PaymentTail] = field(default_factory=dict)

    @property
    def with_problems(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]

    @property
    def ready(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ready]

    @property
    def skipped(self) -> list[ImportRow]:
        return [row for row in self.rows if row.already_imported and not row.problems]

    @property
    def applicable(self) -> bool:
        """No row has a problem (rows imported before are no problem: they are skipped)."""
        return not any(row.problems for row in self.rows)


def check(
    rows: list[ImportRow], scope: Scope, *, today: date | None = None, lock: bool = False
) -> Preview:
    """Every row's problems against the stored loans; ``lock``: the apply's check, which
    holds the loans (``FOR UPDATE``) until its transaction ends."""
    today = today or local_today()
    _duplicates(rows)
    loans = _loans({row.contract_number for row in rows if row.contract_number}, lock)
    _match_loans(rows, loans, scope)
    _already_imported(rows)
    by_loan: dict[int, list[ImportRow]] = defaultdict(list)
    for row in _open(rows):
        by_loan[row.loan_id].append(row)
    facts, tails = {loan.id: loan for loan in loans.values()}, {}
    for chunk in chunks(sorted(by_loan)):
        tails |= payment_tails({loan_id: _reach(by_loan[loan_id]) for loan_id in chunk})
        for loan_id in chunk:
            _fit(facts[loan_id], tails[loan_id], by_loan[loan_id], today)
    return Preview(rows, tails)


def _reach(rows: list[ImportRow]) -> tuple[date, Decimal]:
    """From which day, and how much, a loan's rows may pay."""
    return min(row.paid_on for row in rows), sum((row.amount for row in rows), Decimal("0.00"))


def _open(rows: list[ImportRow]) -> Iterator[ImportRow]:
    """Rows of a known loan, readable, not imported before: those whose loan is checked."""
    return (
        row
        for row in rows
        if row.loan_id is not None and not row.problems and not row.already_imported
    )


def _duplicates(rows: list[ImportRow]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if not row.reference:
            continue
        if row.reference in first:
            row.problem(
                "duplicate",
                _l(
                    "The same transaction reference as row %(line)s: a duplicate.",
                    line=first[row.reference],
                ),
            )
        else:
            first[row.reference] = row.line


def _loans(numbers: set[str], lock: bool) -> dict[str, LoanFacts]:
    """The loans carrying ``numbers``, by contract number (locked in id order)."""
    stmt = (
        sa.select(Loan.contract_number, Loan.id, Loan.branch_id, Loan.status, Loan.disbursed_on)
        .where(among(Loan.contract_number, sorted(numbers), sa.String(40)))
        .order_by(Loan.id)
    )
    return {
        number: LoanFacts(*facts)
        for number, *facts in db.session.execute(stmt.with_for_update(of=Loan) if lock else stmt)
    }


def _match_loans(rows: list[ImportRow], loans: dict[str, LoanFacts], scope: Scope) -> None:
    for row in rows:
        if not row.contract_number or _has(row, "unknown_contract"):
            continue
        loan = loans.get(row.contract_number)
        if loan is None:
            row.problem("unknown_contract", _l("Unknown contract number."))
        elif not scope.covers(loan.branch_id):
            row.problem("other_branch", _l("The loan belongs to another branch."))
        else:
            row.loan_id = loan.id


def _has(row: ImportRow, code: str) -> bool:
    return any(problem.code == code for problem in row.problems)


def _already_imported(rows: list[ImportRow]) -> None:
    """Rows whose reference is stored: the same payment is skipped, another is a problem."""
    wanted = [row for row in rows if row.loan_id is not None and not row.problems]
    references = sorted({row.reference for row in wanted})
    stored = {
        reference: (loan_id, paid_on, amount)
        for reference, loan_id, paid_on, amount in db.session.execute(
            sa.select(
                Repayment.reference, Repayment.loan_id, Repayment.paid_on, Repayment.amount
            ).where(
                Repayment.source == SOURCE, among(Repayment.reference, references, sa.String(64))
            )
        )
    }
    for row in wanted:
        if row.reference not in stored:
            continue
        if stored[row.reference] == (row.loan_id, row.paid_on, row.amount):
            row.already_imported = True
        else:
            row.problem(
                "reference_taken",
                _l(
                    "This transaction reference was imported before for another payment "
                    "(another contract, date or amount)."
                ),
            )


def _fit(loan: LoanFacts, tail: PaymentTail, rows: list[ImportRow], today: date) -> None:
    """The rows of one loan against it: its status, its dates, what it still owes, and
    the balance each payment leaves by our schedule."""
    if loan.status != LoanStatus.ACTIVE:
        message = _l(
            "The loan is “%(status)s”, not active.", status=LOAN_STATUS_LABELS[loan.status]
        )
        for row in rows:
            row.problem("loan_not_active", message)
        return
    if not tail.has_schedule:
        for row in rows:
            row.problem("no_schedule", _l("The loan has no repayment schedule."))
        return
    for row in rows:
        _check_date(loan, row, today)
    left, accepted = tail.left, []
    for row in rows:
        if row.problems:
            continue
        if row.amount > left:
            row.problem(
                "above_owed",
                _l(
                    "The amount is above the %(left)s yuan the loan still owes "
                    "(after the rows above it in this import).",
                    left=f"{left:,.2f}",
                ),
            )
            continue
        left -= row.amount
        accepted.append(row)
    _balances(tail, accepted)


def _check_date(loan: LoanFacts, row: ImportRow, today: date) -> None:
    if row.paid_on > today:
        row.problem("future_date", _l("The payment date is in the future."))
    elif loan.disbursed_on is not None and row.paid_on < loan.disbursed_on:
        row.problem(
            "before_disbursement",
            _l(
                "The payment date is before the disbursement (%(date)s).",
                date=loan.disbursed_on.isoformat(),
            ),
        )


def _balances(tail: PaymentTail, rows: list[ImportRow]) -> None:
    """The principal each new payment leaves, split with the stored ones as the apply
    will split them (lifecycle.PaymentTail); a lending system's balance that differs is
    a problem."""
    splits, _settled_on = tail.split([(row.paid_on, row.amount) for row in rows])
    balance = tail.principal
    for (kind, index), principal, _interest in splits:
        balance -= principal
        if kind != 1:  # what was paid before, or a stored payment
            continue
        row = rows[index]
        row.our_balance = balance
        if row.balance is not None and row.balance != balance:
            row.problem(
                "balance_mismatch",
                _l(
                    "The balance does not match: %(theirs)s yuan in the file, %(ours)s yuan "
                    "by our schedule after this payment.",
                    theirs=f"{row.balance:,.2f}",
                    ours=f"{balance:,.2f}",
                ),
            )
