"""Payments added many loans at once, reading only what they can change of each loan
(lifecycle.add_repayments, lifecycle.PaymentTail), split exactly as splitting all of a
loan's payments from scratch would: random loans, payments stored before (some dated
after the new ones), new payments imported; the preview's balances, the stored splits,
the settling days and the loans' figures against the rule of portal/loans/repayments.py."""

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.extensions import db
from portal.imports import checks, operations
from portal.imports.reading import row_from
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanInstalment, LoanStatus, Repayment, RepaymentStatus
from portal.loans.repayments import Due, allocate, standing
from portal.loans.schedule import RepaymentMethod
from tests.factories import make_loan


def _loan(rng: random.Random, borrower: Borrower, number: int) -> Loan:
    disbursed = local_today() - timedelta(days=rng.randrange(40, 500))
    amount = Decimal(rng.randrange(1000, 50000))
    loan = make_loan(
        borrower,
        LoanStatus.ACTIVE,
        contract_number=f"TAIL-{number:04d}",
        approved_amount=amount,
        approved_term_months=rng.randrange(2, 13),
        annual_rate_percent=Decimal(rng.choice(["0.00", "6.00", "12.00", "18.50"])),
        repayment_method=rng.choice(list(RepaymentMethod)),
        disbursed_on=disbursed,
    )
    lifecycle.store_schedule(loan)
    db.session.flush()
    return loan


def _payments(rng: random.Random, loan: Loan, owed: Decimal, count: int) -> list:
    """Up to ``count`` payments (day, amount) adding up to at most ``owed``."""
    days = (local_today() - loan.disbursed_on).days
    payments = []
    for _ in range(count):
        amount = min(owed, Decimal(rng.randrange(1, 400_000)) / 100)
        if amount <= 0:
            break
        owed -= amount
        payments.append((loan.disbursed_on + timedelta(days=rng.randrange(days + 1)), amount))
    return payments


def _expected(loan_id: int) -> tuple:
    """Every payment's split, every instalment's settling day and the loan's figures,
    computed from scratch over all of the loan's payments."""
    schedule = [
        Due(i.number, i.due_on, i.principal, i.interest)
        for i in db.session.scalars(
            sa.select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id)
            .order_by(LoanInstalment.number)
        )
    ]
    stored = db.session.scalars(
        sa.select(Repayment)
        .where(Repayment.loan_id == loan_id)
        .order_by(Repayment.paid_on, Repayment.id)
    ).all()
    allocation = allocate(schedule, [(r.paid_on, r.amount) for r in stored])
    now = standing(schedule, [(r.paid_on, r.amount) for r in stored], local_today())
    return (
        {r.id: split for r, split in zip(stored, allocation.splits, strict=True)},
        allocation.settled_on,
        (now.principal_outstanding, now.overdue_days),
    )


def _stored(loan_id: int) -> tuple:
    loan = db.session.get(Loan, loan_id)
    return (
        {
            r.id: (r.principal, r.interest)
            for r in db.session.scalars(sa.select(Repayment).where(Repayment.loan_id == loan_id))
        },
        {
            i.number: i.settled_on
            for i in db.session.scalars(
                sa.select(LoanInstalment).where(LoanInstalment.loan_id == loan_id)
            )
        },
        (loan.outstanding_balance, loan.overdue_days),
    )


def _balances_from_scratch(loan_id: int, new: list) -> list[Decimal]:
    """The principal left after each new payment, all payments split from scratch in date
    order (a day's stored payments first, then the new ones in their order)."""
    schedule = [
        Due(i.number, i.due_on, i.principal, i.interest)
        for i in db.session.scalars(
            sa.select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id)
            .order_by(LoanInstalment.number)
        )
    ]
    stored = db.session.execute(
        sa.select(Repayment.paid_on, Repayment.amount)
        .where(Repayment.loan_id == loan_id)
        .order_by(Repayment.paid_on, Repayment.id)
    ).all()
    payments = sorted(
        [(day, 0, n, amount) for n, (day, amount) in enumerate(stored)]
        + [(day, 1, n, amount) for n, (day, amount) in enumerate(new)]
    )
    splits = allocate(schedule, [(p[0], p[3]) for p in payments]).splits
    left, after = sum((d.principal for d in schedule), Decimal("0.00")), {}
    for (_day, is_new, n, _amount), (principal, _interest) in zip(payments, splits, strict=True):
        left -= principal
        if is_new:
            after[n] = left
    return [after[n] for n in range(len(new))]


def test_payments_added_at_once_split_as_all_payments_from_scratch(app, world):
    rng = random.Random(20261126)
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        loans, rows, expected_balances = [], [], []
        for number in range(40):
            loan = _loan(rng, borrower, number)
            owed = lifecycle.standing_of(loan, date.max).total_owed
            for paid_on, amount in _payments(rng, loan, owed, rng.randrange(0, 6)):
                lifecycle.add_repayment(loan, paid_on=paid_on, amount=amount, recorded_by=None)
                owed -= amount
            new = _payments(rng, loan, owed, rng.randrange(1, 5))
            expected_balances += _balances_from_scratch(loan.id, new)
            rows += [
                row_from(
                    len(rows) + n + 2,
                    {
                        "contract_number": loan.contract_number,
                        "paid_on": day,
                        "amount": amount,
                        "reference": f"T{number}-{n}",
                    },
                )
                for n, (day, amount) in enumerate(new)
            ]
            loans.append(loan.id)
        db.session.commit()

        preview = checks.check(rows, checks.Scope(None))
        assert preview.with_problems == []
        assert [row.our_balance for row in rows] == expected_balances
        db.session.rollback()

        operations.apply(rows, checks.Scope(None), None, channel="command")
        db.session.commit()
        for loan_id in loans:
            splits, settled_on, figures = _expected(loan_id)
            assert _stored(loan_id) == (splits, settled_on, figures), loan_id
            loan = db.session.get(Loan, loan_id)
            late = RepaymentStatus.OVERDUE if figures[1] else RepaymentStatus.ON_TIME
            assert loan.repayment_status == late
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Repayment).where(Repayment.source == "import")
        ) == len(rows)
