"""Gathering the facts the tier rules need, a fixed number of queries for any number of borrowers.

The visit risk history is pluggable: ``risk_history`` asks ``portal.visits.models.Visit``
when that model offers ``borrower_id``, ``risk_level`` and a visit time; without it the
rules judge by the loans alone and say so.
"""

import importlib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, RepaymentStatus
from portal.tiers.rules import RiskHistory, TierFacts

LENT_STATUSES = (LoanStatus.CONTRACTED, LoanStatus.ACTIVE, LoanStatus.CLOSED)
VISIT_TIME_COLUMNS = ("visited_at", "visit_time", "signed_at", "created_at")
RISK_WINDOW = timedelta(days=365)

NO_RISK = RiskHistory()

RiskProvider = Callable[[list[int] | sa.Select, datetime], dict[int, RiskHistory] | None]


def _flag(condition) -> sa.ColumnElement:
    return sa.func.max(sa.case((condition, 1), else_=0))


def loan_rows(borrowers: list[int] | sa.Select) -> dict[int, tuple]:
    """Per borrower, plain values: total lent, loans, first payout, overdue and write-off
    marks, tier in force (what ``facts_of`` turns into TierFacts)."""
    lent = Loan.status.in_(LENT_STATUSES)
    stmt = (
        sa.select(
            Loan.borrower_id,
            sa.func.sum(sa.case((lent, Loan.approved_amount), else_=0)),
            sa.func.sum(sa.case((lent, 1), else_=0)),
            sa.func.min(Loan.disbursed_on),
            _flag(
                sa.and_(
                    Loan.status == LoanStatus.ACTIVE,
                    Loan.repayment_status == RepaymentStatus.OVERDUE,
                )
            ),
            sa.func.max(Loan.overdue_days),
            _flag(Loan.written_off),
            Borrower.tier,
        )
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(Loan.borrower_id.in_(borrowers))
        .group_by(Loan.borrower_id, Borrower.tier)
    )
    # A branch review reads 5,000 of these: Core rows, none of the ORM's per-row work.
    return {row[0]: tuple(row[1:]) for row in db.session.connection().execute(stmt)}


def facts_of(loans: tuple | None, risk: RiskHistory | None) -> TierFacts:
    """TierFacts from a ``loan_rows`` value (None: no loans) and the risk history."""
    if loans is None:
        return TierFacts(risk=risk)
    lent, count, first, overdue, overdue_days, written_off, tier = loans
    return TierFacts(
        lent_total=Decimal(lent or 0),
        loans=int(count or 0),
        first_disbursed=first,
        overdue_now=bool(overdue),
        max_overdue_days=int(overdue_days or 0),
        written_off=bool(written_off),
        risk=risk,
        tier=tier,
    )


def _visit_model():
    """The Visit model if it has what the risk history needs, else None."""
    visit = getattr(importlib.import_module("portal.visits.models"), "Visit", None)
    if visit is None or not all(hasattr(visit, name) for name in ("borrower_id", "risk_level")):
        return None
    time_column = next((name for name in VISIT_TIME_COLUMNS if hasattr(visit, name)), None)
    return (visit, getattr(visit, time_column)) if time_column else None


def visit_risk_history(
    borrowers: list[int] | sa.Select, since: datetime
) -> dict[int, RiskHistory] | None:
    """Orange and red visits per borrower (ids, or a select of ids) since ``since``.

    None when there is no visit data to ask.
    """
    found = _visit_model()
    if found is None:
        return None
    visit, visited_at = found
    level = sa.cast(visit.risk_level, sa.String)
    stmt = (
        sa.select(
            visit.borrower_id,
            sa.func.sum(sa.case((level == "orange", 1), else_=0)),
            sa.func.sum(sa.case((level == "red", 1), else_=0)),
        )
        .where(
            visit.borrower_id.in_(borrowers),
            visited_at >= since,
            # Only these count; the newest-version check then runs for a few visits.
            level.in_(("orange", "red")),
        )
        .group_by(visit.borrower_id)
    )
    latest_version = getattr(importlib.import_module(visit.__module__), "latest_version", None)
    if latest_version is not None:
        # An amended visit counts once, as its latest version (not the original and
        # every correction): the visits feature's rule, served by its amendments index.
        stmt = stmt.where(latest_version(visit))
    rows = db.session.execute(stmt)
    return {row[0]: RiskHistory(int(row[1] or 0), int(row[2] or 0)) for row in rows}


# Swap this to take risk history from elsewhere (tests use it to stand in for visits).
risk_history: RiskProvider = visit_risk_history


def gather_plain(
    borrower_ids: list[int], today: date, among: sa.Select | None = None
) -> dict[int, tuple[tuple | None, RiskHistory | None]]:
    """(loan row or None, risk history or None) for every id: what ``facts_of`` takes.

    ``among``, a select of ids covering ``borrower_ids`` (a whole branch), replaces a
    long IN list in the queries.
    """
    borrowers = borrower_ids if among is None else among
    loans = loan_rows(borrowers)
    since = datetime.combine(today - RISK_WINDOW, time.min, tzinfo=UTC)
    risks = risk_history(borrowers, since)
    return {
        borrower_id: (
            loans.get(borrower_id),
            None if risks is None else risks.get(borrower_id, NO_RISK),
        )
        for borrower_id in borrower_ids
    }


def gather(
    borrower_ids: list[int], today: date, among: sa.Select | None = None
) -> dict[int, TierFacts]:
    """TierFacts for every id, borrowers without loans included."""
    return {
        borrower_id: facts_of(*plain)
        for borrower_id, plain in gather_plain(borrower_ids, today, among).items()
    }
