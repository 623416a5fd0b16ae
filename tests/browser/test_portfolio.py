"""Repayment schedules seen by their users (issue 18): the borrower on a phone sees the
next instalment; the head sees portfolio at risk and downloads the overdue loans in Excel."""

from datetime import timedelta

import pytest
from openpyxl import load_workbook

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import LoanStatus
from portal.portfolio.quality import quality
from tests.browser.test_loan_path import _login
from tests.factories import make_loan
from tests.portfolio.data import make_portfolio

pytestmark = pytest.mark.browser


@pytest.fixture
def scheduled(app, world):
    """The borrower's loan, disbursed two months and a week ago, the first instalment paid:
    the second (due a week ago) is late and is the next one to pay."""
    with app.app_context():
        db.session.get(User, world.borrower.id).locale = "en"
        borrower = db.session.get(Borrower, world.own_borrower.id)
        disbursed = local_today() - timedelta(days=68)
        loan = make_loan(
            borrower, LoanStatus.ACTIVE, disbursed_on=disbursed, contract_number="JK-2026-000777"
        )
        lifecycle.store_schedule(loan)
        first = loan.instalments[0]
        officer = db.session.get(User, world.officer.id)
        lifecycle.add_repayment(
            loan, paid_on=first.due_on, amount=first.amount, recorded_by=officer
        )
        second = loan.instalments[1]
        db.session.commit()
        return second.due_on, second.amount


def test_the_borrower_sees_the_next_instalment_on_a_phone(page, scheduled, screenshot):
    due_on, amount = scheduled
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "borrower")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("form[action='/logout']", state="attached")
    page.goto(page.base_url + "/me")
    card = page.locator("[data-testid=loan-card]").filter(has_text="JK-2026-000777")
    coming = card.locator("[data-testid=next-instalment]")
    assert coming.is_visible()
    text = coming.inner_text()
    assert due_on.isoformat() in text and f"{amount:,.2f}" in text, text
    box = coming.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot("phone")


def test_the_head_sees_par_and_downloads_the_overdue_loans(app, world, page, screenshot):
    with app.app_context():
        make_portfolio(world)
        db.session.get(User, world.head.id).locale = "en"
        db.session.commit()
        expected = quality(local_today(), branch_id=world.branch.id)
    page.set_viewport_size({"width": 1280, "height": 900})  # the branch head's desktop
    _login(page, "head")
    page.locator(".navbar .nav-group > .dropdown-toggle", has_text="Results").click()
    page.locator(".navbar .nav-group > .dropdown-menu.show").get_by_text(
        "Portfolio quality"
    ).click()
    page.wait_for_selector("[data-testid=portfolio-figures]")
    shown = page.locator("[data-testid=par30]").inner_text()
    assert shown == f"{expected.par30_ratio * 100:.2f} %"
    page.fill("input[name=month]", "2026-06")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**month=2026-06**")
    assert page.locator("[data-testid=par30]").inner_text() == "64.15 %"
    assert page.locator("[data-testid=late-loans] tbody tr").count() == 3
    screenshot("par")
    with page.expect_download() as download:
        page.click("text=Download Excel")
    with open(download.value.path(), "rb") as downloaded:
        rows = list(load_workbook(downloaded).active.values)
    assert [row[3] for row in rows[1:]] == ["PQ-C", "PQ-B", "PQ-D"]
    assert download.value.suggested_filename.startswith("portfolio-at-risk-")
