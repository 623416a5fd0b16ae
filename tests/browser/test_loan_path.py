"""The whole path in Chromium: onboard → apply → approve → train with a drawn signature → contract
→ disburse → the head confirms the disbursement."""

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from portal.accounts.models import User
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.training.models import TrainingSignoff
from tests.browser.pages import sign
from tests.training.helpers import first_version

pytestmark = pytest.mark.browser

TEXTS = {
    "zh": {"trained": "已培训", "active": "在贷", "signed": "诚信培训已签收", "title": "诚信培训"},
    "en": {
        "trained": "Trained",
        "active": "Active",
        "signed": "The integrity training is signed off",
        "title": "Integrity training",
    },
}


@pytest.fixture
def answers(app, world) -> dict:
    """Published material; the id of the right radio button for each question."""
    with app.app_context():
        material = first_version()
        db.session.commit()
        return {q.id: f"#q{q.id}-{q.correct_option}" for q in material.questions}


def _speak(app, language: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).values(locale=language))
        db.session.commit()


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("nav.navbar")


def _logout(page):
    if page.is_visible(".navbar-toggler"):
        page.click(".navbar-toggler")
        page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def _onboard(page, screenshot) -> None:
    body = "320802198703150132"[:17]
    page.goto(page.base_url + "/borrowers/new")
    page.fill("input[name=full_name]", "赵建华")
    page.fill("input[name=resident_id]", body + ric.calc_check_digit(body + "0"))
    page.fill("input[name=birth_date]", "1987-03-15")
    page.check("input[name=sex][value=male]")
    page.fill("input[name=mobile]", "13905271688")
    page.fill("input[name=address]", "江苏省 宿迁市 泗阳县 众兴镇")
    page.fill("input[name=village]", "葛集村")
    page.select_option("select[name=business_type]", "duck_farming")
    page.fill("textarea[name=business_description]", "养殖麻鸭约两千只，供应县城烤鸭店")
    page.fill("input[name=household_size]", "5")
    page.fill("input[name=monthly_income]", "8000")
    page.fill("input[name=monthly_expenses]", "4200")
    page.fill("input[name=guarantor_name]", "赵建国")
    page.fill("input[name=guarantor_phone]", "13805271234")
    page.check("input[name=consent]")
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector("[data-testid=activation-code]")
    page.click("a.btn-outline-secondary[href^='/borrowers/']")
    page.wait_for_selector("a[href$='/loans/new']")
    screenshot("1-borrower")


def _apply(page, screenshot) -> str:
    page.click("a[href$='/loans/new']")
    page.fill("input[name=amount]", "80000")
    page.fill("input[name=term_months]", "12")
    page.fill("input[name=annual_rate_percent]", "8.5")
    page.fill("textarea[name=purpose]", "购买鸭苗和饲料，扩建鸭棚")
    screenshot("2-application")
    page.click("input[type=submit]")
    page.wait_for_url("**/loans/*")
    return page.url.rsplit("/", 1)[1]


def _decide(page, loan_url, screenshot) -> None:
    page.goto(loan_url)
    page.click("a[href$='/decision']")
    page.check("input[name=outcome][value=approve]")
    page.fill("input[name=approved_amount]", "60000")
    page.fill("textarea[name=note]", "同意，金额核定为六万元")
    screenshot("3-decision")
    page.click("input[type=submit]")
    page.wait_for_url(loan_url)


def _train(page, loan_url, answers, screenshot, texts) -> None:
    page.goto(loan_url)
    page.click("a[href$='/training']")
    assert texts["title"] in page.inner_text("h1")
    for radio in answers.values():
        page.check(radio)
    page.locator("[data-signature-field]").scroll_into_view_if_needed()
    sign(page)
    screenshot("4-training-signed")
    page.click("main form.portal-form button[type=submit]")
    page.wait_for_url(loan_url)
    assert texts["signed"] in page.inner_text(".alert-success")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.signature-image')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    screenshot("5-trained")


def _contract_and_disburse(page, loan_url, loan_id, screenshot) -> None:
    page.click("a[href$='/contract']")
    page.fill("input[name=contract_number]", f"JK-SY01-2026-{int(loan_id):04d}")
    page.click("input[type=submit]")
    page.wait_for_url(loan_url)
    page.click("a[href$='/disburse']")
    screenshot("6-disbursement")
    page.click("input[type=submit]")
    page.wait_for_url(loan_url)


def _confirm_disbursement(page, loan_url) -> None:
    page.goto(loan_url)
    page.click("a[href$='/confirm-disbursement']")
    page.click("input[type=submit]")
    page.wait_for_url(loan_url)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_whole_loan_path_with_a_drawn_signature(page, app, world, answers, screenshot, language):
    _speak(app, language)
    texts = TEXTS[language]
    _login(page, "officer")
    _onboard(page, screenshot)
    loan_id = _apply(page, screenshot)
    loan_url = f"{page.base_url}/loans/{loan_id}"
    _logout(page)

    _login(page, "head")
    _decide(page, loan_url, screenshot)
    _logout(page)

    _login(page, "officer")
    _train(page, loan_url, answers, screenshot, texts)
    assert page.inner_text("[data-status]") == texts["trained"]
    _contract_and_disburse(page, loan_url, loan_id, screenshot)
    assert page.get_attribute("[data-status]", "data-status") == "disbursing"
    _logout(page)

    _login(page, "head")  # four eyes: a second person confirms the disbursement
    _confirm_disbursement(page, loan_url)
    assert page.inner_text("[data-status]") == texts["active"]
    screenshot("7-active")

    with app.app_context():
        loan = db.session.get(Loan, int(loan_id))
        signoff = db.session.get(TrainingSignoff, loan.training_signoff_id)
        assert loan.status == LoanStatus.ACTIVE and loan.outstanding_balance == 60000
        assert signoff.passed and len(signoff.signature_png) > 1000
