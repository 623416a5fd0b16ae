"""Bad input on every loan form: a clear message beside the field, in both languages, nothing written."""

import pytest

from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from tests.loans.helpers import english, iso, new_loan, snapshot
from tests.training.helpers import first_version, make_signoff

GOOD_APPLICATION = {
    "amount": "50000",
    "term_months": "12",
    "annual_rate_percent": "8.5",
    "purpose": "购买仔猪和饲料",
}

# (field, bad value, English message, Chinese message)
APPLICATION_CASES = [
    ("amount", "0", "Enter an amount above 0 and at most 1,000,000 yuan.", "请输入大于 0"),
    ("amount", "-100", "Enter an amount above 0 and at most 1,000,000 yuan.", "请输入大于 0"),
    ("amount", "1000000.01", "Enter an amount above 0 and at most 1,000,000 yuan.", "请输入大于 0"),
    ("amount", "", "Enter an amount above 0 and at most 1,000,000 yuan.", "请输入大于 0"),
    ("amount", "abc", "Enter a number with at most two decimals", "请输入最多两位小数的数字"),
    ("amount", "NaN", "Enter a number with at most two decimals", "请输入最多两位小数的数字"),
    ("amount", "sNaN", "Enter a number with at most two decimals", "请输入最多两位小数的数字"),
    ("amount", "1e5", "Enter a number with at most two decimals", "请输入最多两位小数的数字"),
    ("amount", "12.345", "Enter a number with at most two decimals", "请输入最多两位小数的数字"),
    ("term_months", "0", "Enter a term of 1 to 60 months.", "期限须为 1 到 60 个月"),
    ("term_months", "61", "Enter a term of 1 to 60 months.", "期限须为 1 到 60 个月"),
    ("term_months", "", "Enter a term of 1 to 60 months.", "期限须为 1 到 60 个月"),
    ("annual_rate_percent", "0", "Enter a yearly rate above 0 and at most 24.", "利率须大于 0"),
    ("annual_rate_percent", "36", "Enter a yearly rate above 0 and at most 24.", "利率须大于 0"),
    ("purpose", "", "Describe what the money is for.", "请说明借款用途"),
    (
        "purpose",
        "买",
        "Describe the purpose in 4 to 1000 characters.",
        "用途说明须为 4 到 1000 个字",
    ),
]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(("field", "value", "en", "zh"), APPLICATION_CASES)
def test_bad_application_input_is_refused(app, client, world, language, field, value, en, zh):
    client.login("officer")
    if language == "en":
        english(client)
    url = f"/borrowers/{world.own_borrower.id}/loans/new"
    response = client.submit(url, {**GOOD_APPLICATION, field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (en if language == "en" else zh) in page
    assert f'id="{field}-errors"' in page
    if value and field != "purpose":
        assert f'value="{value}"' in page  # what was typed stays
    with app.app_context():
        assert db.session.query(Loan).count() == 2  # the World's two


def _decision(app, **values):
    return {
        "outcome": "approve",
        "decision_date": iso(app),
        "approved_amount": "50000",
        "approved_term_months": "12",
        "note": "",
        **values,
    }


def _step_cases(app, world):
    return [
        ("decision", LoanStatus.APPLIED, _decision(app, outcome=""), "Choose approve or reject."),
        ("decision", LoanStatus.APPLIED, _decision(app, approved_amount=""), "Enter an amount"),
        (
            "decision",
            LoanStatus.APPLIED,
            _decision(app, approved_amount="60000"),
            "at most the amount applied for",
        ),
        ("decision", LoanStatus.APPLIED, _decision(app, approved_term_months="0"), "1 to 60"),
        (
            "decision",
            LoanStatus.APPLIED,
            _decision(app, decision_date=iso(app, 1)),
            "The date cannot be in the future.",
        ),
        (
            "decision",
            LoanStatus.APPLIED,
            _decision(app, decision_date="2026-01-04"),
            "cannot be before 2026-01-05",
        ),
        (
            "decision",
            LoanStatus.APPLIED,
            _decision(app, decision_date="2026-02-30"),
            "Not a valid date value.",
        ),
        (
            "decision",
            LoanStatus.APPLIED,
            _decision(app, outcome="reject", note="  "),
            "Give the reason for the rejection.",
        ),
        (
            "contract",
            LoanStatus.TRAINED,
            {"contract_number": "合同一", "contract_signed_on": iso(app)},
            "Use 3 to 40 letters, digits and dashes.",
        ),
        (
            "contract",
            LoanStatus.TRAINED,
            {"contract_number": world.own_loan.name, "contract_signed_on": iso(app)},
            "Another loan already has this contract number.",
        ),
        (
            "contract",
            LoanStatus.TRAINED,
            {"contract_number": "JK-9", "contract_signed_on": iso(app, -3)},
            "the date of the previous step",
        ),
        (
            "contract",
            LoanStatus.TRAINED,
            {"contract_number": "JK-9", "contract_signed_on": ""},
            "Enter a date (year-month-day).",
        ),
        (
            "disburse",
            LoanStatus.CONTRACTED,
            {"disbursed_on": "2026-01-19"},
            "cannot be before 2026-01-20",
        ),
        ("disburse", LoanStatus.CONTRACTED, {"disbursed_on": iso(app, 2)}, "in the future"),
        (
            "close",
            LoanStatus.ACTIVE,
            {"closed_on": "2026-01-24"},
            "cannot be before 2026-01-25",
        ),
        ("write-off", LoanStatus.ACTIVE, {"reason": ""}, "Give the reason for the write-off."),
    ]


def _signed_off_trained_loans(app, world) -> None:
    """Trained loans need a current passing sign-off (yesterday) to reach the date check."""
    with app.app_context():
        material = first_version()
        for loan in db.session.query(Loan).filter(Loan.status == LoanStatus.TRAINED):
            loan.training_signoff_id = make_signoff(loan.borrower, material, days_ago=1).id
        db.session.commit()


def test_bad_step_input_is_refused_beside_the_field(app, client, world):
    client.login("head")
    english(client)
    for url, status, data, message in _step_cases(app, world):
        loan_id = new_loan(app, world, status)
        if status == LoanStatus.TRAINED:
            _signed_off_trained_loans(app, world)
        before = snapshot(app, loan_id)
        response = client.submit(f"/loans/{loan_id}/{url}", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (url, data, page[:200])
        assert message in page, (url, data)
        assert "is-invalid" in page
        assert snapshot(app, loan_id) == before, (url, data)


CHINESE = [
    ("decision", LoanStatus.APPLIED, "outcome", "", "请选择批准或拒绝。"),
    ("decision", LoanStatus.APPLIED, "decision_date", "2099-01-01", "日期不能晚于今天。"),
    (
        "contract",
        LoanStatus.TRAINED,
        "contract_number",
        "#",
        "请使用 3 到 40 个字母、数字或短横线。",
    ),
    ("disburse", LoanStatus.CONTRACTED, "disbursed_on", "2026-01-01", "日期不能早于 2026-01-20"),
    ("close", LoanStatus.ACTIVE, "closed_on", "", "请输入日期（年-月-日）。"),
    ("write-off", LoanStatus.ACTIVE, "reason", "", "请填写核销的原因。"),
    ("repayment", LoanStatus.ACTIVE, "overdue_days", "-1", "请输入 0 到 3650 天。"),
]


@pytest.mark.parametrize(("url", "status", "field", "value", "message"), CHINESE)
def test_step_errors_read_in_chinese(app, client, world, url, status, field, value, message):
    loan_id = new_loan(app, world, status)
    if status == LoanStatus.TRAINED:
        _signed_off_trained_loans(app, world)
    client.login("head")
    base = {
        "decision": _decision(app),
        "contract": {"contract_number": "JK-77", "contract_signed_on": iso(app)},
        "disburse": {"disbursed_on": iso(app)},
        "close": {"closed_on": iso(app)},
        "write-off": {"reason": "失联"},
        "repayment": {
            "repayment_status": "overdue",
            "overdue_days": "3",
            "outstanding_balance": "100",
        },
    }[url]
    before = snapshot(app, loan_id)
    page = client.submit(f"/loans/{loan_id}/{url}", {**base, field: value}).get_data(as_text=True)
    assert message in page
    assert "请更正标出的字段" in page
    assert snapshot(app, loan_id) == before


REPAYMENT_CASES = [
    ("on_time", "5", "40000", "A loan repaid on time has 0 overdue days."),
    ("overdue", "0", "40000", "An overdue loan is overdue by 1 to 3650 days."),
    ("overdue", "4000", "40000", "Enter 0 to 3650 days."),
    ("on_time", "0", "-1", "between 0 and the approved amount (50,000.00)"),
    ("on_time", "0", "50000.01", "between 0 and the approved amount (50,000.00)"),
    ("overdue", "10", "0", "A loan with nothing outstanding cannot be overdue."),
    ("on_time", "0", "四万", "Enter a number with at most two decimals"),
    ("late", "0", "100", "Not a valid choice."),
    ("", "0", "100", "Choose on time or overdue."),
]


@pytest.mark.parametrize(("status", "days", "balance", "message"), REPAYMENT_CASES)
def test_inconsistent_repayment_updates_are_refused(
    app, client, world, status, days, balance, message
):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("officer")
    english(client)
    before = snapshot(app, loan_id)
    data = {"repayment_status": status, "overdue_days": days, "outstanding_balance": balance}
    page = client.submit(f"/loans/{loan_id}/repayment", data).get_data(as_text=True)
    assert message in page
    assert snapshot(app, loan_id) == before


def test_a_repayment_update_is_saved(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("officer")
    data = {"repayment_status": "overdue", "overdue_days": "15", "outstanding_balance": "32,500.50"}
    response = client.submit(f"/loans/{loan_id}/repayment", data)
    assert response.status_code == 302
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        assert (loan.repayment_status.value, loan.overdue_days) == ("overdue", 15)
        assert str(loan.outstanding_balance) == "32500.50"
        assert loan.overdue


def test_a_loan_with_money_outstanding_cannot_be_closed(app, client, world):
    loan_id = new_loan(app, world, LoanStatus.ACTIVE)
    client.login("officer")
    english(client)
    before = snapshot(app, loan_id)
    page = client.submit(f"/loans/{loan_id}/close", {"closed_on": iso(app)}).get_data(as_text=True)
    assert "40,000.00 yuan are still outstanding" in page
    assert snapshot(app, loan_id) == before
