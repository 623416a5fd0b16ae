"""Reads of the reports: a fixed number of queries per report, aggregated in SQL.

Which borrowers owe a visit and who answers for them is the visits feature's rule
(``portal.visits.compliance``); these queries only count what happened in a month.
"""

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.complaints.models import Complaint
from portal.core.calendar import Month, company_tz
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.services.models import OPEN_STATUSES, ServiceKind, ServiceRequest, ServiceStatus
from portal.training.models import TrainingSignoff
from portal.visits.models import Visit, VisitPhoto, VisitSignature, VisitWarning
from portal.visits.models import latest_version as visits_latest_version


def branch_by_code(code: str) -> Branch | None:
    """The branch with this code, or None."""
    return db.session.scalar(sa.select(Branch).where(Branch.code == code))


def _in_month(column, month: Month):
    start, end = month.bounds(company_tz())
    return sa.and_(column >= start, column < end)


def _on_days_of(column, month: Month):
    return sa.and_(column >= month.first_day, column <= month.last_day)


def count_if(condition):
    """SUM of 1 for each row where ``condition`` holds (0 for none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def latest_version():
    """The visit is the newest version of its original (an amendment replaces what it amends).

    The same rule as the satisfaction figures of docs/services.md and the tier
    suggestions: ``portal.visits.models.latest_version``.
    """
    return visits_latest_version(Visit)


# --- visit reports ----------------------------------------------------------------


def visits_for_reports(visit_ids: Iterable[int]) -> tuple[list[Visit], dict[int, bytes]]:
    """Visits with borrower, officer, loan, branch, original and photos, and their signatures.

    Five queries whatever the number of visits. The caller keeps the signature rows
    referenced while it builds the reports, so ``operations.verify`` finds them in the
    session (which holds rows only weakly) instead of asking once per visit.
    """
    ids = list(visit_ids)
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.id.in_(ids))
        .options(
            joinedload(Visit.borrower),
            joinedload(Visit.officer),
            joinedload(Visit.loan),
            joinedload(Visit.branch),
            selectinload(Visit.amends),
            # The photos with both images: printed, and verified with the record.
            selectinload(Visit.photos).undefer(VisitPhoto.jpeg).undefer(VisitPhoto.thumb_jpeg),
            selectinload(Visit.erased_photos),  # kept of photos the retention run erased
        )
    ).all()
    signatures = db.session.scalars(
        sa.select(VisitSignature).where(VisitSignature.visit_id.in_(ids))
    ).all()
    order = {visit_id: index for index, visit_id in enumerate(ids)}
    return sorted(visits, key=lambda visit: order[visit.id]), signatures


def versions_of(root_ids: Iterable[int]) -> list:
    """Every version (original and amendments) of these originals, oldest first."""
    roots = list(root_ids)
    return db.session.execute(
        sa.select(
            Visit.id,
            sa.func.coalesce(Visit.amends_id, Visit.id).label("root_id"),
            Visit.visited_at,
            Visit.signed_at,
            Visit.risk_level,
            Visit.content_hash,
            User.display_name.label("officer_name"),
        )
        .join(User, User.id == Visit.officer_id)
        .where(sa.or_(Visit.id.in_(roots), Visit.amends_id.in_(roots)))
        .order_by(Visit.signed_at, Visit.id)
    ).all()


def month_visits(branch_id: int, month: Month) -> list:
    """(id, visited_at) of the branch's signed visits (amendments too) in ``month``, in time order."""
    return db.session.execute(
        sa.select(Visit.id, Visit.visited_at)
        .where(Visit.branch_id == branch_id, _in_month(Visit.visited_at, month))
        .order_by(Visit.visited_at, Visit.id)
    ).all()


def month_visit_count(branch_id: int, month: Month) -> int:
    """How many signed visits (amendments too) the branch has in ``month``."""
    return db.session.scalar(
        sa.select(sa.func.count(Visit.id)).where(
            Visit.branch_id == branch_id, _in_month(Visit.visited_at, month)
        )
    )


# --- the monthly branch report ----------------------------------------------------------


def risk_counts(branch_id: int, months: list[Month]) -> dict[str, dict[str, int]]:
    """Visits per risk level in each month (latest versions only), in one query."""
    parts = [
        sa.select(
            sa.literal(str(month)).label("month"),
            Visit.risk_level,
            sa.func.count(Visit.id).label("visits"),
        )
        .where(Visit.branch_id == branch_id, _in_month(Visit.visited_at, month), latest_version())
        .group_by(Visit.risk_level)
        for month in months
    ]
    counts: dict[str, dict[str, int]] = {str(month): {} for month in months}
    for row in db.session.execute(sa.union_all(*parts)):
        counts[row.month][str(row.risk_level)] = row.visits
    return counts


def month_warnings(branch_id: int, month: Month) -> list:
    """Red warnings of the month's visits with what was done about them, oldest first."""
    officer, acknowledger = aliased(User), aliased(User)
    return db.session.execute(
        sa.select(
            Visit.id.label("visit_id"),
            Visit.visited_at,
            Visit.risk_level,
            Visit.risk_signals,
            Borrower.full_name,
            Borrower.village,
            officer.display_name.label("officer_name"),
            VisitWarning.raised_at,
            VisitWarning.acknowledged_at,
            VisitWarning.action_taken,
            acknowledger.display_name.label("acknowledged_by"),
        )
        .join(Visit, Visit.id == VisitWarning.visit_id)
        .join(Borrower, Borrower.id == Visit.borrower_id)
        .join(officer, officer.id == Visit.officer_id)
        .outerjoin(acknowledger, acknowledger.id == VisitWarning.acknowledged_by_id)
        .where(VisitWarning.branch_id == branch_id, _in_month(Visit.visited_at, month))
        .order_by(Visit.visited_at, Visit.id)
    ).all()


def visit_satisfaction(branch_id: int, month: Month) -> list:
    """Satisfaction (1–5) answered on the month's visits per officer, latest versions only
    (a visit of a borrower without the consent to surveys has no answer and is left out)."""
    return db.session.execute(
        sa.select(
            User.display_name.label("name"),
            sa.func.count(Visit.id).label("visits"),
            sa.func.avg(Visit.satisfaction).label("average"),
        )
        .join(User, User.id == Visit.officer_id)
        .where(
            Visit.branch_id == branch_id,
            _in_month(Visit.visited_at, month),
            latest_version(),
            Visit.satisfaction.is_not(None),
        )
        .group_by(User.id, User.display_name)
        .order_by(User.display_name)
    ).all()


def service_figures(branch_id: int, month: Month, now: datetime) -> list:
    """Per kind of service: requests received, answered late, completed, declined, rated."""
    r = ServiceRequest
    received = _in_month(r.submitted_at, month)
    first_answer = sa.func.coalesce(r.accepted_at, r.declined_at)
    late = sa.and_(
        received,
        sa.or_(
            first_answer > r.respond_by,
            sa.and_(r.status == ServiceStatus.SUBMITTED, r.respond_by < now),
        ),
    )
    rated = sa.and_(r.status == ServiceStatus.RATED, _in_month(r.rated_at, month))
    return db.session.execute(
        sa.select(
            ServiceKind.name_zh,
            ServiceKind.name_en,
            count_if(received).label("received"),
            count_if(sa.and_(received, r.source_visit_id.is_not(None))).label("from_visits"),
            count_if(late).label("late"),
            count_if(_in_month(r.completed_at, month)).label("completed"),
            count_if(_in_month(r.declined_at, month)).label("declined"),
            count_if(sa.and_(received, r.status.in_(OPEN_STATUSES))).label("still_open"),
            count_if(rated).label("ratings"),
            sa.func.avg(sa.case((rated, r.rating))).label("average_rating"),
        )
        .join(r, r.kind_code == ServiceKind.code)
        .where(r.branch_id == branch_id)
        .group_by(ServiceKind.code, ServiceKind.name_zh, ServiceKind.name_en, ServiceKind.position)
        .order_by(ServiceKind.position, ServiceKind.code)
    ).all()


def month_complaints(branch_id: int, month: Month) -> list:
    """Complaints filed in the month, most severe first."""
    return db.session.execute(
        sa.select(
            Complaint.id,
            Complaint.filed_at,
            Complaint.category,
            Complaint.severity,
            Complaint.subject,
            Complaint.status,
            Complaint.respond_by,
            Complaint.resolved_at,
            Complaint.reopen_count,
            Borrower.full_name,
        )
        .join(Borrower, Borrower.id == Complaint.borrower_id)
        .where(Complaint.branch_id == branch_id, _in_month(Complaint.filed_at, month))
        .order_by(Complaint.filed_at, Complaint.id)
    ).all()


def complaints_resolved_in(branch_id: int, month: Month) -> int:
    """Complaints of the branch answered in ``month``."""
    return db.session.scalar(
        sa.select(sa.func.count(Complaint.id)).where(
            Complaint.branch_id == branch_id, _in_month(Complaint.resolved_at, month)
        )
    )


def new_borrowers(branch_id: int, month: Month) -> list:
    """Borrowers registered in the month, by officer then pinyin initials."""
    return db.session.execute(
        sa.select(
            Borrower.full_name,
            Borrower.village,
            User.display_name.label("officer_name"),
        )
        .join(User, User.id == Borrower.officer_id)
        .where(Borrower.branch_id == branch_id, _in_month(Borrower.created_at, month))
        .order_by(User.display_name, Borrower.name_initials, Borrower.id)
    ).all()


def loan_figures(branch_id: int, month: Month):
    """Applications, decisions, disbursements and closings of the month; loans active at its end."""
    applied = _on_days_of(Loan.applied_on, month)
    decided = _on_days_of(Loan.decision_date, month)
    approved = sa.and_(decided, Loan.approved_amount.is_not(None))
    disbursed = sa.and_(_confirmed_payout(), _on_days_of(Loan.disbursed_on, month))
    active_at_end = sa.and_(
        _confirmed_payout(),
        Loan.disbursed_on <= month.last_day,
        sa.or_(Loan.closed_on.is_(None), Loan.closed_on > month.last_day),
    )
    return db.session.execute(
        sa.select(
            count_if(applied).label("applied"),
            sa.func.sum(sa.case((applied, Loan.amount_requested))).label("applied_amount"),
            count_if(approved).label("approved"),
            sa.func.sum(sa.case((approved, Loan.approved_amount))).label("approved_amount"),
            count_if(sa.and_(decided, Loan.status == LoanStatus.REJECTED)).label("rejected"),
            count_if(disbursed).label("disbursed"),
            sa.func.sum(sa.case((disbursed, Loan.approved_amount))).label("disbursed_amount"),
            count_if(_on_days_of(Loan.closed_on, month)).label("closed"),
            count_if(active_at_end).label("active_at_end"),
        ).where(Loan.branch_id == branch_id)
    ).one()


def user_names(user_ids: Iterable[int]) -> dict[int, str]:
    """{user id: display name} of these users."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids)))
    return dict(rows.all())


def disbursed_loans(branch_id: int, month: Month) -> list:
    """The month's disbursed loans with their borrowers, by date."""
    return db.session.execute(
        sa.select(
            Loan.contract_number,
            Loan.disbursed_on,
            Loan.approved_amount,
            Borrower.full_name,
        )
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(
            Loan.branch_id == branch_id,
            _confirmed_payout(),
            _on_days_of(Loan.disbursed_on, month),
        )
        .order_by(Loan.disbursed_on, Loan.id)
    ).all()


def _confirmed_payout():
    """A recorded disbursement counts once a second person confirmed it (docs/lifecycle.md)."""
    return Loan.status != LoanStatus.DISBURSING


# --- certificates and dossiers ----------------------------------------------------------


def signoff_for_certificate(signoff_id: int) -> TrainingSignoff | None:
    """A sign-off with its borrower, branch, material and officer, in one query."""
    return db.session.scalar(
        sa.select(TrainingSignoff)
        .where(TrainingSignoff.id == signoff_id)
        .options(
            joinedload(TrainingSignoff.borrower).joinedload(Borrower.branch),
            joinedload(TrainingSignoff.material),
            joinedload(TrainingSignoff.officer),
        )
    )


def loans_trained_by(signoff_id: int) -> list[str]:
    """Contract numbers (or ids) of the loans this sign-off opened the contract gate for."""
    rows = db.session.execute(
        sa.select(Loan.id, Loan.contract_number).where(Loan.training_signoff_id == signoff_id)
    ).all()
    return [number or f"#{loan_id}" for loan_id, number in rows]


def borrower_for_dossier(borrower_id: int) -> Borrower | None:
    """A borrower with branch and officer, in one query."""
    return db.session.scalar(
        sa.select(Borrower)
        .where(Borrower.id == borrower_id)
        .options(joinedload(Borrower.branch), joinedload(Borrower.officer))
    )


def borrower_visit_timeline(borrower_id: int) -> list:
    """All of the borrower's visits, newest first, as plain rows."""
    return db.session.execute(
        sa.select(
            Visit.id,
            Visit.amends_id,
            Visit.visited_at,
            Visit.risk_level,
            Visit.risk_signals,
            Visit.satisfaction,
            User.display_name.label("officer_name"),
        )
        .join(User, User.id == Visit.officer_id)
        .where(Visit.borrower_id == borrower_id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    ).all()


def borrower_services(borrower_id: int) -> list:
    """The borrower's service requests, newest first, as plain rows."""
    return db.session.execute(
        sa.select(
            ServiceRequest.id,
            ServiceRequest.submitted_at,
            ServiceRequest.status,
            ServiceRequest.source,
            ServiceRequest.completed_at,
            ServiceRequest.rating,
            ServiceKind.name_zh,
            ServiceKind.name_en,
        )
        .join(ServiceKind, ServiceKind.code == ServiceRequest.kind_code)
        .where(ServiceRequest.borrower_id == borrower_id)
        .order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc())
    ).all()
