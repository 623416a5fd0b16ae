"""On a phone, the borrower withdraws the greetings consent and downloads their data
(issue 19, "Done when" 3)."""

import json
from pathlib import Path

import pytest

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import ConsentEvent, ConsentMethod, Purpose
from tests.reports.helpers import text_of

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}


def _login(page):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "borrower")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("form[action='/logout']", state="attached")


@pytest.fixture
def borrower(app, world):
    """The World's borrower, reading English (the assertions on the page's words do not
    wait for the translations): name and full numbers, to find in the downloads."""
    with app.app_context():
        record = db.session.get(Borrower, world.own_borrower.id)
        record.user.locale = "en"
        db.session.commit()
        return {"id": record.id, "name": record.full_name, "resident_id": record.resident_id}


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_borrower_withdraws_greetings_and_downloads_their_data(
    page, app, borrower, screenshot, tmp_path
):
    page.set_viewport_size(PHONE)
    _login(page)
    page.goto(page.base_url + "/me/privacy")
    _fits_the_phone(page)
    greetings = page.locator("li[data-purpose=greetings]")
    state = greetings.locator("[data-testid=consent-state]")
    assert state.get_attribute("data-state") == "given" and state.inner_text() == "Given"
    withdraw = greetings.locator("[data-testid=withdraw]")
    box = withdraw.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot("before")

    with page.expect_navigation():
        withdraw.click()
    greetings = page.locator("li[data-purpose=greetings]")
    state = greetings.locator("[data-testid=consent-state]")
    assert state.get_attribute("data-state") == "withdrawn" and state.inner_text() == "Withdrawn"
    since = greetings.locator("[data-testid=consent-since]").inner_text()
    assert "By the borrower in the portal" in since
    assert "You withdrew your consent" in page.locator(".alert-success").inner_text()
    assert greetings.locator("[data-testid=give]").is_visible()
    # The loan's consent stays, with the branch to contact instead of a button.
    loan = page.locator("li[data-purpose=loan]")
    assert loan.locator("[data-testid=loan-consent-note]").is_visible()
    assert loan.locator("button").count() == 0
    _fits_the_phone(page)
    screenshot("withdrawn")
    with app.app_context():
        assert consents.given(borrower["id"], Purpose.GREETINGS) is False
        last = db.session.query(ConsentEvent).order_by(ConsentEvent.id.desc()).first()
        assert (last.purpose, last.given, last.method) == (
            Purpose.GREETINGS,
            False,
            ConsentMethod.PORTAL,
        )

    with page.expect_download() as download_info:
        page.click("[data-testid=copy-json]")
    saved = Path(tmp_path / "copy.json")
    download_info.value.save_as(saved)
    assert download_info.value.suggested_filename.endswith(".json")
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["profile"]["full_name"] == borrower["name"]
    assert data["profile"]["resident_id"] == borrower["resident_id"]
    greetings_now = [c for c in data["consents"] if c["purpose"] == "greetings"]
    assert greetings_now == [
        {
            "purpose": "greetings",
            "given": False,
            "decided_at": greetings_now[0]["decided_at"],
            "method": "portal",
            "text_version": greetings_now[0]["text_version"],
        }
    ]

    with page.expect_download() as download_info:
        page.click("[data-testid=copy-pdf]")
    pdf = Path(tmp_path / "copy.pdf")
    download_info.value.save_as(pdf)
    assert download_info.value.suggested_filename.endswith(".pdf")
    printed = text_of(pdf.read_bytes())
    assert borrower["name"] in printed and borrower["resident_id"] in printed
