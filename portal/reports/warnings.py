"""Do the warnings work? Borrowers by the risk level of their visit, and who fell behind.

For each month M: the borrowers visited in M by the level of their visit, and how many
of each level had a loan 30 or more days overdue on some day of the next three months
(the *window*, the 1st of M+1 to the last day of M+3); the lift of each level over
green; the trouble that came with no warning. docs/risk.md ("Do the warnings work?")
states every rule; one query answers any number of months, per branch.

A complete month's figures change only when the past does, so they are stored: ``build``
runs the same query for the company and keeps its rows (``WarningFigure``), the worker
stores each month once complete and computes the recent ones again each night, and
``outcomes`` reads the stored months back and computes only the others.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.branches.models import Branch
from portal.core.calendar import Month, company_tz, current_month, local_today, month_of
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanInstalment
from portal.reports import charts
from portal.reports.models import WarningFigure, WarningMonth
from portal.reports.queries import count_if
from portal.visits.models import Visit, latest_version
from portal.visits.risk import RiskLevel, risk_label

LEVELS = tuple(RiskLevel)
GREEN = RiskLevel.GREEN
OVERDUE_DAYS = 30
WINDOW_MONTHS = 3
MONTHS = 12


# --- the rules ----------------------------------------------------------------------------


def window(month: Month) -> tuple[date, date]:
    """The days a month's borrowers are watched: the 1st of M+1 to the last day of M+3."""
    return month.shift(1).first_day, month.shift(WINDOW_MONTHS).last_day


def is_complete(month: Month, today: date | None = None) -> bool:
    """Whether the month's window has ended, so its figures no longer change."""
    return window(month)[1] < (today or local_today())


def latest_complete_month() -> Month:
    """The last month whose window has ended: four months before this one."""
    return current_month().shift(-(WINDOW_MONTHS + 1))


def months_up_to(last: Month, count: int = MONTHS) -> list[Month]:
    """``count`` months ending with ``last``, oldest first."""
    return [last.shift(index - count + 1) for index in range(count)]


class DaysAfter(FunctionElement):
    """``day + days`` on both databases: a date column plus a whole number of days."""

    type = sa.Date()
    inherit_cache = True

    def __init__(self, day, days: int):
        super().__init__(day, sa.literal_column(str(int(days))))


@compiles(DaysAfter)
def _days_after(element, compiler, **kw):
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({day} + {days})"


@compiles(DaysAfter, "sqlite")
def _days_after_sqlite(element, compiler, **kw):
    # Dates are stored as ISO text, which date() reads and writes.
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({day}, '+{days} days')"


def ever_late():
    """The predicate of the partial index ``ix_loan_instalments_late``, written as the index
    has it: both databases use a partial index only when the query repeats it."""
    return sa.or_(
        LoanInstalment.settled_on.is_(None), LoanInstalment.settled_on > LoanInstalment.due_on
    )


def overdue_in_window(month: Month):
    """WHERE clause: the instalment made its loan 30+ days overdue on a day of the window.

    Late on day D exactly when ``due_on < D`` and it was not settled by D; so some D of
    [a, b] sees it 30+ days late iff D0 = max(due_on + 30, a) <= b and it was still
    unsettled on D0. A written-off loan counts up to its write-off day only.
    """
    first, last = window(month)
    thirty = DaysAfter(LoanInstalment.due_on, OVERDUE_DAYS)
    return sa.and_(
        ever_late(),
        LoanInstalment.due_on <= last - timedelta(days=OVERDUE_DAYS),
        sa.or_(
            LoanInstalment.settled_on.is_(None),
            sa.and_(LoanInstalment.settled_on > first, LoanInstalment.settled_on > thirty),
        ),
        sa.or_(
            Loan.written_off_on.is_(None),
            sa.and_(Loan.written_off_on >= first, Loan.written_off_on >= thirty),
        ),
    )


# --- the figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Borrowers of one month (or of several, added up) by the level of their visit."""

    borrowers: Mapping[RiskLevel, int] = field(default_factory=dict)
    in_trouble: Mapping[RiskLevel, int] = field(default_factory=dict)
    # In trouble in the window with no visit in the month.
    not_visited: int = 0
    # Visited, but left out: none of their loans has a schedule to judge by.
    unscheduled: int = 0

    def __add__(self, other: "Outcome") -> "Outcome":
        return Outcome(
            {level: self.count(level) + other.count(level) for level in LEVELS},
            {level: self.trouble(level) + other.trouble(level) for level in LEVELS},
            self.not_visited + other.not_visited,
            self.unscheduled + other.unscheduled,
        )

    def count(self, level: RiskLevel) -> int:
        return self.borrowers.get(level, 0)

    def trouble(self, level: RiskLevel) -> int:
        return self.in_trouble.get(level, 0)

    def share(self, level: RiskLevel) -> Fraction | None:
        """Share of the level's borrowers in trouble; None without borrowers."""
        count = self.count(level)
        return Fraction(self.trouble(level), count) if count else None

    def lift(self, level: RiskLevel) -> Fraction | None:
        """The level's share over green's; None when either is missing or green's is 0."""
        share, green = self.share(level), self.share(GREEN)
        return share / green if share is not None and green else None

    @property
    def visited(self) -> int:
        return sum(self.count(level) for level in LEVELS)

    @property
    def visited_in_trouble(self) -> int:
        return sum(self.trouble(level) for level in LEVELS)

    @property
    def no_warning_share(self) -> Fraction | None:
        """Of the visited borrowers in trouble, the share whose visit was green."""
        total = self.visited_in_trouble
        return Fraction(self.trouble(GREEN), total) if total else None


NOTHING = Outcome()


def _visited(months: list[Month], branch_id: int | None):
    """Each borrower visited in each month with the level of their latest visit (rank 1)."""
    parts = []
    for month in months:
        start, end = month.bounds(company_tz())
        latest_first = sa.func.row_number().over(
            partition_by=Visit.borrower_id, order_by=(Visit.visited_at.desc(), Visit.id.desc())
        )
        part = sa.select(
            sa.literal(str(month)).label("month"),
            Visit.borrower_id,
            Visit.branch_id,
            Visit.risk_level,
            latest_first.label("rank"),
        ).where(Visit.visited_at >= start, Visit.visited_at < end, latest_version(Visit))
        if branch_id is not None:
            part = part.where(Visit.branch_id == branch_id)
        parts.append(part)
    return sa.union_all(*parts).cte("visited")


def _troubled(months: list[Month], branch_id: int | None):
    """Each borrower with a loan 30+ days overdue in each month's window, from the late
    instalments' partial index."""
    parts = []
    for month in months:
        part = (
            sa.select(
                sa.literal(str(month)).label("month"),
                Loan.borrower_id,
                sa.func.min(Loan.branch_id).label("branch_id"),
            )
            .select_from(LoanInstalment)
            # Joined by an expression: SQLite would otherwise walk every loan into the
            # index on (loan_id, due_on) instead of reading the late instalments' own.
            .join(Loan, Loan.id == LoanInstalment.loan_id + 0)
            .where(overdue_in_window(month))
            .group_by(Loan.borrower_id)
        )
        if branch_id is not None:
            # After grouping, so both databases read the late instalments' index first
            # for a branch as for the company, whatever their statistics say.
            part = part.having(sa.func.min(Loan.branch_id) == branch_id)
        parts.append(part)
    return sa.union_all(*parts).cte("troubled")


def _by_level(visited, troubled):
    """Per month, branch and level: the visited borrowers with a scheduled loan, those in
    trouble, and all of them."""
    scheduled = (
        sa.select(LoanInstalment.id)
        .join(Loan, Loan.id == LoanInstalment.loan_id)
        .where(Loan.borrower_id == visited.c.borrower_id)
        .exists()
    )
    return (
        sa.select(
            visited.c.month,
            visited.c.branch_id,
            visited.c.risk_level,
            count_if(scheduled).label("borrowers"),
            sa.func.count(troubled.c.borrower_id).label("in_trouble"),
            sa.func.count().label("visited"),
        )
        .select_from(visited)
        .outerjoin(
            troubled,
            sa.and_(
                troubled.c.month == visited.c.month,
                troubled.c.borrower_id == visited.c.borrower_id,
            ),
        )
        .where(visited.c.rank == 1)
        .group_by(visited.c.month, visited.c.branch_id, visited.c.risk_level)
    )


def _not_visited(visited, troubled):
    """Per month and branch: the borrowers in trouble who had no visit in the month."""
    was_visited = (
        sa.select(visited.c.borrower_id)
        .where(visited.c.month == troubled.c.month, visited.c.borrower_id == troubled.c.borrower_id)
        .exists()
    )
    return (
        sa.select(
            troubled.c.month,
            troubled.c.branch_id,
            sa.null().label("risk_level"),
            sa.literal(0).label("borrowers"),
            sa.func.count().label("in_trouble"),
            sa.literal(0).label("visited"),
        )
        .where(~was_visited)
        .group_by(troubled.c.month, troubled.c.branch_id)
    )


def _statement(months: list[Month], branch_id: int | None):
    visited, troubled = _visited(months, branch_id), _troubled(months, branch_id)
    return sa.union_all(_by_level(visited, troubled), _not_visited(visited, troubled))


def _accumulate(rows, found: dict[Month, dict[int, dict]]) -> None:
    """Add rows of the warnings query (computed or stored) to ``found``, per month and branch."""
    for row in rows:
        parts = found[Month.parse(row.month)].setdefault(
            row.branch_id, {"borrowers": {}, "in_trouble": {}, "not_visited": 0, "unscheduled": 0}
        )
        if row.risk_level is None:
            parts["not_visited"] += row.in_trouble
        else:
            level = RiskLevel(row.risk_level)
            parts["borrowers"][level] = row.borrowers
            parts["in_trouble"][level] = row.in_trouble
            parts["unscheduled"] += row.visited - row.borrowers


def _stored(months: list[Month], branch_id: int | None) -> tuple[set[str], list]:
    """The stored months among ``months``, and their rows (one query)."""
    on = WarningFigure.month == WarningMonth.month
    if branch_id is not None:
        on = sa.and_(on, WarningFigure.branch_id == branch_id)
    rows = db.session.execute(
        sa.select(
            WarningMonth.month,
            WarningFigure.branch_id,
            WarningFigure.risk_level,
            WarningFigure.borrowers,
            WarningFigure.in_trouble,
            WarningFigure.visited,
        )
        .outerjoin(WarningFigure, on)
        .where(WarningMonth.month.in_([str(month) for month in months]))
    ).all()
    # A stored month without a row (nobody visited, nobody in trouble) has a NULL branch.
    return {row.month for row in rows}, [row for row in rows if row.branch_id is not None]


def outcomes(
    months: Iterable[Month], branch_id: int | None = None
) -> dict[Month, dict[int, Outcome]]:
    """Per month and branch, what became of the borrowers visited: the stored months read
    back, the others computed (one query each)."""
    months = list(months)
    found: dict[Month, dict[int, dict]] = {month: {} for month in months}
    built, rows = _stored(months, branch_id)
    _accumulate(rows, found)
    missing = [month for month in months if str(month) not in built]
    if missing:
        _accumulate(db.session.execute(_statement(missing, branch_id)), found)
    return {
        month: {branch: Outcome(**parts) for branch, parts in by_branch.items()}
        for month, by_branch in found.items()
    }


def _added(outcomes: Iterable[Outcome]) -> Outcome:
    return sum(outcomes, NOTHING)


@dataclass(frozen=True)
class Evidence:
    """Months of outcomes for a branch or the company, and their total over the complete ones."""

    months: list[Month]
    complete: frozenset[Month]
    by_month: dict[Month, Outcome]
    total: Outcome
    # The company's view: each branch's total over the complete months.
    by_branch: dict[int, Outcome]


def evidence(last: Month, branch_id: int | None = None, count: int = MONTHS) -> Evidence:
    """The ``count`` months ending with ``last``, for a branch or (None) the company."""
    months = months_up_to(last, count)
    found = outcomes(months, branch_id)
    today = local_today()
    complete = frozenset(month for month in months if is_complete(month, today))
    by_branch: dict[int, Outcome] = defaultdict(Outcome)
    for month in complete:
        for branch, outcome in found[month].items():
            by_branch[branch] += outcome
    return Evidence(
        months=months,
        complete=complete,
        by_month={month: _added(found[month].values()) for month in months},
        total=_added(by_branch.values()),
        by_branch=dict(by_branch),
    )


# --- stored months ---------------------------------------------------------------------------

# PostgreSQL advisory lock: two workers building at once take turns.
_LOCK = 0x7761726E
# Months per statement: SQLite allows 500 terms in a compound SELECT.
_MONTHS_PER_QUERY = 24
# The nightly rebuild: the months a payment dated back or an amended visit may still change
# and the page or the monthly report still show.
RECENT_MONTHS = 15

Figures = dict[tuple[str, int, str | None], tuple[int, int, int]]


def buildable_months(today: date | None = None) -> list[Month]:
    """Every complete month from the first disbursement or visit on: what a build covers."""
    first_loan = db.session.scalar(sa.select(sa.func.min(Loan.disbursed_on)))
    first_visit = db.session.scalar(sa.select(sa.func.min(Visit.visited_at)))
    firsts = [Month.containing(first_loan)] if first_loan else []
    if first_visit:
        firsts.append(month_of(first_visit))
    if not firsts:
        return []
    month, span = min(firsts), []
    while is_complete(month, today or local_today()):
        span.append(month)
        month = month.shift(1)
    return span


def computed(months: list[Month]) -> Figures:
    """{(month, branch, level or None): (borrowers, in trouble, visited)} of every branch, as
    the page's query counts them."""
    figures: Figures = {}
    for start in range(0, len(months), _MONTHS_PER_QUERY):
        chunk = months[start : start + _MONTHS_PER_QUERY]
        for row in db.session.execute(_statement(chunk, None)):
            level = None if row.risk_level is None else RiskLevel(row.risk_level).value
            figures[(row.month, row.branch_id, level)] = (
                row.borrowers,
                row.in_trouble,
                row.visited,
            )
    return figures


def build(months: list[Month]) -> int:
    """Compute ``months`` for every branch and store them, replacing what was stored; the
    caller commits. Returns the number of rows written."""
    if not months:
        return 0
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))
    names = [str(month) for month in months]
    connection.execute(sa.delete(WarningFigure).where(WarningFigure.month.in_(names)))
    connection.execute(sa.delete(WarningMonth).where(WarningMonth.month.in_(names)))
    rows = [
        {
            "month": month,
            "branch_id": branch_id,
            "risk_level": level,
            "borrowers": borrowers,
            "in_trouble": in_trouble,
            "visited": visited,
        }
        for (month, branch_id, level), (borrowers, in_trouble, visited) in computed(months).items()
    ]
    if rows:
        connection.execute(sa.insert(WarningFigure), rows)
    now = utcnow()
    connection.execute(sa.insert(WarningMonth), [{"month": n, "built_at": now} for n in names])
    return len(rows)


def stored_months() -> list[Month]:
    return [Month.parse(m) for m in db.session.scalars(sa.select(WarningMonth.month))]


def build_missing(today: date | None = None) -> list[Month]:
    """Store the complete months not stored yet (a month just complete, a first run)."""
    stored = set(stored_months())
    missing = [month for month in buildable_months(today) if month not in stored]
    build(missing)
    return missing


def rebuild(recent: int | None = None, today: date | None = None) -> list[Month]:
    """Compute again and store every complete month, or only the ``recent`` last ones."""
    months = buildable_months(today)
    if recent is None:
        db.session.execute(sa.delete(WarningFigure))
        db.session.execute(sa.delete(WarningMonth))
    else:
        months = months[-recent:]
    build(months)
    return months


def differences() -> list[tuple]:
    """(month, branch, level, stored, computed) wherever a stored month's figures differ
    from the page's query; [] when they agree. Figures are (borrowers, in trouble, visited)."""
    months = sorted(stored_months())
    stored: Figures = {
        (row.month, row.branch_id, row.risk_level and RiskLevel(row.risk_level).value): (
            row.borrowers,
            row.in_trouble,
            row.visited,
        )
        for row in db.session.execute(sa.select(WarningFigure)).scalars().all()
        if row.borrowers or row.in_trouble or row.visited
    }
    counted = {key: value for key, value in computed(months).items() if any(value)}
    nothing = (0, 0, 0)
    return [
        (*key, stored.get(key, nothing), counted.get(key, nothing))
        for key in sorted(
            set(stored) | set(counted), key=lambda key: (key[0], key[1], key[2] or "")
        )
        if stored.get(key, nothing) != counted.get(key, nothing)
    ]


# --- as pages and reports show it ---------------------------------------------------------

# The rules in a sentence each, under the table on the page and in the monthly report.
RULES = (
    _l(
        "A borrower's level for a month is that of their latest visit in the month; an "
        "amendment replaces the visit it amends."
    ),
    _l(
        "30+ days overdue: on some day from the 1st of the next month to the end of the third "
        "month after, an instalment of one of the borrower's loans was unpaid 30 or more days "
        "after it fell due. Loans without a repayment schedule are left out; a written-off "
        "loan counts up to the day it was written off."
    ),
    _l("Lift over green: the level's share divided by green's; ×2.00 is twice as often as green."),
    _l(
        "A month is complete once the three months after it have ended; incomplete months are "
        "shown but left out of the totals."
    ),
)


def share_text(value: Fraction | None) -> str:
    """``12.5 %`` with one decimal, or a dash."""
    return "—" if value is None else f"{float(value) * 100:.1f} %"


def lift_text(value: Fraction | None) -> str:
    """``×2.40``, or a dash."""
    return "—" if value is None else f"×{float(value):.2f}"


@dataclass(frozen=True)
class LevelCell:
    """One level of a row: its borrowers, how many fell 30+ days overdue, share and lift."""

    level: RiskLevel
    label: str
    borrowers: int
    in_trouble: int
    share: str
    lift: str


@dataclass(frozen=True)
class Row:
    """A month's, a branch's or the total's figures, one cell per level."""

    name: str
    complete: bool
    cells: list[LevelCell]
    visited_in_trouble: int
    no_warning: int
    no_warning_share: str
    not_visited: int


@dataclass(frozen=True)
class WarningsTable:
    """What the page and the monthly report show of an ``Evidence``."""

    first: str
    last: str
    complete_months: int
    total: Row
    months: list[Row]
    branches: list[Row]
    unscheduled: int
    chart: Markup
    rules: list[str]


def _row(name: str, outcome: Outcome, complete: bool = True) -> Row:
    cells = [
        LevelCell(
            level,
            risk_label(level),
            outcome.count(level),
            outcome.trouble(level),
            share_text(outcome.share(level)),
            lift_text(outcome.lift(level)),
        )
        for level in LEVELS
    ]
    return Row(
        name,
        complete,
        cells,
        outcome.visited_in_trouble,
        outcome.trouble(GREEN),
        share_text(outcome.no_warning_share),
        outcome.not_visited,
    )


def _chart(total: Row) -> Markup:
    bars = [
        charts.Bar(
            cell.label,
            cell.in_trouble / cell.borrowers if cell.borrowers else 0,
            charts.RISK_COLOURS[cell.level],
            f"{cell.share} · {cell.in_trouble}/{cell.borrowers}",
        )
        for cell in total.cells
    ]
    return charts.horizontal_bars(bars, _("Share 30+ days overdue within three months, by level"))


def _branch_names(ids: Iterable[int]) -> dict[int, str]:
    """{id: "name (code)"} in the order of the codes."""
    rows = db.session.execute(
        sa.select(Branch.id, Branch.name, Branch.code)
        .where(Branch.id.in_(list(ids)))
        .order_by(Branch.code)
    )
    return {row.id: f"{row.name} ({row.code})" for row in rows}


def warnings_table(last: Month, branch_id: int | None = None) -> WarningsTable:
    """The twelve months ending with ``last`` for a branch, or for the company with a row
    per branch; two queries at most."""
    found = evidence(last, branch_id)
    names = _branch_names(found.by_branch) if branch_id is None and found.by_branch else {}
    total = _row(_("Total"), found.total)
    return WarningsTable(
        first=str(found.months[0]),
        last=str(found.months[-1]),
        complete_months=len(found.complete),
        total=total,
        months=[
            _row(str(month), found.by_month[month], month in found.complete)
            for month in found.months
        ],
        branches=[_row(name, found.by_branch[branch]) for branch, name in names.items()],
        unscheduled=found.total.unscheduled,
        chart=_chart(total),
        rules=[str(rule) for rule in RULES],
    )
