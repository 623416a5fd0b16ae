"""The gate: no contract without a passing sign-off of the current material version."""

import pytest

from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from tests.loans.helpers import english, get_loan, iso, new_loan, snapshot
from tests.training.helpers import (
    correct_answers,
    first_version,
    make_signoff,
    new_version,
    png_data_url,
)


def _contract(app) -> dict:
    return {"contract_number": "JK-2026-0100", "contract_signed_on": iso(app)}


def _with_signoff(app, loan_id: int, passed: bool = True, attach: bool = True) -> None:
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        signoff = make_signoff(loan.borrower, first_version(), passed=passed)
        if attach:
            loan.training_signoff_id = signoff.id
        db.session.commit()


@pytest.fixture
def officer(client, world):
    client.login("officer")
    english(client)
    return client


def _refused(app, client, loan_id: int, expected: str) -> str:
    before = snapshot(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/contract", _contract(app))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert expected in page
    assert f'href="/loans/{loan_id}/training"' in page
    assert snapshot(app, loan_id) == before
    return page


def test_no_signoff_refuses_the_contract_and_links_to_the_training(app, officer, world):
    with app.app_context():
        first_version()
        db.session.commit()
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _refused(app, officer, loan_id, "The borrower has not signed off the integrity training yet.")


def test_a_failing_signoff_refuses_the_contract(app, officer, world):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    _with_signoff(app, loan_id, passed=False, attach=False)
    _refused(app, officer, loan_id, "scored 40%, below the pass mark of 80%")


def test_a_signoff_of_an_older_version_refuses_the_contract(app, officer, world):
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _with_signoff(app, loan_id)
    with app.app_context():
        new_version()
        db.session.commit()
    _refused(app, officer, loan_id, "for version 1 of the training material, but version 2")


def test_retraining_on_the_new_version_opens_the_gate(app, officer, world):
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _with_signoff(app, loan_id)
    with app.app_context():
        material = new_version()
        db.session.commit()
        answers = correct_answers(material)
        material_id = material.id
    assert officer.get(f"/loans/{loan_id}/training").status_code == 200
    response = officer.submit(
        f"/loans/{loan_id}/training",
        {"material_id": str(material_id), "signature": png_data_url(), **answers},
    )
    assert response.headers["Location"] == f"/loans/{loan_id}"
    assert get_loan(app, loan_id).status == LoanStatus.TRAINED
    assert officer.submit(f"/loans/{loan_id}/contract", _contract(app)).status_code == 302
    assert get_loan(app, loan_id).status == LoanStatus.CONTRACTED


def test_a_current_passing_signoff_lets_the_contract_through(app, officer, world):
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _with_signoff(app, loan_id)
    page = officer.get(f"/loans/{loan_id}/contract").get_data(as_text=True)
    assert "The contract cannot be recorded yet" not in page
    response = officer.submit(f"/loans/{loan_id}/contract", _contract(app))
    assert response.status_code == 302
    loan = get_loan(app, loan_id)
    assert (loan.status, loan.contract_number) == (LoanStatus.CONTRACTED, "JK-2026-0100")


def test_without_published_material_the_gate_stays_shut(app, officer, world):
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _refused(app, officer, loan_id, "No integrity-training material has been published yet")


def test_the_loan_page_and_the_contract_page_explain_the_gate_in_chinese(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _with_signoff(app, loan_id)
    with app.app_context():
        new_version()
        db.session.commit()
    client.login("officer")
    for url in (f"/loans/{loan_id}", f"/loans/{loan_id}/contract"):
        page = client.get(url).get_data(as_text=True)
        assert "借款人的签收针对的是第 1 版培训材料" in page
        assert "参加诚信培训" in page


def test_a_stale_signoff_says_retraining_is_needed_wherever_the_loan_shows(app, officer, world):
    """Issue 20: after a new material version the badge no longer says "Trained"."""
    loan_id = new_loan(app, world, LoanStatus.TRAINED)
    _with_signoff(app, loan_id)
    pages = ("/loans/", f"/loans/{loan_id}", f"/borrowers/{world.own_borrower.id}")
    for url in pages:
        page = officer.get(url).get_data(as_text=True)
        assert 'data-status="trained"' in page and "data-retraining" not in page, url
    with app.app_context():
        new_version()
        db.session.commit()
    for url in pages:
        page = officer.get(url).get_data(as_text=True)
        assert "data-retraining" in page and "Retraining needed" in page, url
        assert 'data-status="trained">Trained<' not in page, url
    detail = officer.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert "Passed an old version: retraining needed" in detail
