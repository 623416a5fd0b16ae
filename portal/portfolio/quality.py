"""Portfolio quality on any day: portfolio at risk, write-offs and repayment rate.

docs/portfolio.md states the definitions. Everything is computed from the schedules and
the repayments as they stood on the day (``as_of``), so a past month-end keeps its
figures when later payments arrive:

- a loan is *outstanding* on D when it was disbursed by D, not closed by D, and not
  written off by D; its principal outstanding is the amount lent less the principal
  of the payments made by D;
- it is *overdue* on D by D − the due date of its oldest instalment not settled by D
  (``settled_on`` missing or after D);
- PAR1/30/90 is the principal outstanding of the loans overdue by at least 1/30/90
  days, as a share of all principal outstanding (by balance, not by count);
- written off: the principal outstanding on the day of each write-off in the twelve
  months to D, as a share of the principal outstanding on D plus those write-offs;
- repayment rate: of what fell due from the first of D's month to D (on loans not
  paid off or written off before the instalment's day), the share settled by D.

Loans recorded before schedules existed have no instalments; they are counted apart
(``unscheduled``) and left out of every other figure. A fixed number of queries,
whatever the number of loans; the late loans come from the partial index of the
instalments ever paid late.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.core.calendar import Month, company_tz
from portal.extensions import db
from portal.loans.models import Loan, LoanInstalment, LoanStatus, Repayment
from portal.portfolio.standing import as_date

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
BUCKETS = (1, 30, 90)  # PAR thresholds in days overdue
DISBURSED = (LoanStatus.ACTIVE, LoanStatus.CLOSED)


@dataclass(frozen=True)
class Quality:
    """One group's portfolio on ``as_of`` (a branch, an officer, the company)."""

    as_of: date
    loans: int = 0
    outstanding: Decimal = ZERO
    par1: Decimal = ZERO
    par30: Decimal = ZERO
    par90: Decimal = ZERO
    # threshold → loans overdue by at least that many days
    late_loans: dict[int, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    written_off: Decimal = ZERO
    written_off_loans: int = 0
    due: Decimal = ZERO
    collected: Decimal = ZERO
    unscheduled: int = 0

    @staticmethod
    def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
        return part / whole if whole else None

    @property
    def par1_ratio(self) -> Decimal | None:
        return self._ratio(self.par1, self.outstanding)

    @property
    def par30_ratio(self) -> Decimal | None:
        return self._ratio(self.par30, self.outstanding)

    @property
    def par90_ratio(self) -> Decimal | None:
        return self._ratio(self.par90, self.outstanding)

    def at_risk(self, threshold: int) -> Decimal:
        """PAR's amount for ``threshold`` days (1, 30 or 90)."""
        return {1: self.par1, 30: self.par30, 90: self.par90}[threshold]

    def at_risk_ratio(self, threshold: int) -> Decimal | None:
        return self._ratio(self.at_risk(threshold), self.outstanding)

    @property
    def write_off_ratio(self) -> Decimal | None:
        return self._ratio(self.written_off, self.outstanding + self.written_off)

    @property
    def repayment_rate(self) -> Decimal | None:
        return self._ratio(self.collected, self.due)


def _money(value) -> Decimal:
    """A sum as the database gives it (a float on SQLite) back to yuan and fen."""
    return Decimal(str(value or 0)).quantize(FEN)


def _day_end(day: date) -> datetime:
    """The start of the day after ``day`` in the company's time zone, as a UTC moment."""
    return datetime.combine(day + timedelta(days=1), time(), company_tz())


def officer_on(day: date):
    """The borrower's officer at the end of ``day``: the last assignment started by then
    (records entered after the fact fall back to the current officer)."""
    last = (
        sa.select(OfficerAssignment.officer_id)
        .where(
            OfficerAssignment.borrower_id == Loan.borrower_id,
            OfficerAssignment.started_at < _day_end(day),
        )
        .order_by(OfficerAssignment.started_at.desc(), OfficerAssignment.id.desc())
        .limit(1)
        .correlate(Loan)
        .scalar_subquery()
    )
    current = (
        sa.select(Borrower.officer_id)
        .where(Borrower.id == Loan.borrower_id)
        .correlate(Loan)
        .scalar_subquery()
    )
    return sa.func.coalesce(last, current)


def _repaid_by(day):
    """The loan's principal repaid by ``day`` (read from the repayments' index alone)."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Repayment.principal), 0))
        .where(Repayment.loan_id == Loan.id, Repayment.paid_on <= day)
        .correlate(Loan)
        .scalar_subquery()
    )


def _scheduled():
    return sa.exists().where(LoanInstalment.loan_id == Loan.id)


class _Scope:
    """Which loans a computation looks at, and what it groups them by."""

    def __init__(self, as_of: date, by: str | None, branch_id, officer_id):
        self.as_of = as_of
        officer = officer_on(as_of)
        self.key = {"branch": Loan.branch_id, "officer": officer}.get(by, sa.literal(0))
        self.key = self.key.label("key")
        self.filters = []
        if branch_id is not None:
            self.filters.append(Loan.branch_id == branch_id)
        if officer_id is not None:
            self.filters.append(officer == officer_id)

    def outstanding_on(self, day: date) -> list:
        """The loans outstanding on ``day`` in this scope."""
        return [
            *self.filters,
            Loan.status.in_(DISBURSED),
            Loan.disbursed_on <= day,
            sa.or_(Loan.closed_on.is_(None), Loan.closed_on > day),
            sa.or_(Loan.written_off_on.is_(None), Loan.written_off_on > day),
        ]


def _portfolio(scope: _Scope) -> dict:
    """Per group: loans outstanding with a schedule, their principal outstanding, and
    the loans outstanding without one."""
    day = scope.as_of
    loans = (
        sa.select(
            scope.key,
            _scheduled().label("scheduled"),
            (Loan.approved_amount - _repaid_by(day)).label("outstanding"),
        )
        .where(*scope.outstanding_on(day))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            loans.c.key, loans.c.scheduled, sa.func.count(), sa.func.sum(loans.c.outstanding)
        ).group_by(loans.c.key, loans.c.scheduled)
    )
    figures = defaultdict(lambda: {"loans": 0, "outstanding": ZERO, "unscheduled": 0})
    for key, scheduled, loans, outstanding in rows:
        if scheduled:
            figures[key].update(loans=loans, outstanding=_money(outstanding))
        else:
            figures[key]["unscheduled"] = loans
    return figures


def _late(day: date):
    """Loan id → the due date of its oldest instalment still unsettled on ``day``."""
    # Grouped by an expression, not the column: SQLite would otherwise walk the index on
    # (loan_id, due_on) for its order and read every instalment of every loan.
    loan_id = (LoanInstalment.loan_id + 0).label("loan_id")
    return (
        sa.select(loan_id, sa.func.min(LoanInstalment.due_on).label("oldest"))
        .where(
            # The partial index's own condition first, so both databases read only it.
            sa.or_(
                LoanInstalment.settled_on.is_(None),
                LoanInstalment.settled_on > LoanInstalment.due_on,
            ),
            LoanInstalment.due_on < day,
            sa.or_(LoanInstalment.settled_on.is_(None), LoanInstalment.settled_on > day),
        )
        .group_by(loan_id)
        .subquery()
    )


def late_loans(as_of: date, branch_id: int | None = None):
    """The loans overdue on ``as_of`` (of a branch, or the company), oldest arrears first:
    the list behind PAR1, for a page and its download."""
    scope = _Scope(as_of, None, branch_id, None)
    late = _late(as_of)
    officer = officer_on(as_of).label("officer_id")
    loans = (
        sa.select(
            Loan.id.label("loan_id"),
            Loan.contract_number,
            Loan.borrower_id,
            Loan.branch_id,
            officer,
            late.c.oldest,
            (Loan.approved_amount - _repaid_by(as_of)).label("outstanding"),
        )
        .join(late, late.c.loan_id == Loan.id)
        .where(*scope.outstanding_on(as_of))
        .subquery()
    )
    return (
        sa.select(
            loans,
            Borrower.full_name,
            Borrower.village,
            User.display_name.label("officer_name"),
        )
        .join(Borrower, Borrower.id == loans.c.borrower_id)
        .outerjoin(User, User.id == loans.c.officer_id)
        .order_by(loans.c.oldest, loans.c.loan_id)
    )


def days_overdue(row, as_of: date) -> int:
    """How many days a row of :func:`late_loans` is overdue on ``as_of``."""
    return (as_of - as_date(row.oldest)).days


def officer_names(officer_ids) -> dict[int, str]:
    """Officer id → the name shown for them."""
    ids = [i for i in officer_ids if i is not None]
    if not ids:
        return {}
    stmt = sa.select(User.id, User.display_name).where(User.id.in_(ids))
    return dict(db.session.execute(stmt).all())


def _at_risk(scope: _Scope) -> dict:
    """Per group and threshold: the loans overdue by at least that many days, and their
    principal outstanding."""
    day = scope.as_of
    late = _late(day)
    rows = db.session.execute(
        sa.select(scope.key, late.c.oldest, Loan.approved_amount - _repaid_by(day))
        .join(late, late.c.loan_id == Loan.id)
        .where(*scope.outstanding_on(day))
    )
    return _at_risk_of(rows, day)


def _at_risk_of(rows: Iterable, day: date) -> dict:
    """``_at_risk``'s figures from (group, oldest unsettled due date, outstanding) rows."""
    figures = defaultdict(lambda: {"late_loans": dict.fromkeys(BUCKETS, 0), "par": {}})
    for key, oldest, outstanding in rows:
        days = (day - as_date(oldest)).days
        group = figures[key]
        for threshold in BUCKETS:
            if days >= threshold:
                group["late_loans"][threshold] += 1
                group["par"][threshold] = group["par"].get(threshold, ZERO) + _money(outstanding)
    return figures


def _written_off(scope: _Scope) -> dict:
    """Per group: the loans written off in the twelve months to the day."""
    since = Month.containing(scope.as_of).shift(-11).first_day
    return _written_off_between(scope, since, scope.as_of)


def written_off_between(
    first: date, last: date, *, by: str | None = None, branch_id: int | None = None
) -> dict:
    """Per group (``by`` "branch", "officer" or None for one group 0): the loans written
    off from ``first`` to ``last`` and the principal each still owed on its day, as
    ``{"written_off_loans": n, "written_off": amount}``."""
    return _written_off_between(_Scope(last, by, branch_id, None), first, last)


def _written_off_between(scope: _Scope, first: date, last: date) -> dict:
    loans = (
        sa.select(scope.key, (Loan.approved_amount - _repaid_by(Loan.written_off_on)).label("owed"))
        .where(
            *scope.filters,
            Loan.written_off_on >= first,
            Loan.written_off_on <= last,
            _scheduled(),
        )
        .subquery()
    )
    rows = db.session.execute(
        sa.select(loans.c.key, sa.func.count(), sa.func.sum(loans.c.owed)).group_by(loans.c.key)
    )
    return {key: {"written_off_loans": n, "written_off": _money(total)} for key, n, total in rows}


def _collection(scope: _Scope) -> dict:
    """Per group: what fell due from the first of the day's month to the day (on loans
    still owing it then), and how much of it was settled by the day."""
    day = scope.as_of
    amount = LoanInstalment.principal + LoanInstalment.interest
    settled = sa.and_(LoanInstalment.settled_on.is_not(None), LoanInstalment.settled_on <= day)
    instalments = (
        sa.select(
            scope.key,
            amount.label("amount"),
            sa.case((settled, amount), else_=0).label("paid"),
        )
        .join(Loan, Loan.id == LoanInstalment.loan_id)
        .where(
            *scope.filters,
            LoanInstalment.due_on >= Month.containing(day).first_day,
            LoanInstalment.due_on <= day,
            # A loan paid off or written off before an instalment's day owes it no more.
            sa.or_(Loan.closed_on.is_(None), Loan.closed_on >= LoanInstalment.due_on),
            sa.or_(Loan.written_off_on.is_(None), Loan.written_off_on >= LoanInstalment.due_on),
        )
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            instalments.c.key, sa.func.sum(instalments.c.amount), sa.func.sum(instalments.c.paid)
        ).group_by(instalments.c.key)
    )
    return {key: {"due": _money(due), "collected": _money(paid)} for key, due, paid in rows}


def _compute(
    as_of: date, by: str | None, branch_id=None, officer_id=None, late: list | None = None
) -> dict:
    scope = _Scope(as_of, by, branch_id, officer_id)
    parts: dict = defaultdict(dict)
    for figures in (_portfolio(scope), _written_off(scope), _collection(scope)):
        for key, values in figures.items():
            parts[key].update(values)
    if late is None:
        at_risk = _at_risk(scope)
    else:
        # The rows of late_loans() for the same day and branch, already read for the page.
        at_risk = _at_risk_of(((r.officer_id, r.oldest, r.outstanding) for r in late), as_of)
    for key, values in at_risk.items():
        par = values["par"]
        parts[key].update(
            late_loans=values["late_loans"],
            par1=par.get(1, ZERO),
            par30=par.get(30, ZERO),
            par90=par.get(90, ZERO),
        )
    return {key: Quality(as_of, **values) for key, values in parts.items() if key is not None}


def quality(as_of: date, *, branch_id: int | None = None, officer_id: int | None = None) -> Quality:
    """The portfolio on ``as_of`` of the company, a branch or an officer."""
    return _compute(as_of, None, branch_id, officer_id).get(0, Quality(as_of))


def total(groups: Iterable[Quality], as_of: date) -> Quality:
    """The sum of groups that share out one portfolio (a branch's officers, the company's
    branches): what :func:`quality` gives for the whole, without computing it again."""
    sums = dict.fromkeys(
        ("outstanding", "par1", "par30", "par90", "written_off", "due", "collected"), ZERO
    )
    counts = {"loans": 0, "written_off_loans": 0, "unscheduled": 0}
    late = dict.fromkeys(BUCKETS, 0)
    for group in groups:
        for name in sums:
            sums[name] += getattr(group, name)
        for name in counts:
            counts[name] += getattr(group, name)
        for threshold in BUCKETS:
            late[threshold] += group.late_loans.get(threshold, 0)
    return Quality(as_of, **sums, **counts, late_loans=late)


def quality_by_officer(as_of: date, branch_id: int, late: list | None = None) -> dict[int, Quality]:
    """A branch's portfolio on ``as_of``, one entry per officer looking after it then.

    ``late``: the rows of ``late_loans(as_of, branch_id)`` when the caller has read them
    already (the portfolio page lists them): its PAR comes from them, not read again.
    """
    return _compute(as_of, "officer", branch_id, late=late)


def quality_by_branch(as_of: date) -> dict[int, Quality]:
    """The company's portfolio on ``as_of``, one entry per branch."""
    return _compute(as_of, "branch")


def month_ends(last: Month, count: int, today: date) -> Iterable[date]:
    """The last day of each of the ``count`` months up to ``last`` (today for a month
    not over yet), oldest first."""
    for back in range(count - 1, -1, -1):
        yield min(last.shift(-back).last_day, today)
