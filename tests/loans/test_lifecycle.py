"""The state machine through the pages: every legal step, and a refusal for every illegal one."""

from datetime import date

import pytest

from portal.extensions import db
from portal.loans.lifecycle import STEPS, standing_of
from portal.loans.models import Loan, LoanStatus
from tests.loans.helpers import (
    audit_actions,
    english,
    events,
    get_loan,
    iso,
    new_loan,
    snapshot,
)
from tests.training.helpers import correct_answers, first_version, make_signoff, png_data_url

URLS = {
    "approve": "decision",
    "reject": "decision",
    "train": "training",
    "contract": "contract",
    "disburse": "disburse",
    "confirm_disbursement": "confirm-disbursement",
    "return": "return-disbursement",
    "payment": "payment",
    "repayment": "repayment",
    "write_off": "write-off",
    "close": "close",
}
ACTOR = {
    "approve": "head",
    "reject": "head",
    "confirm_disbursement": "head",
    "return": "head",
    "write_off": "head",
}


@pytest.fixture(autouse=True)
def _published_material(app, world):
    with app.app_context():
        first_version()
        db.session.commit()


def _data(app, step: str, loan_id: int | None = None) -> dict:
    """Valid form data for ``step`` (the checks of a disbursement: made on the loan as it is)."""
    if step in ("confirm_disbursement", "return"):
        version = str(get_loan(app, loan_id).version)
        reason = {"reason": "放款日期与银行回单不符"} if step == "return" else {}
        return {"version": version, **reason}
    if step == "train":
        with app.app_context():
            material = first_version()
            return {
                "material_id": str(material.id),
                "signature": png_data_url(),
                **correct_answers(material),
            }
    return {
        "approve": {
            "outcome": "approve",
            "decision_date": iso(app),
            "approved_amount": "40000",
            "approved_term_months": "10",
            "note": "同意，金额调整为四万元",
        },
        "reject": {"outcome": "reject", "decision_date": iso(app), "note": "月收入不足以还款"},
        "contract": {"contract_number": "jk-2026-0001", "contract_signed_on": iso(app)},
        "disburse": {"disbursed_on": iso(app)},
        "payment": {"paid_on": iso(app), "amount": "1000"},
        "repayment": {
            "repayment_status": "overdue",
            "overdue_days": "12",
            "outstanding_balance": "30000",
        },
        "write_off": {"reason": "借款人外出失联，担保人无力代偿"},
        "close": {"closed_on": iso(app)},
    }[step]


def _holds_current_signoff(app, loan_id: int) -> None:
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        signoff = make_signoff(loan.borrower, first_version())
        loan.training_signoff_id = signoff.id
        db.session.commit()


def _loan_for(app, world, status: LoanStatus, step: str) -> int:
    overrides = {"outstanding_balance": 0} if step == "close" else {}
    loan_id = new_loan(app, world, status, **overrides)
    if status == LoanStatus.TRAINED:
        _holds_current_signoff(app, loan_id)
    return loan_id


def _login(client, username: str) -> None:
    client.login(username)
    english(client)


LEGAL = [
    ("approve", LoanStatus.APPLIED, LoanStatus.APPROVED),
    ("reject", LoanStatus.APPLIED, LoanStatus.REJECTED),
    ("train", LoanStatus.APPROVED, LoanStatus.TRAINED),
    ("contract", LoanStatus.TRAINED, LoanStatus.CONTRACTED),
    ("disburse", LoanStatus.CONTRACTED, LoanStatus.DISBURSING),
    ("confirm_disbursement", LoanStatus.DISBURSING, LoanStatus.ACTIVE),
    ("return", LoanStatus.DISBURSING, LoanStatus.CONTRACTED),
    ("repayment", LoanStatus.ACTIVE, LoanStatus.ACTIVE),
    ("write_off", LoanStatus.ACTIVE, LoanStatus.ACTIVE),
    ("close", LoanStatus.ACTIVE, LoanStatus.CLOSED),
]


@pytest.mark.parametrize(("step", "start", "end"), LEGAL, ids=[s for s, _, _ in LEGAL])
def test_every_legal_step_moves_the_loan_and_is_recorded(app, client, world, step, start, end):
    loan_id = _loan_for(app, world, start, step)
    data = _data(app, step, loan_id)
    _login(client, ACTOR.get(step, "officer"))
    url = f"/loans/{loan_id}/{URLS[step]}"
    response = client.submit(url, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/loans/{loan_id}"
    assert get_loan(app, loan_id).status == end
    assert events(app, loan_id)[-1] == (step, start.value, end.value)
    assert audit_actions(app, loan_id)[-1] == f"loan.{step}"


def test_each_step_stores_its_facts(app, client, world):
    applied = new_loan(app, world)
    _login(client, "head")
    client.submit(f"/loans/{applied}/decision", _data(app, "approve"))
    loan = get_loan(app, applied)
    assert (loan.approved_amount, loan.approved_term_months) == (40000, 10)
    assert loan.decided_by_id == world.head.id and loan.decision_date.isoformat() == iso(app)
    client.logout()

    contracted = new_loan(app, world, LoanStatus.CONTRACTED, approved_amount=45000)
    _login(client, "officer")
    client.submit(f"/loans/{contracted}/disburse", _data(app, "disburse"))
    loan = get_loan(app, contracted)
    assert loan.disbursed_on.isoformat() == iso(app)
    assert loan.disbursement_recorded_by_id == world.officer.id
    assert loan.outstanding_balance is None and loan.disbursement_confirmed_by_id is None

    trained = _loan_for(app, world, LoanStatus.TRAINED, "contract")
    client.submit(f"/loans/{trained}/contract", _data(app, "contract"))
    assert get_loan(app, trained).contract_number == "JK-2026-0001"
    client.logout()

    _login(client, "head")
    client.submit(
        f"/loans/{contracted}/confirm-disbursement",
        _data(app, "confirm_disbursement", contracted),
    )
    loan = get_loan(app, contracted)
    assert loan.outstanding_balance == 45000 and loan.disbursed_on.isoformat() == iso(app)
    assert loan.disbursement_recorded_by_id == world.officer.id
    assert loan.disbursement_confirmed_by_id == world.head.id


def _illegal_cases():
    for name, step in STEPS.items():
        for status in LoanStatus:
            if status not in step.sources:
                yield name, status
    yield "train", LoanStatus.TRAINED  # the borrower holds a current passing sign-off


ILLEGAL = list(_illegal_cases())


@pytest.mark.parametrize(("step", "status"), ILLEGAL, ids=[f"{s}-from-{t}" for s, t in ILLEGAL])
def test_every_illegal_step_is_refused_and_writes_nothing(app, client, world, step, status):
    loan_id = _loan_for(app, world, status, step)
    data = _data(app, step, loan_id)
    _login(client, "head")  # may take every step (and recorded no disbursement): the status decides
    before = snapshot(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/{URLS[step]}", data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert snapshot(app, loan_id) == before
    if step == "contract" and status == LoanStatus.APPROVED:
        assert "has not signed off the integrity training" in page  # the gate speaks first
    elif step == "train" and status == LoanStatus.TRAINED:
        assert "holds a current passing sign-off already" in page
    else:
        label = {"disbursing": "Disbursement to confirm"}.get(status.value, status.value.title())
        target = {"approve": "Approved", "reject": "Approved"}.get(step)
        assert f"The loan is “{label}”; it cannot go to" in page
        if target:
            assert "“Approved”" in page or "“Rejected”" in page


def test_a_refusal_names_both_statuses_in_chinese(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.CLOSED)
    client.login("officer")
    page = client.submit(
        f"/loans/{loan_id}/contract", _data(app, "contract"), follow_redirects=True
    ).get_data(as_text=True)
    assert "该贷款当前状态为“已结清”，不能转为“已签合同”。" in page


def test_a_written_off_loan_cannot_be_written_off_twice(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE, written_off=True)
    _login(client, "head")
    before = snapshot(app, loan_id)
    response = client.submit(
        f"/loans/{loan_id}/write-off", _data(app, "write_off"), follow_redirects=True
    )
    assert "This loan is written off already." in response.get_data(as_text=True)
    assert snapshot(app, loan_id) == before


def test_a_written_off_loan_closes_with_a_balance(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE, written_off=True)
    _login(client, "officer")
    response = client.submit(f"/loans/{loan_id}/close", _data(app, "close"))
    assert response.status_code == 302
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.CLOSED and loan.outstanding_balance == 40000


def test_the_detail_page_offers_only_the_steps_the_user_may_take(app, client, world):
    loan_id = new_loan(app, world)
    _login(client, "officer")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/decision" not in page
    client.logout()
    _login(client, "head")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/decision" in page
    active = new_loan(app, world, LoanStatus.ACTIVE)
    page = client.get(f"/loans/{active}").get_data(as_text=True)
    for url in ("repayment", "write-off", "close"):
        assert f"/loans/{active}/{url}" in page
    assert f"/loans/{active}/decision" not in page


def test_the_whole_history_reads_in_order(app, client, world):
    loan_id = new_loan(app, world)
    _login(client, "head")
    client.submit(f"/loans/{loan_id}/decision", _data(app, "approve"))
    client.submit(f"/loans/{loan_id}/training", _data(app, "train"))
    client.submit(f"/loans/{loan_id}/contract", _data(app, "contract"))
    client.submit(f"/loans/{loan_id}/disburse", _data(app, "disburse"))
    client.logout()
    _login(client, "admin")  # the head recorded the disbursement: a second person confirms it
    client.submit(
        f"/loans/{loan_id}/confirm-disbursement", _data(app, "confirm_disbursement", loan_id)
    )
    client.logout()
    _login(client, "head")
    with app.app_context():
        # Paid off at once: everything the schedule asks for.
        owed = standing_of(db.session.get(Loan, loan_id), date.max).total_owed
    client.submit(f"/loans/{loan_id}/payment", {"paid_on": iso(app), "amount": str(owed)})
    client.submit(f"/loans/{loan_id}/close", _data(app, "close"))
    assert [action for action, _, _ in events(app, loan_id)] == [
        "approve",
        "train",
        "contract",
        "disburse",
        "confirm_disbursement",
        "payment",
        "close",
    ]
    assert audit_actions(app, loan_id) == [
        "loan.approve",
        "loan.train",
        "loan.contract",
        "loan.disburse",
        "loan.confirm_disbursement",
        "loan.payment",
        "loan.close",
    ]
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    for text in (
        "Approved by the loan committee",
        "Loan contract signed",
        "Disbursement recorded",
        "Disbursement confirmed",
        "Payment recorded",
        "Loan closed",
    ):
        assert text in page


def test_an_application_is_recorded_with_its_event_and_audit(app, client, world):
    _login(client, "officer")
    response = client.submit(
        f"/borrowers/{world.own_borrower.id}/loans/new",
        {
            "amount": "60000",
            "term_months": "18",
            "annual_rate_percent": "9.6",
            "purpose": "扩建猪舍，购买仔猪",
        },
    )
    loan_id = int(response.headers["Location"].rsplit("/", 1)[1])
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.APPLIED and loan.amount_requested == 60000
    assert loan.created_by_id == world.officer.id and loan.branch_id == world.branch.id
    assert events(app, loan_id) == [("apply", None, "applied")]
    assert audit_actions(app, loan_id) == ["loan.apply"]
