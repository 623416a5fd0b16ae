"""A small portfolio counted by hand (tests/portfolio): interest-free loans, so every
instalment is a round amount.

On 30 June 2026, in the officer's branch:
- A: 1,200 over 12 months from 15 Jan; every instalment paid on its day (Feb–Jun):
  700 outstanding, not late;
- B: 1,200 from 10 Jan; only February and March paid: 1,000 outstanding, late since
  10 April = 81 days (PAR1, PAR30);
- C: 2,400 (200 a month) from 1 Dec 2025; nothing paid: 2,400 outstanding, late since
  1 January = 180 days (PAR1, PAR30, PAR90);
- D: 1,200 from 20 May; the 20 June instalment unpaid: 1,200 outstanding, 10 days (PAR1);
- F: 1,200 from 5 June 2025; six instalments paid, written off on 31 March 2026 with
  600 still owed;
and in the other branch E: 1,200 from 15 Jan, paid off and closed on 1 May.

Outstanding 700 + 1,000 + 2,400 + 1,200 = 5,300 in 4 loans; PAR1 4,600, PAR30 3,400,
PAR90 2,400; written off 600 (600 / 5,900); June fell due A 100 + B 100 + C 200 +
D 100 = 500, of which A's 100 was paid: 20 %.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import LoanStatus
from portal.loans.schedule import RepaymentMethod
from tests.factories import make_loan

JUNE_END = date(2026, 6, 30)


@dataclass(frozen=True)
class Portfolio:
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int


def _loan(borrower, officer, amount, months, disbursed_on, paid=(), number=""):
    loan = make_loan(
        borrower,
        LoanStatus.ACTIVE,
        approved_amount=Decimal(amount),
        approved_term_months=months,
        annual_rate_percent=Decimal("0.00"),
        repayment_method=RepaymentMethod.EQUAL_PRINCIPAL,
        disbursed_on=disbursed_on,
        contract_number=f"PQ-{number}",
    )
    lifecycle.store_schedule(loan)
    for day, value in paid:
        lifecycle.add_repayment(loan, paid_on=day, amount=Decimal(value), recorded_by=officer)
    return loan


def monthly(first: date, count: int, amount: str) -> list:
    """``count`` payments of ``amount`` on ``first``'s day of consecutive months."""
    days = [
        date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, first.day)
        for i in range(count)
    ]
    return [(day, amount) for day in days]


def make_portfolio(world) -> Portfolio:
    """The loans above, committed; their ids."""
    own = db.session.get(Borrower, world.own_borrower.id)
    foreign = db.session.get(Borrower, world.foreign_borrower.id)
    officer = db.session.get(User, world.officer.id)
    a = _loan(
        own, officer, "1200", 12, date(2026, 1, 15), monthly(date(2026, 2, 15), 5, "100"), "A"
    )
    b = _loan(
        own, officer, "1200", 12, date(2026, 1, 10), monthly(date(2026, 2, 10), 2, "100"), "B"
    )
    c = _loan(own, officer, "2400", 12, date(2025, 12, 1), (), "C")
    d = _loan(own, officer, "1200", 12, date(2026, 5, 20), (), "D")
    e = _loan(foreign, officer, "1200", 12, date(2026, 1, 15), [(date(2026, 5, 1), "1200")], "E")
    e.status, e.closed_on = LoanStatus.CLOSED, date(2026, 5, 1)
    f = _loan(own, officer, "1200", 12, date(2025, 6, 5), monthly(date(2025, 7, 5), 6, "100"), "F")
    f.written_off, f.written_off_on = True, date(2026, 3, 31)
    db.session.commit()
    return Portfolio(a.id, b.id, c.id, d.id, e.id, f.id)
