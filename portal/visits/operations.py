"""Writes of the visits feature: sign a visit, amend it, acknowledge a red warning.

They flush and audit; the view's transaction (portal/core/actions.py) commits. A signed visit is never updated: a
correction is a new signed row pointing to the original.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.visits import signing
from portal.visits.compliance import visit_time_problem
from portal.visits.models import (
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    RevenueTrend,
    ServiceNeed,
    Visit,
    VisitSignature,
    VisitWarning,
)
from portal.visits.risk import RiskLevel, RiskSignal, assess, signals_from_answers

# Sent inside the transaction after a visit is signed (amendments too), with
# ``visit=``; the services feature turns the ticked needs into requests.
visit_signals = Namespace()
visit_signed = visit_signals.signal("visit-signed")

TIME_PROBLEMS = {
    "future": _l("The visit time is in the future."),
    "too_old": _l("A visit can be recorded at most 7 days after it took place."),
    "other_month": _l(
        "An amendment keeps the month of the original visit; only the day and time may change."
    ),
}


class VisitRefusedError(Refused):
    """The visits feature's "no": a translatable ``message``, maybe about one ``field``."""


@dataclass(frozen=True)
class VisitAnswers:
    """What the officer and the borrower filled in on the form."""

    visited_at: datetime
    place: str
    business_state: BusinessState
    revenue_trend: RevenueTrend
    funds_use: FundsUse
    repayment_status: RepaymentState
    guarantor_status: GuarantorStatus
    collateral_status: CollateralStatus
    officer_observations: str
    satisfaction: int
    risk_signals: frozenset[RiskSignal] = frozenset()
    services_needed: frozenset[ServiceNeed] = frozenset()
    services_other: str = ""
    household_changes: str = ""
    borrower_opinions: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: int | None = None


def active_loan(borrower: Borrower) -> Loan | None:
    """The borrower's active loan, which a new visit follows up."""
    return db.session.scalar(
        sa.select(Loan)
        .where(Loan.borrower_id == borrower.id, Loan.status == LoanStatus.ACTIVE)
        .order_by(Loan.disbursed_on.desc(), Loan.id.desc())
        .limit(1)
    )


def visit_by_token(token: str | None) -> Visit | None:
    """The visit already saved from the form carrying ``token``, if any."""
    if not token:
        return None
    return db.session.scalar(sa.select(Visit).where(Visit.idempotency_token == token))


def check_visit_time(
    visited_at: datetime, original: Visit | None = None, now: datetime | None = None
) -> None:
    """Refuse a visit time in the future, too old, or (amendments) in another month."""
    problem = visit_time_problem(visited_at, now or utcnow(), original)
    if problem:
        raise VisitRefusedError(TIME_PROBLEMS[problem], field="visited_at")


def _assessed(answers: VisitAnswers):
    implied = signals_from_answers(
        answers.business_state,
        answers.repayment_status,
        answers.funds_use,
        answers.guarantor_status,
    )
    return assess(answers.risk_signals | implied)


def _service_codes(needs) -> list[str]:
    return [need.value for need in ServiceNeed if need in needs]


def sign_visit(
    borrower: Borrower,
    loan: Loan,
    officer: User,
    answers: VisitAnswers,
    signature_png: bytes,
    token: str,
    amends: Visit | None = None,
    recorded_at: datetime | None = None,
) -> Visit:
    """Store one signed visit with its risk assessment, hash and, when red, a warning.

    ``recorded_at`` (default: now) is when the borrower signed; demo data sets it.
    """
    signed_at = (recorded_at or utcnow()).replace(microsecond=0)
    check_visit_time(answers.visited_at, amends, now=signed_at)
    assessment = _assessed(answers)
    visit = Visit(
        borrower_id=borrower.id,
        loan_id=loan.id,
        officer_id=officer.id,
        branch_id=borrower.branch_id,
        amends_id=amends.root_id if amends else None,
        idempotency_token=token,
        # Whole seconds: the hash must read the same back from every database.
        visited_at=answers.visited_at.replace(second=0, microsecond=0),
        signed_at=signed_at,
        place=answers.place,
        latitude=answers.latitude,
        longitude=answers.longitude,
        accuracy_m=answers.accuracy_m,
        business_state=answers.business_state,
        revenue_trend=answers.revenue_trend,
        funds_use=answers.funds_use,
        repayment_status=answers.repayment_status,
        guarantor_status=answers.guarantor_status,
        collateral_status=answers.collateral_status,
        household_changes=answers.household_changes,
        risk_signals=[signal.value for signal in assessment.signals],
        officer_observations=answers.officer_observations,
        borrower_opinions=answers.borrower_opinions,
        services_needed=_service_codes(answers.services_needed),
        services_other=answers.services_other,
        satisfaction=answers.satisfaction,
        risk_level=assessment.level,
        risk_reason=assessment.reason,
    )
    visit.content_hash = signing.content_hash(visit, signature_png)
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitSignature(visit_id=visit.id, png=signature_png))
    if visit.risk_level == RiskLevel.RED:
        db.session.add(
            VisitWarning(visit_id=visit.id, branch_id=visit.branch_id, raised_at=signed_at)
        )
    action = "visit.amend" if amends else "visit.sign"
    record(action, visit, f"borrower={borrower.id} {visit.risk_reason} hash={visit.content_hash}")
    visit_signed.send(visit)
    return visit


def amend_visit(
    original: Visit, officer: User, answers: VisitAnswers, signature_png: bytes, token: str
) -> Visit:
    """A new signed visit correcting ``original``; the original stays as it was."""
    return sign_visit(
        original.borrower, original.loan, officer, answers, signature_png, token, amends=original
    )


def verify(visit: Visit) -> bool:
    """Recompute the content hash from the stored record and signature."""
    png = db.session.get(VisitSignature, visit.id)
    return png is not None and signing.content_hash(visit, png.png) == visit.content_hash


def acknowledge_warning(warning: VisitWarning, user: User, action_taken: str) -> None:
    """The branch head records what was done about a red visit; the warning leaves the queue."""
    if not warning.is_open:
        raise VisitRefusedError(_l("This warning was already acknowledged."))
    warning.acknowledged_at = utcnow()
    warning.acknowledged_by_id = user.id
    warning.action_taken = action_taken
    record("visit.warning_acknowledge", warning, f"visit={warning.visit_id}: {action_taken}")
