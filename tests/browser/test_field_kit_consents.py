"""The field kit's offline visit form follows the borrower's consents (issue 19): without
the consents to photos and to surveys, the tablet neither takes photos nor asks the
satisfaction question, and sends neither."""

import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import ConsentMethod, Purpose
from portal.services.operations import ensure_catalogue
from portal.visits.models import Visit
from tests.browser.test_field_kit import (  # noqa: F401 - the fixtures
    _choose,
    _plan,
    _prepare,
    _sign,
    netcut,
    tablet,
)

pytestmark = pytest.mark.browser


def test_the_offline_form_asks_no_survey_and_takes_no_photo_without_the_consents(
    app,
    world,
    tablet,  # noqa: F811 - the fixtures imported above
    netcut,  # noqa: F811 - the fixtures imported above
):
    with app.app_context():
        ensure_catalogue()
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        for purpose in (Purpose.PHOTOS, Purpose.SURVEYS):
            consents.decide(borrower, purpose, False, ConsentMethod.PAPER, officer)
        db.session.commit()
        name = borrower.full_name
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [world.own_borrower.id])
    _prepare(tablet, 1)

    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{world.own_borrower.id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    assert page.inner_text("[data-fact=name]") == name
    assert page.locator("[data-testid=visit-photos]").is_hidden()
    assert page.locator("[data-testid=not-asked-photos]").is_visible()
    assert page.locator("input[name=satisfaction]").first.is_hidden()
    assert page.locator("input[name=satisfaction]").first.is_disabled()
    assert page.locator("[data-testid=not-asked-surveys]").is_visible()

    for field, value in (
        ("business_state", "normal"),
        ("revenue_trend", "stable"),
        ("funds_use", "as_contracted"),
        ("repayment_status", "on_time"),
        ("guarantor_status", "normal"),
        ("collateral_status", "intact"),
    ):
        _choose(page, field, value)
    page.fill("textarea[name=officer_observations]", "猪舍干净。")
    _sign(tablet)
    tablet.shot("consents-offline-form")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/field#saved$"))
    page.wait_for_selector("body[data-field-rendered]")
    # Online, the outbox goes by itself: the visit is stored without an answer.
    tablet.until("document.querySelector('[data-testid=outbox] li[data-state=sent]') !== null", 60)
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        assert visit.satisfaction is None and visit.photos == []
