"""The headline figures over a period, for the company (one row per branch) and a branch.

docs/headline.md defines each figure. Every rule is asked of the feature that owns it:
loans outstanding, 90 days overdue and the principal owed at a write-off of
``portal.portfolio.quality``, visit compliance of the kept counts of
``portal.visits.counts``, satisfaction of ``portal.services.queries``. What is counted
here is only what happened in the period: disbursements, write-offs, services delivered.
A fixed number of queries whatever the number of loans, borrowers or branches.
"""

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal.branches.models import Branch
from portal.core.calendar import Month
from portal.extensions import db
from portal.loans.models import Loan
from portal.portfolio import quality as portfolio
from portal.services import queries as services
from portal.services.models import ServiceRequest
from portal.visits import counts
from portal.visits.models import ComplianceCount, ComplianceMonth

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
# A period spans whole months, at most ten years of them.
LONGEST = 120
# The total row's key among the per-branch figures.
TOTAL = None


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` to ``last``; a month not over yet ends today."""

    first: Month
    last: Month
    today: date

    @classmethod
    def default(cls, today: date) -> "Period":
        """The last twelve months up to this one."""
        this_month = Month.containing(today)
        return cls(this_month.shift(-11), this_month, today)

    @property
    def start(self) -> date:
        return self.first.first_day

    @property
    def end(self) -> date:
        """The period's last day: the last month's last day, or today while it runs."""
        return min(self.last.last_day, self.today)

    @property
    def running(self) -> bool:
        """The last month is not over yet (its visits may still be made)."""
        return self.last.last_day > self.today

    @property
    def months(self) -> list[Month]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [self.first.shift(offset) for offset in range(count)]


@dataclass
class Figures:
    """The headline of one branch or of the company over a period."""

    borrowers: int = 0
    lent: Decimal = ZERO
    loans: int = 0  # outstanding at the period's end, with a schedule
    outstanding: Decimal = ZERO
    unscheduled: int = 0  # outstanding at the end, recorded before schedules: left out
    overdue_loans: int = 0  # outstanding at the end and 90 days or more overdue
    overdue: Decimal = ZERO
    written_off_loans: int = 0  # written off in the period
    written_off: Decimal = ZERO
    owed_visits: int = 0
    visits_done: int = 0
    services: int = 0
    ratings: int = 0
    rating_points: float = 0.0
    answers: int = 0
    answer_points: float = 0.0

    @property
    def bad_loans(self) -> int:
        return self.overdue_loans + self.written_off_loans

    @property
    def bad_balance(self) -> Decimal:
        return self.overdue + self.written_off

    @property
    def bad_ratio_by_count(self) -> Decimal | None:
        return _ratio(Decimal(self.bad_loans), Decimal(self.loans + self.written_off_loans))

    @property
    def bad_ratio_by_balance(self) -> Decimal | None:
        return _ratio(self.bad_balance, self.outstanding + self.written_off)

    @property
    def compliance(self) -> int | None:
        """Borrower-months visited ÷ owed, in whole percent, as the compliance page shows it."""
        return round(100 * self.visits_done / self.owed_visits) if self.owed_visits else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_points / self.ratings if self.ratings else None

    @property
    def average_satisfaction(self) -> float | None:
        return self.answer_points / self.answers if self.answers else None

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class BranchRow:
    branch: Branch
    figures: Figures


@dataclass(frozen=True)
class Headline:
    """The company's figures and one row per branch."""

    period: Period
    total: Figures
    rows: list[BranchRow] = field(default_factory=list)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole if whole else None


def _yuan(value) -> Decimal:
    """A sum as the database gives it (a float on SQLite) in yuan and fen."""
    return Decimal(str(value or 0)).quantize(FEN)


def _in_branch(column, branch_id: int | None):
    return sa.true() if branch_id is None else column == branch_id


# --- What happened in the period -------------------------------------------------------


def _disbursed_in(period: Period, branch_id: int | None) -> tuple:
    return (
        Loan.status.in_(portfolio.DISBURSED),
        Loan.disbursed_on >= period.start,
        Loan.disbursed_on <= period.end,
        _in_branch(Loan.branch_id, branch_id),
    )


def _lending(period: Period, branch_id: int | None) -> dict:
    """Per branch, and in total (key TOTAL) for the company: distinct borrowers lent to
    and the amount lent. One query: a borrower lent to by two branches counts once in
    the total."""
    per_branch = (
        sa.select(
            Loan.branch_id.label("key"),
            sa.func.count(sa.distinct(Loan.borrower_id)).label("borrowers"),
            sa.func.sum(Loan.approved_amount).label("lent"),
        )
        .where(*_disbursed_in(period, branch_id))
        .group_by(Loan.branch_id)
    )
    stmt = per_branch
    if branch_id is None:
        total = sa.select(
            sa.null().label("key"),
            sa.func.count(sa.distinct(Loan.borrower_id)),
            sa.func.sum(Loan.approved_amount),
        ).where(*_disbursed_in(period, None))
        stmt = sa.union_all(per_branch, total)
    return {
        key: {"borrowers": borrowers, "lent": _yuan(lent)}
        for key, borrowers, lent in db.session.execute(stmt)
        if borrowers
    }


def _written_off(period: Period, branch_id: int | None) -> dict:
    """Per branch: the loans written off in the period and the principal each still owed
    on its day, by the portfolio's own rule (loans with a schedule)."""
    return portfolio.written_off_between(period.start, period.end, by="branch", branch_id=branch_id)


def _quality(period: Period, branch_id: int | None) -> dict:
    """Per branch: the loans outstanding at the period's end and those 90 days overdue."""
    as_of = period.end
    if branch_id is None:
        by_branch = portfolio.quality_by_branch(as_of)
    else:
        by_branch = {branch_id: portfolio.quality(as_of, branch_id=branch_id)}
    return {
        key: {
            "loans": q.loans,
            "outstanding": q.outstanding,
            "unscheduled": q.unscheduled,
            "overdue_loans": q.late_loans.get(90, 0),
            "overdue": q.par90,
        }
        for key, q in by_branch.items()
    }


def _visits(period: Period, branch_id: int | None) -> dict:
    """Per branch: borrower-months owed a visit and visited, summed over the period's
    months from the kept counts; a month not built yet is counted by the rule itself."""
    names = [str(month) for month in period.months]
    built = set(
        db.session.scalars(sa.select(ComplianceMonth.month).where(ComplianceMonth.month.in_(names)))
    )
    totals: dict = defaultdict(lambda: {"owed_visits": 0, "visits_done": 0})
    if built:
        kept = db.session.execute(
            sa.select(
                ComplianceCount.branch_id,
                sa.func.sum(ComplianceCount.owed),
                sa.func.sum(ComplianceCount.done),
            )
            .where(
                ComplianceCount.month.in_(built), _in_branch(ComplianceCount.branch_id, branch_id)
            )
            .group_by(ComplianceCount.branch_id)
        )
        for key, owed, done in kept:
            totals[key]["owed_visits"] += int(owed or 0)
            totals[key]["visits_done"] += int(done or 0)
    # Months before the first loan owe nothing: only the months with loans are counted.
    with_loans = set(counts.months_with_loans()) if len(built) < len(names) else set()
    live = [m for m in period.months if str(m) not in built and m in with_loans]
    if live:  # at most LONGEST months: within SQLite's 500 terms of a compound SELECT
        for row in db.session.execute(sa.union_all(*(counts.month_counts(m) for m in live))):
            if branch_id is None or row.branch_id == branch_id:
                totals[row.branch_id]["owed_visits"] += row.owed
                totals[row.branch_id]["visits_done"] += int(row.done)
    return totals


def _services(period: Period, branch_id: int | None) -> dict:
    """Per branch: the service requests completed in the period (rated later or not)."""
    first, after = services.period_bounds(period.start, period.end)
    rows = db.session.execute(
        sa.select(ServiceRequest.branch_id, sa.func.count(ServiceRequest.id))
        .where(
            ServiceRequest.completed_at >= first,
            ServiceRequest.completed_at < after,
            _in_branch(ServiceRequest.branch_id, branch_id),
        )
        .group_by(ServiceRequest.branch_id)
    )
    return {key: {"services": n} for key, n in rows}


def _satisfaction(period: Period, branch_id: int | None) -> dict:
    """Per branch: the service ratings and visit satisfaction of the satisfaction page."""
    first, after = services.period_bounds(period.start, period.end)

    def scope(column):
        return _in_branch(column, branch_id)

    figures: dict = defaultdict(dict)
    # The satisfaction page's own query of ratings, grouped by the request's branch.
    ratings = services.rating_rows([ServiceRequest.branch_id], scope, first, after)
    for key, count, average in ratings:
        figures[key].update(ratings=count, rating_points=count * float(average))
    for key, (count, average) in services.visit_satisfaction(scope, first, after)["branch"].items():
        figures[key].update(answers=count, answer_points=count * float(average))
    return figures


PARTS = (_lending, _quality, _written_off, _visits, _services, _satisfaction)


def _by_branch(period: Period, branch_id: int | None) -> dict:
    """{branch id (or TOTAL): Figures} from every part."""
    values: dict = defaultdict(dict)
    for part in PARTS:
        for key, figures in part(period, branch_id).items():
            values[key].update(figures)
    return {key: Figures(**figures) for key, figures in values.items()}


# --- The pages ----------------------------------------------------------------------


def company(period: Period) -> Headline:
    """The company's figures over ``period``, with a row per branch (active, or with figures)."""
    figures = _by_branch(period, None)
    rows = [
        BranchRow(branch, figures.get(branch.id, Figures()))
        for branch in db.session.scalars(sa.select(Branch).order_by(Branch.code))
        if branch.active or branch.id in figures
    ]
    total = sum((row.figures for row in rows), Figures())
    # Distinct borrowers: one lent to by two branches is one borrower of the company.
    total.borrowers = figures[TOTAL].borrowers if TOTAL in figures else 0
    return Headline(period, total, rows)


def branch(period: Period, branch_id: int) -> Figures:
    """One branch's figures over ``period``."""
    return _by_branch(period, branch_id).get(branch_id, Figures())


def branch_by_id(branch_id: int | None) -> Branch | None:
    return db.session.get(Branch, branch_id) if branch_id is not None else None


def default_branch(user) -> Branch | None:
    """A branch page without a choice: the head's branch, the admin's first active one."""
    if user.branch_id is not None:
        return db.session.get(Branch, user.branch_id)
    return db.session.scalar(sa.select(Branch).where(Branch.active).order_by(Branch.code).limit(1))


def branches() -> list[Branch]:
    """The branches an admin may pick, by code."""
    return list(db.session.scalars(sa.select(Branch).where(Branch.active).order_by(Branch.code)))
