"""The monthly visit rule of docs/visits.md, in one place.

Which borrowers owe a visit in a month, who is responsible for it, and what counts
as done are each one SQL expression here; the pages build their few queries from
them, so the number of queries never depends on the number of borrowers.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.core.calendar import Month, company_tz, current_month, month_of
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.visits.models import ComplianceCount, ComplianceMonth, Visit
from portal.visits.risk import RiskLevel

# A loan owes a visit in a month when it is active on this day of the month.
REFERENCE_DAY = 20
# A visit may be recorded up to this long after it happened (a tablet offline in the field).
RECORDING_WINDOW = timedelta(days=7)
# A time a few minutes ahead is a tablet clock running fast, not a visit in the future.
CLOCK_SKEW = timedelta(minutes=5)
TREND_MONTHS = 6


# --- The rule, as SQL -----------------------------------------------------------


def loan_owes_visit(month: Month):
    """The loan is active on the month's reference day (disbursed by then, not yet closed)."""
    day = month.day(REFERENCE_DAY)
    return sa.and_(
        Loan.disbursed_on.is_not(None),
        Loan.disbursed_on <= day,
        sa.or_(
            Loan.closed_on > day,
            sa.and_(Loan.closed_on.is_(None), Loan.status == LoanStatus.ACTIVE),
        ),
    )


def disbursed_after_reference_day(month: Month):
    """The borrower has an active loan disbursed after ``month``'s reference day: owed from next month."""
    return sa.exists().where(
        Loan.borrower_id == Borrower.id,
        Loan.status == LoanStatus.ACTIVE,
        Loan.disbursed_on > month.day(REFERENCE_DAY),
    )


def owes_visit(month: Month, branch_id: int | None = None):
    """The borrower (``Borrower`` in the outer query) has a loan that owes a visit in ``month``.

    With ``branch_id`` the loans are narrowed by their indexed branch column too, which
    lets PostgreSQL build its semi-join from one branch's loans instead of all of them.
    SQLite runs the subquery per borrower, where that index would read the whole
    branch's loans every time, so there it is left out.
    """
    condition = sa.and_(Loan.borrower_id == Borrower.id, loan_owes_visit(month))
    if branch_id is not None and db.engine.dialect.name == "postgresql":
        condition = sa.and_(condition, Loan.branch_id == branch_id)
    return sa.exists().where(condition)


def visited_in(month: Month, tz: ZoneInfo):
    """The borrower has a signed original (not an amendment) visit dated inside ``month``."""
    start, end = month.bounds(tz)
    return sa.exists().where(
        Visit.borrower_id == Borrower.id,
        Visit.amends_id.is_(None),
        Visit.visited_at >= start,
        Visit.visited_at < end,
    )


def responsible_officer_id(month: Month, tz: ZoneInfo):
    """The officer assigned at the end of ``month``: the last assignment started before it.

    Borrowers whose history starts later (records entered after the fact) fall back
    to their current officer.
    """
    _, end = month.bounds(tz)
    last_assignment = (
        sa.select(OfficerAssignment.officer_id)
        .where(OfficerAssignment.borrower_id == Borrower.id, OfficerAssignment.started_at < end)
        .order_by(OfficerAssignment.started_at.desc(), OfficerAssignment.id.desc())
        .limit(1)
        .correlate(Borrower)
        .scalar_subquery()
    )
    return sa.func.coalesce(last_assignment, Borrower.officer_id)


def latest_risk_level():
    """Risk level of the borrower's most recent visit (amendments included), or NULL."""
    return (
        sa.select(Visit.risk_level)
        .where(Visit.borrower_id == Borrower.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
        .correlate(Borrower)
        .scalar_subquery()
    )


def last_visited_at():
    """Time of the borrower's most recent visit, or NULL."""
    return (
        sa.select(sa.func.max(Visit.visited_at))
        .where(Visit.borrower_id == Borrower.id)
        .correlate(Borrower)
        .scalar_subquery()
    )


# Red first; a borrower never visited has an unknown risk, so comes before the green ones.
_RISK_ORDER = {
    RiskLevel.RED: 0,
    RiskLevel.ORANGE: 1,
    RiskLevel.YELLOW: 2,
    None: 3,
    RiskLevel.GREEN: 4,
}


def risk_sort_key(level: RiskLevel | None) -> int:
    """Sort key putting red first and green last."""
    return _RISK_ORDER[level]


# --- The officer's month ---------------------------------------------------------


@dataclass(frozen=True)
class DueBorrower:
    """One borrower on the officer's list for the month."""

    borrower_id: int
    full_name: str
    village: str
    visited: bool
    missed_last_month: bool
    latest_risk: RiskLevel | None
    last_visited_at: datetime | None


@dataclass(frozen=True)
class OfficerMonth:
    """An officer's borrowers due in the current month, split the way the page shows them."""

    month: Month
    rows: list[DueBorrower]
    # Visited this month although the rule owes no visit yet (loan disbursed after the
    # 20th): shown apart, so the officer sees the visit counted somewhere.
    early: list[DueBorrower] = field(default_factory=list)

    @property
    def overdue(self) -> list[DueBorrower]:
        """Missed last month and not yet visited this month: first on the list."""
        return [r for r in self.rows if r.missed_last_month and not r.visited]

    @property
    def due(self) -> list[DueBorrower]:
        return [r for r in self.rows if not r.missed_last_month and not r.visited]

    @property
    def done(self) -> list[DueBorrower]:
        return [r for r in self.rows if r.visited]

    @property
    def percent(self) -> int:
        return round(100 * len(self.done) / len(self.rows)) if self.rows else 100


def officer_month(officer_id: int, now: datetime | None = None) -> OfficerMonth:
    """This month's due, done, overdue and visited-early borrowers of one officer, in one query."""
    tz = company_tz()
    month = current_month(now)
    last = month.shift(-1)
    owes = owes_visit(month)
    visited = visited_in(month, tz)
    # For the current month the officer at the end of the month is the officer now.
    stmt = sa.select(
        Borrower.id,
        Borrower.full_name,
        Borrower.village,
        Borrower.name_initials,
        owes.label("owes"),
        visited.label("visited"),
        sa.and_(owes_visit(last), ~visited_in(last, tz)).label("missed_last"),
        latest_risk_level().label("risk"),
        last_visited_at().label("last_visit"),
    ).where(
        Borrower.officer_id == officer_id,
        sa.or_(owes, sa.and_(visited, disbursed_after_reference_day(month))),
    )
    rows = db.session.execute(stmt).all()
    rows.sort(key=lambda r: (risk_sort_key(r.risk), r.name_initials, r.id))
    listed = {
        r.id: DueBorrower(
            r.id, r.full_name, r.village, bool(r.visited), bool(r.missed_last), r.risk, r.last_visit
        )
        for r in rows
    }
    return OfficerMonth(
        month,
        [listed[r.id] for r in rows if r.owes],
        early=[listed[r.id] for r in rows if not r.owes],
    )


# --- The branch's compliance ---------------------------------------------------------


@dataclass
class OfficerCompliance:
    officer_id: int
    name: str
    owed: int
    done: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.owed) if self.owed else None


@dataclass
class MonthCompliance:
    month: Month
    officers: list[OfficerCompliance] = field(default_factory=list)

    @property
    def owed(self) -> int:
        return sum(o.owed for o in self.officers)

    @property
    def done(self) -> int:
        return sum(o.done for o in self.officers)

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.owed) if self.owed else None


def _officer_counts(branch_id: int, month: Month, tz: ZoneInfo):
    owed = (
        sa.select(
            responsible_officer_id(month, tz).label("officer_id"),
            sa.case((visited_in(month, tz), 1), else_=0).label("done"),
        )
        .where(Borrower.branch_id == branch_id, owes_visit(month, branch_id))
        .subquery()
    )
    return sa.select(
        sa.literal(str(month)).label("month"),
        owed.c.officer_id,
        sa.func.count().label("owed"),
        sa.func.sum(owed.c.done).label("done"),
    ).group_by(owed.c.officer_id)


def _month_counts(branch_id: int, span: list[Month], tz: ZoneInfo) -> list:
    """(month, officer_id, owed, done) rows for ``span``: the kept counts of built months
    (portal/visits/counts.py), the rule's own query for any month not built yet."""
    names = [str(m) for m in span]
    built = set(
        db.session.scalars(sa.select(ComplianceMonth.month).where(ComplianceMonth.month.in_(names)))
    )
    stored = (
        db.session.execute(
            sa.select(
                ComplianceCount.month,
                ComplianceCount.officer_id,
                ComplianceCount.owed,
                ComplianceCount.done,
            ).where(
                ComplianceCount.branch_id == branch_id,
                ComplianceCount.month.in_(built),
                ComplianceCount.owed > 0,
            )
        ).all()
        if built
        else []
    )
    live = [m for m in span if str(m) not in built]
    counted = (
        db.session.execute(sa.union_all(*(_officer_counts(branch_id, m, tz) for m in live))).all()
        if live
        else []
    )
    return [*stored, *counted]


def branch_trend(branch_id: int, month: Month, months: int = TREND_MONTHS) -> list[MonthCompliance]:
    """Compliance per officer for ``month`` and the months before it, oldest first (4 queries)."""
    tz = company_tz()
    span = [month.shift(offset) for offset in range(1 - months, 1)]
    rows = _month_counts(branch_id, span, tz)
    names = dict(
        db.session.execute(
            sa.select(User.id, User.display_name).where(User.id.in_({r.officer_id for r in rows}))
        ).all()
    )
    by_month = {str(m): MonthCompliance(m) for m in span}
    for r in rows:
        by_month[r.month].officers.append(
            OfficerCompliance(r.officer_id, names.get(r.officer_id, "?"), r.owed, int(r.done or 0))
        )
    for result in by_month.values():
        result.officers.sort(key=lambda o: (o.percent if o.percent is not None else 101, o.name))
    return list(by_month.values())


@dataclass
class OfficerTrend:
    """One officer's row in the trend table: a result per month, None when owed nothing."""

    officer_id: int
    name: str
    months: list[OfficerCompliance | None]


def officer_trends(trend: list[MonthCompliance]) -> list[OfficerTrend]:
    """Rows per officer across the months; the selected (last) month's order first."""
    names = {o.officer_id: o.name for month in trend for o in month.officers}
    order = [o.officer_id for o in trend[-1].officers] if trend else []
    order += sorted(set(names) - set(order), key=lambda officer_id: names[officer_id])
    by_month = [{o.officer_id: o for o in month.officers} for month in trend]
    return [OfficerTrend(i, names[i], [month.get(i) for month in by_month]) for i in order]


# --- The evidence of the month's visits (docs/visit-evidence.md) ---------------------


@dataclass(frozen=True)
class OfficerEvidence:
    """One officer's visits signed in a month: how many carry flags, how the head checked them."""

    officer_id: int
    name: str
    visits: int
    flagged: int
    confirmed: int
    asked: int

    @property
    def to_check(self) -> int:
        """Flagged and neither confirmed genuine nor waiting for the officer's answer."""
        return self.flagged - self.confirmed - self.asked

    @property
    def flagged_percent(self) -> int | None:
        return round(100 * self.flagged / self.visits) if self.visits else None


def evidence_by_officer(branch_id: int, month: Month) -> list[OfficerEvidence]:
    """Per officer, the branch's visits of ``month``, those flagged, confirmed and asked: one query.

    The officer is the one who signed the visit; each signed record counts (an
    amendment is checked like the visit it corrects). A visit's state is the newest
    check of it.
    """
    start, end = month.bounds(company_tz())
    flagged_ids = (
        sa.select(VisitFlag.visit_id)
        .where(
            VisitFlag.branch_id == branch_id,
            VisitFlag.visited_at >= start,
            VisitFlag.visited_at < end,
        )
        .group_by(VisitFlag.visit_id)
        .subquery()
    )
    newest = (
        sa.select(VisitReview.action)
        .where(VisitReview.visit_id == flagged_ids.c.visit_id)
        .order_by(VisitReview.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    flagged = sa.select(flagged_ids.c.visit_id, newest.label("state")).subquery()

    def count_state(action: ReviewAction):
        return sa.func.sum(sa.case((flagged.c.state == action.value, 1), else_=0))

    # Counted per officer first, named after. Grouped by an expression, not the bare
    # column: SQLite would otherwise walk the officers' index across the whole company
    # for its grouping order (~100 ms at 100,000 borrowers) instead of reading the
    # branch's covering index of visits (~4 ms).
    officer = (Visit.officer_id + 0).label("officer_id")
    per_officer = (
        sa.select(
            officer,
            sa.func.count(Visit.id).label("visits"),
            sa.func.count(flagged.c.visit_id).label("flagged"),
            count_state(ReviewAction.CONFIRMED).label("confirmed"),
            count_state(ReviewAction.ASKED).label("asked"),
        )
        .outerjoin(flagged, flagged.c.visit_id == Visit.id)
        .where(Visit.branch_id == branch_id, Visit.visited_at >= start, Visit.visited_at < end)
        .group_by(officer)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(per_officer, User.display_name).join(User, User.id == per_officer.c.officer_id)
    ).all()
    result = [
        OfficerEvidence(
            r.officer_id,
            r.display_name,
            r.visits,
            r.flagged,
            int(r.confirmed or 0),
            int(r.asked or 0),
        )
        for r in rows
    ]
    return sorted(result, key=lambda o: (-o.flagged, o.name))


def missed_borrowers(branch_id: int, month: Month):
    """SELECT of the branch's borrowers who owed a visit in ``month`` and had none."""
    tz = company_tz()
    officer = responsible_officer_id(month, tz).label("officer_id")
    inner = (
        sa.select(
            Borrower.id,
            Borrower.full_name,
            Borrower.village,
            Borrower.name_initials,
            officer,
            latest_risk_level().label("risk"),
            last_visited_at().label("last_visit"),
        )
        .where(
            Borrower.branch_id == branch_id,
            owes_visit(month, branch_id),
            ~visited_in(month, tz),
        )
        .subquery()
    )
    return (
        sa.select(inner, User.display_name.label("officer_name"))
        .join(User, User.id == inner.c.officer_id)
        .order_by(User.display_name, inner.c.name_initials, inner.c.id)
    )


def visit_time_problem(visited_at: datetime, now: datetime, original: Visit | None = None):
    """Why ``visited_at`` cannot be recorded (a message code), or None when it can.

    A new visit is recorded within RECORDING_WINDOW of happening; an amendment keeps
    the original's month, because that month's compliance counted the original.
    """
    if visited_at > now + CLOCK_SKEW:
        return "future"
    if original is not None:
        return None if month_of(visited_at) == month_of(original.visited_at) else "other_month"
    if visited_at < now - RECORDING_WINDOW:
        return "too_old"
    return None
