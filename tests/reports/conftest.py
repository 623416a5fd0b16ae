"""A branch month with something in every section of the reports."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.complaints.models import ComplaintSeverity
from portal.core.calendar import month_of
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.services.models import ServiceStatus
from portal.services.operations import ensure_catalogue
from portal.visits.models import VisitWarning
from portal.visits.operations import acknowledge_warning
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan
from tests.services.records import make_complaint, make_request
from tests.training.helpers import first_version, make_signoff
from tests.visits.helpers import make_visit

HOSTILE_NAME = '<b>王</b><img src="file:///etc/passwd">'
HOSTILE_ANSWER = "<style>*{display:none}</style>猪舍<script>alert(1)</script>"
ACTION_TAKEN = "已电话联系担保人，下周复访"
RED = {"risk_signals": frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})}


@dataclass(frozen=True)
class Month:
    """Ids of one month's records of the World's branch."""

    month: str
    red_visit: int
    amendment: int
    missed_borrower: str
    hostile_borrower: int
    hostile_visit: int
    foreign_visit: int
    signoff: int
    failed_signoff: int


@pytest.fixture
def records(app, world) -> Month:
    """Visits (a red one handled, its amendment), services, a complaint, sign-offs."""
    with app.app_context():
        ensure_catalogue()
        officer = db.session.get(User, world.officer.id)
        head = db.session.get(User, world.head.id)
        own = db.session.get(Borrower, world.own_borrower.id)
        when = utcnow() - timedelta(hours=5)
        red = make_visit(own, officer, when, **RED)
        acknowledge_warning(
            db.session.scalars(sa.select(VisitWarning).filter_by(visit_id=red.id)).one(),
            head,
            ACTION_TAKEN,
        )
        amendment = make_visit(
            own,
            officer,
            when + timedelta(minutes=30),
            amends=red,
            officer_observations="复查：已恢复营业。",
            satisfaction=3,
            **RED,
        )
        missed = make_borrower(officer)
        make_loan(missed, LoanStatus.ACTIVE)
        hostile = make_borrower(officer, full_name=HOSTILE_NAME)
        make_loan(hostile, LoanStatus.ACTIVE)
        hostile_visit = make_visit(hostile, officer, when, officer_observations=HOSTILE_ANSWER)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        foreign_visit = make_visit(foreign, db.session.get(User, world.other_officer.id), when)
        make_request(own.id, status=ServiceStatus.RATED)
        make_request(own.id, kind="legal_services")
        make_complaint(own.id, ComplaintSeverity.SERIOUS)
        material = first_version()
        signoff = make_signoff(own, material)
        failed = make_signoff(own, material, passed=False)
        db.session.commit()
        return Month(
            month=str(month_of(when)),
            red_visit=red.id,
            amendment=amendment.id,
            missed_borrower=missed.full_name,
            hostile_borrower=hostile.id,
            hostile_visit=hostile_visit.id,
            foreign_visit=foreign_visit.id,
            signoff=signoff.id,
            failed_signoff=failed.id,
        )
