"""Portfolio quality on a hand-counted portfolio (tests/portfolio/data.py), and a past
month-end that keeps its figures when later payments arrive."""

from datetime import date
from decimal import Decimal

from portal.accounts.models import User
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, RepaymentStatus
from portal.portfolio.quality import (
    days_overdue,
    late_loans,
    quality,
    quality_by_branch,
    quality_by_officer,
    total,
)
from portal.portfolio.standing import refresh
from tests.portfolio.data import JUNE_END, make_portfolio


def _figures(q):
    return (
        q.loans,
        q.outstanding,
        q.par1,
        q.par30,
        q.par90,
        q.written_off,
        q.due,
        q.collected,
    )


HAND_COUNT = (
    4,
    Decimal("5300.00"),
    Decimal("4600.00"),
    Decimal("3400.00"),
    Decimal("2400.00"),
    Decimal("600.00"),
    Decimal("500.00"),
    Decimal("100.00"),
)


def test_the_branch_on_a_month_end_matches_the_hand_count(app_ctx, world):
    make_portfolio(world)
    branch = quality(JUNE_END, branch_id=world.branch.id)
    assert _figures(branch) == HAND_COUNT
    assert branch.late_loans == {1: 3, 30: 2, 90: 1}
    assert round(branch.par30_ratio * 100, 2) == Decimal("64.15")
    assert round(branch.write_off_ratio * 100, 2) == Decimal("10.17")
    assert branch.repayment_rate == Decimal("0.2")
    assert _figures(quality(JUNE_END)) == HAND_COUNT  # the other branch's loan is closed
    assert _figures(quality_by_officer(JUNE_END, world.branch.id)[world.officer.id]) == HAND_COUNT
    # Each branch of the test world also has one active loan from before schedules.
    branches = quality_by_branch(JUNE_END)
    assert (branch.unscheduled, branches[world.branch.id]) == (1, branch)
    other = branches[world.other_branch.id]
    assert (other.loans, other.outstanding, other.unscheduled) == (0, Decimal("0.00"), 1)


def test_the_late_list_holds_the_overdue_loans_oldest_arrears_first(app_ctx, world):
    loans = make_portfolio(world)
    rows = db.session.execute(late_loans(JUNE_END, world.branch.id)).all()
    assert [(r.loan_id, days_overdue(r, JUNE_END), r.outstanding) for r in rows] == [
        (loans.c, 180, Decimal("2400.00")),
        (loans.b, 81, Decimal("1000.00")),
        (loans.d, 10, Decimal("1200.00")),
    ]
    assert db.session.execute(late_loans(JUNE_END, world.other_branch.id)).all() == []


def test_a_past_month_end_keeps_its_figures_when_later_payments_arrive(app_ctx, world):
    loans = make_portfolio(world)
    before = _figures(quality(JUNE_END, branch_id=world.branch.id))
    officer = db.session.get(User, world.officer.id)
    for loan_id, amount in ((loans.b, "400"), (loans.c, "1400"), (loans.d, "200")):
        loan = db.session.get(Loan, loan_id)
        lifecycle.add_repayment(
            loan, paid_on=date(2026, 7, 3), amount=Decimal(amount), recorded_by=officer
        )
    db.session.commit()
    assert _figures(quality(JUNE_END, branch_id=world.branch.id)) == before
    july = quality(date(2026, 7, 31), branch_id=world.branch.id)
    # B paid April–July, C January–July, D June–July: only A's and the others' August
    # instalments are still to come, nothing is late on 31 July but A's July (paid? no).
    assert july.par30 == Decimal("0.00")
    assert july.late_loans.get(1, 0) == 1  # A: its 15 July instalment was not paid


def test_a_payment_dated_back_counts_on_the_day_it_was_made(app_ctx, world):
    loans = make_portfolio(world)
    officer = db.session.get(User, world.officer.id)
    loan = db.session.get(Loan, loans.d)
    lifecycle.add_repayment(
        loan, paid_on=date(2026, 6, 25), amount=Decimal("100"), recorded_by=officer
    )
    db.session.commit()
    june = quality(JUNE_END, branch_id=world.branch.id)
    assert (june.par1, june.outstanding) == (Decimal("3400.00"), Decimal("5200.00"))


def test_the_nightly_refresh_brings_the_stored_overdue_days_to_the_day(app_ctx, world):
    loans = make_portfolio(world)
    changed = refresh(date(2026, 7, 1))
    db.session.commit()
    stored = {
        loan.id: (loan.overdue_days, loan.repayment_status)
        for loan in db.session.scalars(db.select(Loan))
    }
    assert stored[loans.b] == (82, RepaymentStatus.OVERDUE)
    assert stored[loans.c] == (181, RepaymentStatus.OVERDUE)
    assert stored[loans.d] == (11, RepaymentStatus.OVERDUE)
    assert stored[loans.a] == (0, RepaymentStatus.ON_TIME)
    # The payments stored the figures for today (November), when A is late too; F,
    # written off but not closed, stays active and late.
    assert stored[loans.f] == (177, RepaymentStatus.OVERDUE)
    assert changed == 5
    assert refresh(date(2026, 7, 1)) == 0  # nothing left to change on the same day


def test_the_groups_add_up_to_the_whole(app_ctx, world):
    make_portfolio(world)
    whole = quality(JUNE_END, branch_id=world.branch.id)
    by_officer = quality_by_officer(JUNE_END, world.branch.id).values()
    assert total(by_officer, JUNE_END) == whole
    assert total(quality_by_branch(JUNE_END).values(), JUNE_END) == quality(JUNE_END)


def test_the_late_list_read_for_the_page_gives_the_same_figures(app_ctx, world):
    make_portfolio(world)
    branch_rows = db.session.execute(late_loans(JUNE_END, world.branch.id)).all()
    assert quality_by_officer(JUNE_END, world.branch.id, late=branch_rows) == quality_by_officer(
        JUNE_END, world.branch.id
    )
    assert quality_by_officer(JUNE_END, world.branch.id, late=[])[world.officer.id].par1 == 0
