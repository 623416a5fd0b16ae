"""A borrower's loans on a phone: one card per loan, the table on wide screens (issue 20)."""

import pytest

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import make_loan

pytestmark = pytest.mark.browser


@pytest.fixture
def loans(app, world, request):
    """The borrower's account in the locale under test, with three loans of all kinds."""
    with app.app_context():
        account = db.session.get(User, world.borrower.id)
        account.locale = request.param
        borrower = db.session.get(Borrower, world.own_borrower.id)
        make_loan(borrower, LoanStatus.CLOSED, contract_number="JK-2025-000123")
        make_loan(borrower, LoanStatus.APPLIED)
        db.session.commit()
    return request.param


def _login(page):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "borrower")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("form[action='/logout']", state="attached")


@pytest.mark.parametrize("loans", ["zh", "en"], indirect=True)
def test_a_card_per_loan_on_a_phone_and_the_table_on_a_desktop(page, loans, screenshot):
    page.set_viewport_size({"width": 360, "height": 800})
    _login(page)
    page.goto(page.base_url + "/me")
    cards = page.locator("[data-testid=loan-card]")
    assert cards.count() == 3
    assert page.locator("[data-testid=loan-table]").is_hidden()
    for index in range(3):
        card = cards.nth(index)
        assert card.is_visible()
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        # Amount, status and the link each read on a line of their own width, unclipped.
        link = card.locator("a.btn")
        assert link.is_visible() and link.bounding_box()["x"] + link.bounding_box()["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert cards.get_by_text("JK-2025-000123").is_visible()
    screenshot(f"360-{loans}")

    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.locator("[data-testid=loan-table]").is_visible()
    assert cards.first.is_hidden()
    screenshot(f"1280-{loans}")
