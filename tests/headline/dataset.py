"""A small company made by hand, and its headline from January to June 2026, counted by hand.

Two branches: A (the World's ``branch``: its officer, head and borrower ``own``) and B
(``other_branch``: ``foreign``). Every loan below except the World's two has a
repayment schedule; "interest only" keeps the principal owed at the amount lent until
the last instalment, so the balances can be counted on paper. The period ends on
2026-06-30.

Loans (branch of the loan; borrower)

| loan | branch | borrower | lent | disbursed | what happens |
|---|---|---|---|---|---|
| own_loan | A | own | 50,000 | 2026-01-25 | the World's: no schedule |
| L1 | A | a1 | 120,000 | 2026-02-10 | every instalment paid on its day |
| L2 | A | a1 | 30,000 | 2026-02-20 | nothing paid: due 03-20, 102 days overdue on 06-30 |
| L3 | A | a2 | 80,000 equal principal | 2025-12-01 | instalment 1 (6,666.67 principal) paid; written off 2026-04-15 |
| L4 | A | a3 | 10,000 | 2025-06-01 | written off 2025-12-20, closed 2025-12-31 |
| L6 | A | a2 | 40,000 | 2026-07-10 | after the period |
| (approved) | A | a3 | — | — | approved, never disbursed |
| L7 | A | b2 | 10,000 | 2026-03-01 | paid on time (b2 has since moved to B) |
| foreign_loan | B | foreign | 50,000 | 2026-01-25 | the World's: no schedule |
| L5 | B | b1 | 200,000 | 2026-05-21 | nothing paid: due 06-21, 9 days overdue on 06-30 |
| L8 | B | b2 | 10,000 | 2026-04-01 | paid on time |

- Borrowers lent to: A {own, a1, b2} = 3; B {foreign, b1, b2} = 3; company 5 (b2 once).
- Amount lent: A 50,000 + 120,000 + 30,000 + 10,000 = 210,000.00; B 50,000 + 200,000 +
  10,000 = 260,000.00; company 470,000.00.
- Outstanding on 06-30 (with a schedule): A L1 + L2 + L7 = 3 loans, 160,000.00 (own_loan
  apart: 1 without a schedule); B L5 + L8 = 2 loans, 210,000.00 (foreign_loan apart);
  company 5 loans, 370,000.00.
- Bad: A L2 (90+ days, 30,000.00) and L3 (written off in the period, 80,000 − 6,666.67 =
  73,333.33 owed that day) = 2 loans, 103,333.33; L4 was written off before the period.
  By count 2 / (3 + 1) = 50.00 %; by balance 103,333.33 / (160,000 + 73,333.33) =
  44.29 %. B: none (L5 is 9 days late), 0.00 %. Company: 2 / (5 + 1) = 33.33 %;
  103,333.33 / (370,000 + 73,333.33) = 23.31 %.

Visits owed (a loan active on the 20th of the month) and made (Shanghai time)

- A: own Feb–Jun (5), visited Feb and Mar; a1 Feb–Jun (5), visited each month, June's
  at 23:30 on 30 June; a2 Jan–Jun (6, L3 is written off but not closed), visited in
  January (and that visit amended), and on 31 December at 23:30 (before the period).
  Owed 16, made 8: 50 %.
- B: foreign Feb–Jun (5), visited in June; b1 June only (L5 after the 20th of May), visited
  25 June and 2 July (after); b2 Mar–Jun (4, a borrower of B through both loans), never.
  Owed 10, made 2: 20 %. Company 10 / 26: 38 %.
- Satisfaction on the visit forms of the period (the amendment replaces its original):
  A own 5, 5, a1 5 × 5, a2 1 → 8 forms, 36 / 8 = 4.50; B foreign 4, b1 3 → 2 forms,
  3.50; company 10 forms, 43 / 10 = 4.30.

Services (completed in the period = delivered; ratings given in the period)

- A: r1 own completed 03-05, rated 5; r2 a1 completed 03-20, rated 4; r3 a1 completed and
  rated 31 December 23:30 (before); r4 a2 completed 30 June 23:30, not rated; r5 own still
  open. Delivered 3; ratings 2, average 4.50.
- B: r6 foreign completed 05-10, rated 2 on 2 July (after); r7 b1 declined; r8 b1
  completed 04-01, rated 2 on 04-02. Delivered 2; ratings 1, average 2.00.
- Company: delivered 5; ratings 3, (5 + 4 + 2) / 3 = 3.67.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import Month
from portal.extensions import db
from portal.loans.lifecycle import add_repayment, store_schedule
from portal.loans.models import Loan, LoanStatus
from portal.loans.schedule import RepaymentMethod
from portal.services.models import ServiceRequest, ServiceStatus
from portal.visits import counts
from tests.factories import make_borrower, make_loan
from tests.services.records import make_request
from tests.visits.helpers import make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = "from=2026-01&to=2026-06"
_contracts = count(1)

# What the pages show for the period, by row (branch A, branch B, the company).
EXPECTED = {
    "A": {
        "borrowers": "3",
        "lent": "¥210,000.00",
        "loans": "3",
        "outstanding": "¥160,000.00",
        "bad_loans": "2",
        "bad_ratio_by_count": "50.00 %",
        "bad_ratio_by_balance": "44.29 %",
        "compliance": "50 %",
        "visits": "(8/16)",
        "services": "3",
        "average_rating": "4.50",
        "average_satisfaction": "4.50",
    },
    "B": {
        "borrowers": "3",
        "lent": "¥260,000.00",
        "loans": "2",
        "outstanding": "¥210,000.00",
        "bad_loans": "0",
        "bad_ratio_by_count": "0.00 %",
        "bad_ratio_by_balance": "0.00 %",
        "compliance": "20 %",
        "visits": "(2/10)",
        "services": "2",
        "average_rating": "2.00",
        "average_satisfaction": "3.50",
    },
    "total": {
        "borrowers": "5",
        "lent": "¥470,000.00",
        "loans": "5",
        "outstanding": "¥370,000.00",
        "bad_loans": "2",
        "bad_ratio_by_count": "33.33 %",
        "bad_ratio_by_balance": "23.31 %",
        "compliance": "38 %",
        "visits": "(10/26)",
        "services": "5",
        "average_rating": "3.67",
        "average_satisfaction": "4.30",
    },
}


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on the company's clock, in UTC as stored."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def lend(
    borrower: Borrower,
    amount: str,
    disbursed_on: date,
    *,
    branch_id: int | None = None,
    method: RepaymentMethod = RepaymentMethod.INTEREST_ONLY,
    paid_until: date | None = None,
    **overrides,
) -> Loan:
    """An active loan with its schedule; each instalment due by ``paid_until`` paid on its day."""
    loan = make_loan(
        borrower,
        LoanStatus.ACTIVE,
        branch_id=branch_id or borrower.branch_id,
        amount_requested=Decimal(amount),
        approved_amount=Decimal(amount),
        disbursed_on=disbursed_on,
        repayment_method=method,
        contract_number=f"HL-{next(_contracts):05d}",
        **overrides,
    )
    store_schedule(loan)
    db.session.flush()
    for instalment in list(loan.instalments):
        if paid_until is not None and instalment.due_on <= paid_until:
            add_repayment(
                loan, paid_on=instalment.due_on, amount=instalment.amount, recorded_by=None
            )
    db.session.flush()
    return loan


def _serve(borrower_id: int, completed_at=None, rated_at=None, rating=None, declined=False):
    """A request completed (and rated) at the given moments, or declined, or left open."""
    if declined:
        return make_request(borrower_id, status=ServiceStatus.DECLINED)
    if completed_at is None:
        return make_request(borrower_id)
    status = ServiceStatus.RATED if rated_at else ServiceStatus.COMPLETED
    request: ServiceRequest = make_request(borrower_id, status=status)
    request.completed_at = completed_at
    if rated_at:
        request.rated_at, request.rating = rated_at, rating
    db.session.flush()
    return request


def build(world, built: str = "never") -> None:
    """The company of the module docstring (inside an app context; commits).

    ``built``: whether the months' compliance counts are built "before" the records are
    written (the writes keep them), "after" they are, or "never" (counted when read).
    """
    if built == "before":
        counts.build([Month(2025, 1).shift(i) for i in range(23)])
    officer = db.session.get(User, world.officer.id)
    other_officer = db.session.get(User, world.other_officer.id)
    own = db.session.get(Borrower, world.own_borrower.id)
    foreign = db.session.get(Borrower, world.foreign_borrower.id)
    a1, a2, a3 = (make_borrower(officer) for _ in range(3))
    b1, b2 = (make_borrower(other_officer) for _ in range(2))

    lend(a1, "120000", date(2026, 2, 10), paid_until=date(2026, 6, 30))
    lend(a1, "30000", date(2026, 2, 20))
    l3 = lend(
        a2,
        "80000",
        date(2025, 12, 1),
        method=RepaymentMethod.EQUAL_PRINCIPAL,
        paid_until=date(2026, 1, 1),
    )
    l3.written_off, l3.written_off_on = True, date(2026, 4, 15)
    l4 = lend(a3, "10000", date(2025, 6, 1))
    l4.written_off, l4.written_off_on = True, date(2025, 12, 20)
    l4.status, l4.closed_on = LoanStatus.CLOSED, date(2025, 12, 31)
    lend(a2, "40000", date(2026, 7, 10))
    make_loan(a3, LoanStatus.APPROVED, decision_date=date(2026, 3, 1))
    lend(b2, "10000", date(2026, 3, 1), branch_id=world.branch.id, paid_until=date(2026, 6, 30))
    lend(b1, "200000", date(2026, 5, 21))
    lend(b2, "10000", date(2026, 4, 1), paid_until=date(2026, 6, 30))
    db.session.flush()

    make_visit(own, officer, local(2026, 2, 10))
    make_visit(own, officer, local(2026, 3, 10))
    for month in (2, 3, 4, 5):
        make_visit(a1, officer, local(2026, month, 15))
    make_visit(a1, officer, local(2026, 6, 30, 23, 30))
    make_visit(a2, officer, local(2025, 12, 31, 23, 30), satisfaction=2)
    january = make_visit(a2, officer, local(2026, 1, 12), satisfaction=3)
    make_visit(a2, officer, local(2026, 1, 12, 11), amends=january, satisfaction=1)
    make_visit(foreign, other_officer, local(2026, 6, 5), satisfaction=4)
    make_visit(b1, other_officer, local(2026, 6, 25), satisfaction=3)
    make_visit(b1, other_officer, local(2026, 7, 2), satisfaction=1)

    _serve(own.id, local(2026, 3, 5), local(2026, 3, 6), 5)
    _serve(a1.id, local(2026, 3, 20), local(2026, 3, 21), 4)
    _serve(a1.id, local(2025, 12, 31, 23, 30), local(2025, 12, 31, 23, 45), 1)
    _serve(a2.id, local(2026, 6, 30, 23, 30))
    _serve(own.id)
    _serve(foreign.id, local(2026, 5, 10), local(2026, 7, 2), 2)
    _serve(b1.id, declined=True)
    _serve(b1.id, local(2026, 4, 1), local(2026, 4, 2), 2)

    if built == "after":
        counts.build_missing()
    db.session.commit()
