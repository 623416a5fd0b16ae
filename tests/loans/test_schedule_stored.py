"""The repayment method chosen at approval, the schedule stored when the disbursement is
confirmed, and the next instalment shown to the borrower (docs/lifecycle.md, "Repayment
schedule")."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import (
    Loan,
    LoanEvent,
    LoanInstalment,
    LoanStatus,
    Repayment,
    RepaymentStatus,
)
from portal.loans.schedule import RepaymentMethod, schedule
from tests.loans.helpers import iso, new_loan, today


def _approve(app, client, loan_id: int, method: str):
    return client.submit(
        f"/loans/{loan_id}/decision",
        {
            "outcome": "approve",
            "decision_date": iso(app),
            "approved_amount": "12000",
            "approved_term_months": "12",
            "repayment_method": method,
            "note": "",
        },
    )


def _disburse(app, client, loan_id: int, day: str):
    """The officer records the disbursement, the head confirms it; the officer is logged in."""
    client.login("officer")
    response = client.submit(f"/loans/{loan_id}/disburse", {"disbursed_on": day})
    assert response.status_code == 302
    client.logout()
    client.login("head")
    version = _version(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/confirm-disbursement", {"version": version})
    assert response.status_code == 302
    client.logout()
    client.login("officer")


def _version(app, loan_id: int) -> str:
    with app.app_context():
        return str(db.session.get(Loan, loan_id).version)


def test_the_head_chooses_the_repayment_method_with_the_approval(app, client, world):
    loan_id = new_loan(app, world, annual_rate_percent=Decimal("12.00"))
    client.login("head")
    assert "等额本金" in client.get(f"/loans/{loan_id}/decision").get_data(as_text=True)
    assert _approve(app, client, loan_id, "equal_principal").status_code == 302
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        assert loan.repayment_method == RepaymentMethod.EQUAL_PRINCIPAL
        event = db.session.scalars(
            sa.select(LoanEvent).where(LoanEvent.loan_id == loan_id, LoanEvent.action == "approve")
        ).one()
        assert event.details["method"] == "equal_principal"


def test_an_unknown_method_is_refused_beside_the_field(app, client, world):
    loan_id = new_loan(app, world)
    client.login("head")
    response = _approve(app, client, loan_id, "pay_when_you_like")
    assert response.status_code == 200
    assert 'id="repayment_method-errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Loan, loan_id).status == LoanStatus.APPLIED


def test_the_confirmed_disbursement_stores_the_schedule_of_the_approved_terms(app, client, world):
    loan_id = new_loan(
        app,
        world,
        LoanStatus.CONTRACTED,
        approved_amount=Decimal("12000.00"),
        approved_term_months=12,
        annual_rate_percent=Decimal("12.00"),
        repayment_method=RepaymentMethod.EQUAL_PRINCIPAL,
        contract_signed_on=date(2026, 1, 20),
    )
    day = today(app)
    _disburse(app, client, loan_id, day.isoformat())
    expected = schedule(
        Decimal("12000.00"), Decimal("12.00"), 12, RepaymentMethod.EQUAL_PRINCIPAL, day
    )
    with app.app_context():
        stored = db.session.scalars(
            sa.select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id)
            .order_by(LoanInstalment.number)
        ).all()
        assert [(i.number, i.due_on, i.principal, i.interest) for i in stored] == [
            (i.number, i.due_on, i.principal, i.interest) for i in expected
        ]
        assert sum(i.principal for i in stored) == Decimal("12000.00")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert 'data-testid="schedule"' in page
    assert "¥1,120.00" in page  # the first instalment: 1,000 principal + 120 interest


def test_the_borrower_sees_the_next_instalment_on_their_page(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.CONTRACTED, approved_term_months=12)
    _disburse(app, client, loan_id, iso(app))
    client.logout()
    client.login("borrower")
    with app.app_context():
        first = db.session.scalars(
            sa.select(LoanInstalment).where(
                LoanInstalment.loan_id == loan_id, LoanInstalment.number == 1
            )
        ).one()
        due, amount = first.due_on.isoformat(), f"¥{first.amount:,.2f}"
    page = client.get("/me").get_data(as_text=True)
    assert 'data-testid="next-instalment"' in page
    assert due in page and amount in page


def test_every_confirmed_demo_loan_has_its_schedule(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        # A disbursement waiting for its confirmation has no schedule yet.
        disbursed = db.session.scalars(
            sa.select(Loan).where(
                Loan.disbursed_on.is_not(None), Loan.status != LoanStatus.DISBURSING
            )
        ).all()
        assert disbursed
        methods, late = set(), 0
        for loan in disbursed:
            assert len(loan.instalments) == loan.approved_term_months
            assert sum(i.principal for i in loan.instalments) == loan.approved_amount
            methods.add(loan.repayment_method)
            # The loan's figures are what its schedule and its payments give.
            now = lifecycle.standing_of(loan, loan.closed_on or today(app))
            assert loan.outstanding_balance == now.principal_outstanding
            assert loan.overdue_days == now.overdue_days
            if loan.status == LoanStatus.CLOSED:
                assert now.principal_outstanding == 0
            late += loan.repayment_status == RepaymentStatus.OVERDUE
        assert len(methods) >= 2 and late >= 2
        waiting = db.session.scalars(sa.select(Loan).where(Loan.status == LoanStatus.DISBURSING))
        for loan in waiting:
            assert loan.disbursement_recorded_by_id and not loan.instalments, loan.id


def _scheduled_loan(app, client, world, disbursed_on: str) -> int:
    loan_id = new_loan(
        app,
        world,
        LoanStatus.CONTRACTED,
        approved_amount=Decimal("12000.00"),
        approved_term_months=12,
        annual_rate_percent=Decimal("12.00"),
        repayment_method=RepaymentMethod.EQUAL_PRINCIPAL,
        contract_signed_on=date(2026, 1, 20),
    )
    _disburse(app, client, loan_id, disbursed_on)
    return loan_id


def test_a_payment_settles_interest_then_principal_and_the_loan_follows(app, client, world):
    loan_id = _scheduled_loan(app, client, world, "2026-02-01")
    # Ten instalments have fallen due since (1 March … 1 November): the loan is late.
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        assert lifecycle.standing_of(loan, date(2026, 11, 2)).overdue_days == 246  # since 1 March
    response = client.submit(
        f"/loans/{loan_id}/payment", {"paid_on": "2026-03-01", "amount": "1120"}
    )
    assert response.status_code == 302
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        (payment,) = loan.repayments
        assert (payment.principal, payment.interest) == (Decimal("1000.00"), Decimal("120.00"))
        assert loan.outstanding_balance == Decimal("11000.00")
        assert loan.repayment_status == RepaymentStatus.OVERDUE  # April onwards still unpaid
        assert lifecycle.standing_of(loan, date(2026, 4, 1)).overdue_days == 0
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert 'data-testid="payments"' in page and "¥1,120.00" in page
    assert "¥11,000.00" in page  # principal outstanding


def test_a_payment_above_what_is_owed_or_out_of_its_dates_is_refused(app, client, world):
    loan_id = _scheduled_loan(app, client, world, "2026-02-01")
    with app.app_context():
        owed = lifecycle.standing_of(db.session.get(Loan, loan_id), date.max).total_owed
    url = f"/loans/{loan_id}/payment"
    for data, field in (
        ({"paid_on": "2026-03-01", "amount": str(owed + Decimal("0.01"))}, "amount"),
        ({"paid_on": "2026-01-31", "amount": "100"}, "paid_on"),  # before the disbursement
        ({"paid_on": iso(app, 1), "amount": "100"}, "paid_on"),  # tomorrow
    ):
        response = client.submit(url, data)
        assert response.status_code == 200
        assert f'id="{field}-errors"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Repayment)) == 0
    # The whole amount owed is accepted, and the loan can then be closed.
    assert client.submit(url, {"paid_on": iso(app), "amount": str(owed)}).status_code == 302
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        assert (loan.outstanding_balance, loan.overdue_days) == (Decimal("0.00"), 0)


def test_the_typed_repayment_step_is_for_loans_without_a_schedule(app, client, world):
    loan_id = _scheduled_loan(app, client, world, iso(app))
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/payment" in page
    assert f"/loans/{loan_id}/repayment" not in page


def test_the_visit_form_prefills_the_repayment_answer_from_the_schedule(app, client, world):
    form = f"/borrowers/{world.own_borrower.id}/visits/new"
    late = _scheduled_loan(app, client, world, "2026-02-01")  # nothing paid since March
    with app.app_context():
        db.session.get(Loan, world.own_loan.id).status = LoanStatus.CLOSED
        db.session.commit()
    page = client.get(form).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="repayment_status"[^>]*value="overdue"', page)
    with app.app_context():
        owed = lifecycle.standing_of(db.session.get(Loan, late), date.max).total_owed
    client.submit(f"/loans/{late}/payment", {"paid_on": iso(app), "amount": str(owed)})
    page = client.get(form).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="repayment_status"[^>]*value="on_time"', page)
