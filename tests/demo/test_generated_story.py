"""The benchmark's generated company repays as a story the visits saw coming, mostly.

A small company from the generator: every loan has its schedule, its payments split as
``allocate`` splits them and each instalment's settling day; the loan's figures are what
its schedule gives on today (on its closing day once closed). Borrowers whose visits
turned yellow, orange or red fell 30+ days behind within three months far more often
than those with a green visit, but not always; some fell behind with only green visits
before; a visit says "overdue" exactly when an instalment was late that day.
"""

from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.core.calendar import company_tz
from portal.demo.generate import LOAN_TERM_MONTHS, generate
from portal.extensions import db
from portal.loans.models import Loan, LoanInstalment, LoanStatus, RepaymentStatus
from portal.loans.repayments import Due, allocate
from portal.loans.schedule import RepaymentMethod
from portal.services.operations import ensure_catalogue
from portal.visits import counts
from portal.visits.models import Visit, latest_version
from portal.visits.risk import RiskLevel

TODAY = date(2026, 6, 30)  # a month's end: every visit of its month lies before it
BEHIND = timedelta(days=30)
WITHIN = timedelta(days=91)


@pytest.fixture
def company(app) -> date:
    """1,000 borrowers in 4 branches, visits over 24 months up to TODAY; returns TODAY.

    The same seed and day give the same company, so the shares below are fixed."""
    with app.app_context():
        ensure_catalogue()
        generate(1000, 24, 20261122, today=TODAY, per_officer=50, per_branch=5)
        return TODAY


def _loans() -> list[Loan]:
    return db.session.scalars(
        sa.select(Loan).options(selectinload(Loan.instalments), selectinload(Loan.repayments))
    ).all()


def _late(today: date) -> dict[int, list[tuple[date, date | None]]]:
    """Each loan's instalments that were late on some day: (due, settled)."""
    rows = db.session.execute(
        sa.select(LoanInstalment.loan_id, LoanInstalment.due_on, LoanInstalment.settled_on).where(
            LoanInstalment.due_on < today,
            sa.or_(
                LoanInstalment.settled_on.is_(None),
                LoanInstalment.settled_on > LoanInstalment.due_on,
            ),
        )
    )
    late: dict[int, list] = {}
    for loan_id, due, settled in rows:
        late.setdefault(loan_id, []).append((due, settled))
    return late


def _late_on(instalments: list, day: date) -> bool:
    return any(due < day and (settled is None or settled > day) for due, settled in instalments)


def _behind_within(instalments: list, day: date, today: date) -> bool:
    """30+ days overdue on some day of the three months after ``day`` (up to today)."""
    last = min(day + WITHIN, today)
    for due, settled in instalments:
        first = max(due + BEHIND, day + timedelta(days=1))
        if first <= last and (settled is None or settled > first):
            return True
    return False


def _visits() -> list[tuple[int, date, RiskLevel, str]]:
    """(loan, local day, level, repayment answer) of each visit as it stands (amended or not)."""
    rows = db.session.execute(
        sa.select(Visit.loan_id, Visit.visited_at, Visit.risk_level, Visit.repayment_status)
        .where(latest_version(Visit))
        .order_by(Visit.visited_at)
    )
    zone = company_tz()
    return [(loan, at.astimezone(zone).date(), level, answer) for loan, at, level, answer in rows]


def _assert_ledger(loan: Loan, today: date) -> None:
    """The loan's schedule, its payments split by ``allocate``, each instalment's settling
    day and the loan's figures as its schedule gives them (on its closing day once closed)."""
    assert len(loan.instalments) == LOAN_TERM_MONTHS
    assert sum(i.principal for i in loan.instalments) == loan.approved_amount
    dues = [Due(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments]
    paid = sorted(loan.repayments, key=lambda r: (r.paid_on, r.id))
    allocation = allocate(dues, [(r.paid_on, r.amount) for r in paid])
    assert [(r.principal, r.interest) for r in paid] == allocation.splits, loan.id
    assert {i.number: i.settled_on for i in loan.instalments} == allocation.settled_on
    assert all(loan.disbursed_on <= r.paid_on <= today for r in paid)
    assert {(r.source, r.recorded_by_id) for r in paid} <= {("officer", loan.borrower.officer_id)}
    now = loan.standing(loan.closed_on or today)
    assert loan.outstanding_balance == now.principal_outstanding, loan.id
    assert loan.overdue_days == now.overdue_days, loan.id
    overdue = RepaymentStatus.OVERDUE if now.overdue_days else RepaymentStatus.ON_TIME
    assert loan.repayment_status == overdue
    assert loan.written_off == (loan.written_off_on is not None)
    if loan.status == LoanStatus.CLOSED and not loan.written_off:
        # Paid off: closed the day the last instalment was settled.
        assert now.total_owed == 0
        assert loan.closed_on == max(i.settled_on for i in loan.instalments)
    if loan.written_off:
        assert loan.standing(loan.written_off_on).overdue_days >= 180


def test_every_loan_stores_its_schedule_its_payments_split_by_allocate_and_its_figures(
    app, company
):
    """And each visit's repayment answer is what the schedule said that day."""
    today = company
    with app.app_context():
        seen = Counter()
        for loan in _loans():
            _assert_ledger(loan, today)
            seen[loan.status, loan.written_off, loan.repayment_status] += 1
            seen[loan.repayment_method] += 1
        assert set(RepaymentMethod) <= set(seen)
        active = sum(n for key, n in seen.items() if key[:1] == (LoanStatus.ACTIVE,))
        behind = seen[LoanStatus.ACTIVE, False, RepaymentStatus.OVERDUE]
        # Most borrowers pay on time; some are behind today; some loans were written off.
        assert 0 < behind < active * 0.1
        assert seen[LoanStatus.CLOSED, False, RepaymentStatus.ON_TIME] > 100
        assert seen[LoanStatus.CLOSED, True, RepaymentStatus.OVERDUE] > 0
        late = _late(today)
        answers = Counter(
            (answer, _late_on(late.get(loan, []), day)) for loan, day, _level, answer in _visits()
        )
        assert set(answers) == {("overdue", True), ("on_time", False)}
        # The compliance counts the generator builds agree with a recount.
        assert counts.differences() == []


def test_most_who_fell_behind_were_warned_of_and_a_few_were_not(app, company):
    """Visits that were not green came before falling 30+ days behind far more often
    than green ones, but not always; some who fell behind had only green visits."""
    today = company
    with app.app_context():
        late = _late(today)
        visits = _visits()
    visited, behind = Counter(), Counter()
    for loan, day, level, _answer in visits:
        if day + WITHIN <= today:
            visited[level] += 1
            behind[level] += _behind_within(late.get(loan, []), day, today)
    share = {level: behind[level] / visited[level] for level in RiskLevel}
    warned = sum(behind[level] for level in RiskLevel if level != RiskLevel.GREEN)
    green = share[RiskLevel.GREEN]
    assert 0 < green < 0.02
    assert warned / (sum(visited.values()) - visited[RiskLevel.GREEN]) > 10 * green
    assert green < share[RiskLevel.YELLOW] < share[RiskLevel.ORANGE] < share[RiskLevel.RED] < 1
    warned, unseen = _fell_behind_after(late, visits, today)
    assert unseen >= 3 and warned > unseen


def _fell_behind_after(late: dict, visits: list, today: date) -> tuple[int, int]:
    """Of the loans that fell 30+ days behind, with two visits or more before: how many
    had a visit that was not green in the three months before, and how many only green."""
    fell = {}
    for loan, instalments in late.items():
        days = [due for due, settled in instalments if settled is None or settled > due + BEHIND]
        if days and min(days) + BEHIND <= today:
            fell[loan] = min(days)
    before: dict[int, list] = {}
    for loan, day, level, _answer in visits:
        if loan in fell and day <= fell[loan] and not _late_on(late[loan], day):
            before.setdefault(loan, []).append((day, level))
    warned = unseen = 0
    for loan, seen in before.items():
        if len(seen) < 2:
            continue
        unseen += all(level == RiskLevel.GREEN for _, level in seen)
        warned += any(
            level != RiskLevel.GREEN and day >= fell[loan] - WITHIN for day, level in seen
        )
    return warned, unseen
