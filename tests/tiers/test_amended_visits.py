"""Tier suggestions count an amended visit once, as its latest version."""

from datetime import UTC, datetime

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.extensions import db
from portal.visits.risk import RiskSignal
from tests.care.helpers import add_borrower
from tests.tiers.test_tiers import BIG, give_loan
from tests.visits.helpers import make_visit

RED = frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})


def test_a_red_visit_corrected_to_green_by_a_second_amendment_no_longer_caps(app, client, world):
    borrower_id = add_borrower(app, world)
    give_loan(app, borrower_id, **BIG)
    with app.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        officer = db.session.get(User, world.officer.id)
        when = datetime.combine(local_today(), datetime.min.time(), tzinfo=UTC)
        original = make_visit(borrower, officer, when, risk_signals=RED)
        # Both amendments point to the original; the second one is what stands.
        make_visit(borrower, officer, when, amends=original, risk_signals=RED)
        make_visit(borrower, officer, when, amends=original)
        db.session.commit()
    client.login("head")
    page = client.get(f"/tiers/borrowers/{borrower_id}").get_data(as_text=True)
    assert "近 12 个月回访有红色预警" not in page
    assert "无回访风险数据" not in page
    assert 'data-tier="strategic"' in page
