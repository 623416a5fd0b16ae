"""Builders for service requests, sessions and complaints, through the app's operations."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.complaints import operations as complaint_ops
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintSeverity
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan
from portal.services import operations
from portal.services.models import ServiceKind, ServiceRequest, ServiceStatus
from portal.visits.models import (
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    RevenueTrend,
    Visit,
)
from portal.visits.operations import VisitAnswers, sign_visit

FAR_FUTURE = date(2099, 6, 1)


def make_request(
    borrower_id: int,
    kind: str = "technique_training",
    status: ServiceStatus = ServiceStatus.SUBMITTED,
    assignee_id: int | None = None,
    submitted_at: datetime | None = None,
    description: str = "想学母猪产后护理",
    planned_on: date | None = None,
) -> ServiceRequest:
    """A request brought to ``status`` by the same steps the pages use."""
    operations.ensure_catalogue()
    borrower = db.session.get(Borrower, borrower_id)
    request = operations.submit_request(
        borrower, db.session.get(ServiceKind, kind), description, "上午", now=submitted_at
    )
    db.session.flush()
    if status == ServiceStatus.SUBMITTED:
        return request
    if status == ServiceStatus.DECLINED:
        operations.decline(request, "本月名额已满，请下月再申请", None)
        return request
    assignee = db.session.get(User, assignee_id or borrower.officer_id)
    # Nothing is completed before its planned day: a finished request was planned for today.
    if planned_on is None:
        finished = status in (ServiceStatus.COMPLETED, ServiceStatus.RATED)
        planned_on = local_today() if finished else FAR_FUTURE
    operations.assign(request, assignee, planned_on, None)
    if status in (ServiceStatus.COMPLETED, ServiceStatus.RATED):
        operations.complete(request, "已上门讲解并发放资料", None)
    if status == ServiceStatus.RATED:
        operations.rate(request, 4, "很有帮助", None)
    db.session.flush()
    return request


def make_session(
    branch_id: int, organizer_id: int, kind: str = "technique_training", held_on: date = FAR_FUTURE
):
    """A planned group session of ``branch_id``."""
    operations.ensure_catalogue()
    session = operations.create_session(
        branch_id=branch_id,
        kind=db.session.get(ServiceKind, kind),
        title="生猪养殖技术培训班",
        held_on=held_on,
        place="众兴镇农技站",
        trainer="王技术员",
        organizer=db.session.get(User, organizer_id),
        actor=None,
    )
    db.session.flush()
    return session


def make_complaint(
    borrower_id: int,
    severity: ComplaintSeverity = ComplaintSeverity.GENERAL,
    category: ComplaintCategory = ComplaintCategory.PROCESS,
    filed_at: datetime | None = None,
) -> Complaint:
    """A complaint filed by the borrower."""
    complaint = complaint_ops.file_complaint(
        db.session.get(Borrower, borrower_id),
        category=category,
        severity=severity,
        subject="放款手续太慢",
        description="提交材料后两周还没有消息，也没人告诉我进度。",
        actor=None,
        now=filed_at,
    )
    db.session.flush()
    return complaint


def sign_visit_of(
    world, needs, amends: Visit | None = None, satisfaction: int = 4, other: str = "", **kw
):
    """Sign a visit of the World's own borrower (inside an app context)."""
    answers = VisitAnswers(
        visited_at=kw.get("visited_at", utcnow() - timedelta(hours=1)),
        place="猪场",
        business_state=BusinessState.NORMAL,
        revenue_trend=RevenueTrend.STABLE,
        funds_use=FundsUse.AS_CONTRACTED,
        repayment_status=RepaymentState.ON_TIME,
        guarantor_status=GuarantorStatus.NORMAL,
        collateral_status=CollateralStatus.INTACT,
        officer_observations="存栏正常，饲料充足",
        satisfaction=satisfaction,
        services_needed=frozenset(needs),
        services_other=other,
    )
    borrower = db.session.get(Borrower, kw.get("borrower_id", world.own_borrower.id))
    loan = db.session.get(Loan, kw.get("loan_id", world.own_loan.id))
    token = f"t-{db.session.scalar(sa.select(sa.func.count(Visit.id)))}-{borrower.id}"
    visit = sign_visit(
        borrower, loan, borrower.officer, answers, b"\x89PNG-test-signature", token, amends=amends
    )
    db.session.flush()
    return visit
