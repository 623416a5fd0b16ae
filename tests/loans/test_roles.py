"""Who may take which step: by role, by branch, and not by tampering with URLs or forms."""

import pytest

from portal.accounts.models import Role
from portal.branches.models import Branch
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import make_user
from tests.loans.helpers import counts, get_loan, iso, new_loan, snapshot
from tests.training.helpers import correct_answers, first_version, new_version, png_data_url


@pytest.fixture(autouse=True)
def _material(app, world):
    with app.app_context():
        first_version()
        db.session.commit()


def test_an_officer_cannot_record_a_committee_decision(app, client, world):
    loan_id = new_loan(app, world)
    client.login("officer")
    before = snapshot(app, loan_id)
    assert client.get(f"/loans/{loan_id}/decision").status_code == 403
    response = client.submit(
        f"/loans/{loan_id}/decision",
        {"outcome": "approve", "decision_date": iso(app), "approved_amount": "50000"},
        page=f"/loans/{loan_id}",
    )
    assert response.status_code == 403
    assert snapshot(app, loan_id) == before


def test_an_officer_cannot_write_a_loan_off(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("officer")
    before = snapshot(app, loan_id)
    response = client.submit(
        f"/loans/{loan_id}/write-off", {"reason": "失联"}, page=f"/loans/{loan_id}"
    )
    assert response.status_code == 403
    assert snapshot(app, loan_id) == before


STEPS_ON_FOREIGN_LOANS = [
    ("decision", LoanStatus.APPLIED, {"outcome": "reject", "note": "x"}),
    ("training", LoanStatus.APPROVED, {}),
    ("contract", LoanStatus.TRAINED, {"contract_number": "JK-X-9"}),
    ("disburse", LoanStatus.CONTRACTED, {}),
    ("confirm-disbursement", LoanStatus.DISBURSING, {"version": "1"}),
    ("return-disbursement", LoanStatus.DISBURSING, {"version": "1", "reason": "x"}),
    ("repayment", LoanStatus.ACTIVE, {"repayment_status": "on_time", "overdue_days": "0"}),
    ("write-off", LoanStatus.ACTIVE, {"reason": "x"}),
    ("close", LoanStatus.ACTIVE, {}),
]


@pytest.mark.parametrize("username", ["otherofficer", "otherhead"])
@pytest.mark.parametrize(("url", "status", "data"), STEPS_ON_FOREIGN_LOANS)
def test_staff_of_another_branch_cannot_act_by_url(app, client, world, username, url, status, data):
    loan_id = new_loan(app, world, status, outstanding_balance=0)
    client.login(username)
    before = snapshot(app, loan_id)
    assert client.get(f"/loans/{loan_id}/{url}").status_code == 403
    dates = {"decision_date", "contract_signed_on", "disbursed_on", "closed_on"}
    filled = {**data, **dict.fromkeys(dates, iso(app)), "outstanding_balance": "0"}
    response = client.submit(f"/loans/{loan_id}/{url}", filled, page="/account")
    assert response.status_code == 403
    assert snapshot(app, loan_id) == before


def test_another_officer_of_the_same_branch_cannot_act(app, client, world):
    with app.app_context():
        make_user("colleague", Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("colleague")
    assert client.get(f"/loans/{loan_id}").status_code == 403
    assert client.get(f"/loans/{loan_id}/repayment").status_code == 403
    assert client.get(f"/borrowers/{world.own_borrower.id}/loans/new").status_code == 403


def test_an_application_for_another_branchs_borrower_is_refused(app, client, world):
    client.login("officer")
    before = counts(app)
    response = client.submit(
        f"/borrowers/{world.foreign_borrower.id}/loans/new",
        {"amount": "1000", "term_months": "6", "annual_rate_percent": "8", "purpose": "进货周转"},
        page=f"/borrowers/{world.own_borrower.id}/loans/new",
    )
    assert response.status_code == 403
    assert counts(app) == before


def test_a_signoff_naming_an_unpublished_version_is_refused(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    with app.app_context():
        draft = new_version(published=False)
        db.session.commit()
        data = {"material_id": str(draft.id), "signature": png_data_url(), **correct_answers(draft)}
    client.login("officer")
    before = snapshot(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/training", data)
    assert response.status_code == 200
    assert "培训材料已发布新版本" in response.get_data(as_text=True)
    assert snapshot(app, loan_id) == before


def test_the_borrower_reads_their_own_loan_without_any_action(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.APPLIED)
    client.login("borrower")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/decision" not in page
    assert "/training" not in page
    foreign = new_loan(app, world, LoanStatus.APPLIED, foreign=True)
    assert client.get(f"/loans/{foreign}").status_code == 403
    assert client.get("/loans/").status_code == 403
    assert client.get(f"/loans/{loan_id}/contract").status_code == 403


def test_the_borrowers_own_page_lists_their_loans_read_only(app, client, world):
    new_loan(app, world, LoanStatus.APPLIED)
    client.login("borrower")
    page = client.get("/me").get_data(as_text=True)
    assert f"/loans/{world.own_loan.id}" in page
    assert "/loans/new" not in page


def test_the_borrower_page_lists_loans_and_offers_an_application_to_staff(app, client, world):
    client.login("officer")
    page = client.get(f"/borrowers/{world.own_borrower.id}").get_data(as_text=True)
    assert f"/loans/{world.own_loan.id}" in page
    assert f"/borrowers/{world.own_borrower.id}/loans/new" in page


def test_a_head_decides_for_the_own_branch(app, client, world):
    loan_id = new_loan(app, world)
    client.login("head")
    response = client.submit(
        f"/loans/{loan_id}/decision",
        {
            "outcome": "approve",
            "decision_date": iso(app),
            "approved_amount": "50000",
            "approved_term_months": "12",
        },
    )
    assert response.status_code == 302
    assert get_loan(app, loan_id).decided_by_id == world.head.id
