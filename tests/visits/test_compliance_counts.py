"""The compliance counts kept by every write (portal/visits/counts.py, docs/visits.md)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.borrowers.operations import reassign
from portal.core.actions import Refused
from portal.core.calendar import Month, company_tz, current_month, month_of
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.visits import counts
from portal.visits.compliance import branch_trend
from portal.visits.models import ComplianceCount, ComplianceMonth, Visit
from tests.factories import BranchFactory, make_borrower, make_loan, make_user
from tests.visits.helpers import make_visit

FIRST = Month(2026, 1)
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 11, 20)
DAYS = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
INDEX = st.integers(0, 30)
STEPS = st.one_of(
    st.tuples(st.just("borrower"), st.integers(0, 2)),
    st.tuples(st.just("loan"), INDEX, DAYS),
    st.tuples(st.just("close"), INDEX, DAYS),
    st.tuples(st.just("reopen"), INDEX),
    st.tuples(st.just("visit"), INDEX, DAYS, st.integers(0, 23)),
    st.tuples(st.just("amend"), INDEX),
    st.tuples(st.just("reassign"), INDEX, st.integers(0, 2)),
    st.tuples(st.just("history"), INDEX, st.integers(0, 2), DAYS),
    st.tuples(st.just("build"), DAYS),
    st.tuples(st.just("reload")),
)


def _span() -> list[Month]:
    months, month = [], FIRST
    while month <= current_month():
        months.append(month)
        month = month.shift(1)
    return months


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=company_tz())


class Story:
    """Two branches, three officers, and whatever the steps do to them."""

    def __init__(self):
        branch, other = BranchFactory(), BranchFactory()
        self.head = make_user("head", Role.HEAD, branch)
        self.officers = [
            make_user("officer1", Role.OFFICER, branch),
            make_user("officer2", Role.OFFICER, branch),
            make_user("officer3", Role.OFFICER, other),
        ]
        self.borrowers: list[Borrower] = []
        self.loans: list[Loan] = []
        self.visits: list[Visit] = []

    def pick(self, items: list, index: int):
        return items[index % len(items)] if items else None

    def colleague(self, borrower: Borrower, index: int) -> User:
        """An officer of the borrower's branch (reassignments stay within a branch)."""
        same = [o for o in self.officers if o.branch_id == borrower.branch_id]
        return same[index % len(same)]

    def run(self, step: tuple) -> None:
        kind, *args = step
        getattr(self, f"_{kind}")(*args)

    def _borrower(self, officer: int) -> None:
        self.borrowers.append(make_borrower(self.officers[officer]))

    def _loan(self, index: int, day: date) -> None:
        if borrower := self.pick(self.borrowers, index):
            number = f"JK-{len(self.loans) + 1:06d}"
            loan = make_loan(borrower, LoanStatus.ACTIVE, disbursed_on=day, contract_number=number)
            self.loans.append(loan)

    def _close(self, index: int, day: date) -> None:
        if loan := self.pick(self.loans, index):
            loan.status, loan.closed_on = LoanStatus.CLOSED, max(day, loan.disbursed_on)
            db.session.flush()

    def _reopen(self, index: int) -> None:
        if loan := self.pick(self.loans, index):
            loan.status, loan.closed_on = LoanStatus.ACTIVE, None
            db.session.flush()

    def _visit(self, index: int, day: date, hour: int) -> None:
        if (loan := self.pick(self.loans, index)) is None:
            return
        # A day the loan was out: from its disbursement to its closing (or the 20th of November).
        last = loan.closed_on or LAST_DAY
        day = loan.disbursed_on + timedelta(
            days=(day - FIRST_DAY).days % ((last - loan.disbursed_on).days + 1)
        )
        borrower = db.session.get(Borrower, loan.borrower_id)
        try:
            with db.session.begin_nested():
                visit = make_visit(borrower, borrower.officer, _at(day, hour))
        except Refused:
            return
        self.visits.append(visit)

    def _amend(self, index: int) -> None:
        if original := self.pick([v for v in self.visits if v.amends_id is None], index):
            moment = original.visited_at + timedelta(minutes=1)
            if Month.of(moment, company_tz()) != Month.of(original.visited_at, company_tz()):
                return
            self.visits.append(
                make_visit(original.borrower, original.officer, moment, amends=original)
            )

    def _reassign(self, index: int, officer: int) -> None:
        if borrower := self.pick(self.borrowers, index):
            reassign([borrower], self.colleague(borrower, officer), "test", by=self.head)

    def _history(self, index: int, officer: int, day: date) -> None:
        # An assignment entered after the fact, dated in the past.
        if borrower := self.pick(self.borrowers, index):
            db.session.add(
                OfficerAssignment(
                    borrower_id=borrower.id,
                    officer_id=self.colleague(borrower, officer).id,
                    started_at=_at(day, 9),
                )
            )
            db.session.flush()

    def _build(self, day: date) -> None:
        counts.build([Month.containing(day)])

    def _reload(self) -> None:
        db.session.flush()
        db.session.expire_all()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    opening=st.lists(st.tuples(st.integers(0, 2), DAYS), min_size=1, max_size=4),
    steps=st.lists(STEPS, min_size=1, max_size=25),
)
def test_kept_counts_equal_a_count_from_scratch_after_any_writes(app, opening, steps):
    # One transaction per example, rolled back at its end: nothing to clean up.
    with app.app_context():
        story = Story()
        counts.build(_span())  # every month kept from here on
        for number, (officer, day) in enumerate(opening):
            story.run(("borrower", officer))
            story.run(("loan", number, day))
        for step in steps:
            story.run(step)
        db.session.flush()
        try:
            assert counts.differences() == []
        finally:
            db.session.rollback()


@pytest.fixture
def kept(app, world):
    """The world's months counted: from now on the writes keep them."""
    with app.app_context():
        counts.build(_span())
        db.session.commit()


SEPTEMBER = Month(2026, 9)


def _september(app, branch_id: int) -> tuple[int, int]:
    with app.app_context():
        result = branch_trend(branch_id, SEPTEMBER, months=1)[0]
        return result.owed, result.done


def test_a_loan_entered_late_with_a_past_disbursement_counts_in_a_kept_month(app, world, kept):
    assert _september(app, world.branch.id) == (1, 0)  # the world's own borrower
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer, full_name="补录甲")
        make_loan(borrower, LoanStatus.ACTIVE, disbursed_on=date(2026, 9, 2))
        db.session.commit()
    assert _september(app, world.branch.id) == (2, 0)
    assert _september(app, world.other_branch.id) == (1, 0)


def test_a_signed_visit_counts_as_done_in_its_month_at_once(app, world, kept):
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        make_visit(borrower, borrower.officer, _at(date(2026, 9, 14), 10))
        db.session.commit()
    assert _september(app, world.branch.id) == (1, 1)


def test_the_pages_read_the_kept_counts_of_a_built_month(app, world, kept):
    """No count from scratch for a built month: what is kept is what the page shows."""
    with app.app_context():
        db.session.execute(
            sa.update(ComplianceCount)
            .where(ComplianceCount.month == str(SEPTEMBER))
            .values(owed=ComplianceCount.owed + 40)
        )
        db.session.commit()
    assert _september(app, world.branch.id) == (41, 0)


def test_a_month_not_built_yet_is_counted_from_scratch(app, world):
    assert _september(app, world.branch.id) == (1, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceCount)) == 0


def test_the_hourly_run_builds_the_months_with_loans_once(app, world):
    with app.app_context():
        built = counts.build_missing()
        db.session.commit()
        assert built == _span()  # the world's loans were disbursed in January 2026
        assert counts.build_missing() == []
        assert counts.differences() == []


def test_the_command_finds_a_difference_and_the_rebuild_mends_it(app, world, kept):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["visits", "counts", "--check"]).exit_code == 0
    with app.app_context():
        db.session.execute(
            sa.update(ComplianceCount)
            .where(ComplianceCount.month == str(SEPTEMBER))
            .values(done=ComplianceCount.done + 1)
        )
        db.session.commit()
    result = runner.invoke(args=["visits", "counts", "--check"])
    assert result.exit_code == 1
    assert f"{SEPTEMBER} branch {world.branch.id} officer {world.officer.id}" in result.output
    rebuilt = runner.invoke(args=["visits", "counts", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    with app.app_context():
        assert f"Counted {len(_span())} months" in rebuilt.output
    assert runner.invoke(args=["visits", "counts", "--check"]).exit_code == 0


def test_writes_at_once_and_a_build_between_them_keep_the_counts_exact(app, world, database_url):
    """PostgreSQL, for real: visits of one borrower and of others signed at the same moment,
    a loan closed and the month rebuilt meanwhile; the counts stay equal to a recount."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: no two transactions write at once")
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        ids = [world.own_borrower.id]
        for number in range(4):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE, contract_number=f"JK-9{number:05d}")
            ids.append(borrower.id)
        counts.build(_span())
        db.session.commit()
        officer_id = officer.id
        when = utcnow() - timedelta(minutes=1)
        month = month_of(when)  # not "this month": the suite may run at midnight
    start = threading.Barrier(7)

    def sign(borrower_id: int) -> None:
        with app.app_context():
            borrower = db.session.get(Borrower, borrower_id)
            start.wait()
            make_visit(borrower, db.session.get(User, officer_id), when)
            db.session.commit()

    def close_a_loan() -> None:
        with app.app_context():
            loan = db.session.scalars(sa.select(Loan).where(Loan.borrower_id == ids[-1])).one()
            start.wait()
            loan.status, loan.closed_on = LoanStatus.CLOSED, date(2026, 3, 1)
            db.session.commit()

    def rebuild_this_month() -> None:
        with app.app_context():
            start.wait()
            counts.build([month])
            db.session.commit()

    # Twice the same borrower: one visit counts, whichever commits first.
    work = [*(partial(sign, i) for i in [ids[0], *ids[:4]]), close_a_loan, rebuild_this_month]
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        for future in [pool.submit(job) for job in work]:
            future.result()
    with app.app_context():
        assert counts.differences() == []
        done = db.session.scalar(
            sa.select(ComplianceCount.done).where(
                ComplianceCount.month == str(month),
                ComplianceCount.officer_id == officer_id,
            )
        )
        assert done == 4


def test_the_worker_builds_the_months_not_built_yet_each_hour(app, world):
    from portal.jobs.tasks import build_compliance_months

    with app.app_context():
        build_compliance_months.call_local()  # what the worker runs at minute 1 of each hour
        db.session.remove()
        assert [
            m.month
            for m in db.session.scalars(sa.select(ComplianceMonth).order_by(ComplianceMonth.month))
        ] == [str(m) for m in _span()]
        assert counts.differences() == []
