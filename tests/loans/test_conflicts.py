"""A loan step that loses a race on the same loan answers the one 409 page, like every write.

The competing step runs for real on PostgreSQL (see tests/core/test_conflicts.py).
"""

import pytest

from portal.accounts.models import User
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanStatus, RepaymentStatus
from tests.core.test_conflicts import CONFLICT, meanwhile
from tests.loans.helpers import audit_actions, events, get_loan, new_loan


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: no two requests write at once")


def test_a_repayment_saved_while_the_head_writes_the_loan_off(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("officer")
    token = client.csrf_token(f"/loans/{loan_id}/repayment")

    def head_writes_the_loan_off():
        lifecycle.write_off(
            db.session.get(Loan, loan_id), db.session.get(User, world.head.id), reason="灾害"
        )

    with meanwhile(app, head_writes_the_loan_off):
        response = client.post(
            f"/loans/{loan_id}/repayment",
            data={
                "repayment_status": "overdue",
                "overdue_days": "30",
                "outstanding_balance": "40000.00",
                "note": "",
                "csrf_token": token,
            },
        )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert CONFLICT in page
    assert "这笔贷款刚被其他人修改过" not in page  # no conflict text of its own
    stored = get_loan(app, loan_id)
    assert stored.written_off
    assert (stored.repayment_status, stored.overdue_days) == (RepaymentStatus.ON_TIME, 0)
    assert [action for action, *_ in events(app, loan_id)] == ["write_off"]
    assert audit_actions(app, loan_id) == ["loan.write_off"]


def test_a_confirmation_made_while_an_admin_returns_the_disbursement(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.DISBURSING)
    client.login("head")
    token = client.csrf_token(f"/loans/{loan_id}/confirm-disbursement")
    version = str(get_loan(app, loan_id).version)

    def admin_returns_it():
        loan = db.session.get(Loan, loan_id)
        lifecycle.return_disbursement(
            loan, db.session.get(User, world.admin.id), reason="回单不符", seen_version=loan.version
        )

    with meanwhile(app, admin_returns_it):
        response = client.post(
            f"/loans/{loan_id}/confirm-disbursement",
            data={"version": version, "csrf_token": token},
        )
    assert response.status_code == 409
    assert CONFLICT in response.get_data(as_text=True)
    stored = get_loan(app, loan_id)
    assert (stored.status, stored.disbursement_confirmed_by_id) == (LoanStatus.CONTRACTED, None)
    assert [action for action, *_ in events(app, loan_id)] == ["return"]
    assert audit_actions(app, loan_id) == ["loan.return"]
    with app.app_context():
        assert not db.session.get(Loan, loan_id).instalments
