"""Gathering the facts the tier rules need, a fixed number of queries for any number of borrowers."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.core.calendar import company_tz
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, RepaymentStatus
from portal.tiers.rules import RiskHistory, TierFacts
from portal.visits.models import Visit, latest_version
from portal.visits.risk import RiskLevel

LENT_STATUSES = (
    LoanStatus.CONTRACTED,
    LoanStatus.DISBURSING,
    LoanStatus.ACTIVE,
    LoanStatus.CLOSED,
)
RISK_WINDOW = timedelta(days=365)

NO_RISK = RiskHistory()

Borrowers = list[int] | sa.Select


def _flag(condition) -> sa.ColumnElement:
    return sa.func.max(sa.case((condition, 1), else_=0))


def loan_rows(borrowers: Borrowers) -> dict[int, tuple]:
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
    # A branch reads 5,000 of these: Core rows, none of the ORM's per-row work.
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


def risk_window_start(today: date) -> datetime:
    """The oldest visit time that still counts on ``today`` (a company day)."""
    return datetime.combine(today - RISK_WINDOW, time.min, tzinfo=company_tz())


def _lapses_on(oldest: datetime | None) -> date | None:
    """The first day on which the oldest counted visit no longer counts.

    Days are the company's: a visit just after midnight in the company's time zone is
    of that day, not of the day before in UTC (``today`` is a company day too)."""
    if oldest is None:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return oldest.astimezone(company_tz()).date() + RISK_WINDOW + timedelta(days=1)


def risk_history(borrowers: Borrowers, today: date) -> dict[int, RiskHistory]:
    """Orange and red visits per borrower (ids, or a select of ids) in the risk window.

    An amended visit counts once, as its latest version (not the original and every
    correction): the visits feature's rule, served by its amendments index.
    """
    orange = Visit.risk_level == RiskLevel.ORANGE
    stmt = (
        sa.select(
            Visit.borrower_id,
            sa.func.sum(sa.case((orange, 1), else_=0)),
            sa.func.sum(sa.case((Visit.risk_level == RiskLevel.RED, 1), else_=0)),
            sa.func.min(Visit.visited_at),
        )
        .where(
            Visit.borrower_id.in_(borrowers),
            Visit.visited_at >= risk_window_start(today),
            # Only these count; the newest-version check then runs for a few visits.
            Visit.risk_level.in_((RiskLevel.ORANGE, RiskLevel.RED)),
            latest_version(Visit),
        )
        .group_by(Visit.borrower_id)
    )
    return {
        row[0]: RiskHistory(int(row[1] or 0), int(row[2] or 0), lapses_on=_lapses_on(row[3]))
        for row in db.session.execute(stmt)
    }


def gather_plain(
    borrower_ids: list[int], today: date, among: sa.Select | None = None
) -> dict[int, tuple[tuple | None, RiskHistory]]:
    """(loan row or None, risk history) for every id: what ``facts_of`` takes.

    ``among``, a select of ids covering ``borrower_ids`` (a whole branch), replaces a
    long IN list in the queries.
    """
    borrowers = borrower_ids if among is None else among
    loans = loan_rows(borrowers)
    risks = risk_history(borrowers, today)
    return {
        borrower_id: (loans.get(borrower_id), risks.get(borrower_id, NO_RISK))
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
