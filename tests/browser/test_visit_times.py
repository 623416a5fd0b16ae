"""The visit form's times and position status as a tablet records them (visit-evidence.js).

The tablet's clock is Playwright's: it is set to a known time, so the stored times can
be checked to the second; the server's own clock is the real one.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.database import utcnow
from portal.extensions import db
from portal.visits.models import Visit
from tests.browser.fixtures import ARTIFACTS
from tests.browser.netcut import NetCut
from tests.browser.test_field_kit import Tablet, _choose, _plan, _prepare, _sign
from tests.browser.test_visit_form import _login, _until
from tests.browser.test_visit_form import _sign as _sign_online

pytestmark = pytest.mark.browser


@pytest.fixture
def tablet(browser, live_server, tmp_path):
    """A tablet of the field kit (tests/browser/test_field_kit.py) behind its own proxy."""
    proxy = NetCut(live_server)
    device = Tablet(browser, live_server, proxy, tmp_path / "profile")
    yield device
    device.close()
    proxy.cut()


def _tablet_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _only_visit(app) -> Visit:
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        db.session.expunge(visit)
        return visit


def _answer(page):
    for name, value in (
        ("business_state", "normal"),
        ("revenue_trend", "stable"),
        ("funds_use", "as_contracted"),
        ("repayment_status", "on_time"),
        ("guarantor_status", "normal"),
        ("collateral_status", "intact"),
        ("satisfaction", "4"),
    ):
        _choose(page, name, value)


def test_the_online_form_keeps_its_first_opening_and_records_the_signing(
    page, app, world, screenshot
):
    # The tablet's clock runs 40 minutes behind the server's.
    behind = (utcnow() - timedelta(minutes=40)).replace(microsecond=0)
    page.clock.install(time=behind)
    _login(page, "officer")
    url = f"{page.base_url}/borrowers/{world.own_borrower.id}/visits/new"
    served_after = utcnow().replace(microsecond=0)
    page.goto(url)
    opened = page.input_value("input[name=opened_at]")
    token = page.input_value("input[name=opened_token]")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", opened)
    assert behind <= _tablet_time(opened) < behind + timedelta(minutes=5)
    assert page.input_value("input[name=location_status]") == "not_asked"

    # No permission to locate: the status says so.
    page.click("button[data-geolocate]")
    page.wait_for_selector("#visit-geo-status.text-danger")
    assert page.input_value("input[name=location_status]") == "denied"
    page.click("[data-testid=place-note] summary")
    page.fill("input[name=place_note]", "借款人在镇上集市摆摊，在摊位见面。")
    page.locator("[data-testid=place-note]").screenshot(
        path=str(ARTIFACTS / "test_visit_times-place-note.png")
    )
    draft_key = f"visit-new-borrower-{world.own_borrower.id}"
    _until(
        page,
        f"(JSON.parse(localStorage.getItem('portal-draft:{draft_key}') || '{{}}').fields || {{}})"
        ".place_note?.[0]?.startsWith('借款人') === true",
    )

    # Ten minutes later the page is reloaded: the draft brings back the first opening.
    page.clock.fast_forward("10:00")
    page.reload()
    page.wait_for_selector("[data-draft-notice] .alert-info")
    assert page.input_value("input[name=opened_at]") == opened
    assert page.input_value("input[name=opened_token]") == token
    assert page.input_value("input[name=location_status]") == "denied"

    _answer(page)
    page.fill("textarea[name=officer_observations]", "摊位货品齐全，生意正常。")
    _sign_online(page)
    page.clock.fast_forward("05:00")
    before_submit = _tablet_time(page.evaluate("new Date().toISOString()"))
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/visits/\d+$"))

    visit = _only_visit(app)
    assert visit.opened_at == _tablet_time(opened)
    assert abs(visit.signed_at_device - before_submit) < timedelta(seconds=5)
    assert visit.signed_at_device - visit.opened_at >= timedelta(minutes=15)
    # The server's opening time is its own clock's, when it first served the form.
    assert (
        served_after - timedelta(seconds=1)
        <= visit.opened_at_server
        <= served_after + (timedelta(minutes=1))
    )
    assert visit.opened_at_server < visit.received_at
    assert visit.location_status == "denied"
    assert visit.place_note == "借款人在镇上集市摆摊，在摊位见面。"
    assert page.locator("[data-testid=visit-times]").is_visible()
    screenshot("visit-page")


def test_the_field_kit_form_records_its_opening_offline_and_the_entry_its_signing(
    app, world, tablet
):
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [world.own_borrower.id])
    _prepare(tablet, 1)
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{world.own_borrower.id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    opened = page.input_value("input[name=opened_at]")
    assert abs(_tablet_time(opened) - datetime.now(UTC)) < timedelta(minutes=2)
    assert page.input_value("input[name=opened_token]") == ""
    assert page.input_value("input[name=location_status]") == "not_asked"
    _answer(page)
    page.fill("textarea[name=officer_observations]", "存栏正常。")
    _sign(tablet)
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/field#saved$"))
    page.wait_for_selector("body[data-field-rendered]")
    tablet.online()
    tablet.until(
        "document.querySelectorAll('[data-testid=outbox] li[data-state=sent]').length === 1"
        " || document.querySelectorAll('[data-testid=outbox] li[data-problem=login]').length === 1",
        30,
    )
    if page.locator("[data-testid=outbox] li[data-problem=login]").count():
        tablet.login("officer")
        tablet.go("/field")
        tablet.until(
            "document.querySelectorAll('[data-testid=outbox] li[data-state=sent]').length === 1",
            30,
        )
    visit = _only_visit(app)
    assert visit.opened_at == _tablet_time(opened)
    assert visit.signed_at_device == visit.signed_at  # the entry's signing time
    assert visit.opened_at <= visit.signed_at_device <= visit.received_at
    assert visit.opened_at_server is None
    assert visit.location_status == "not_asked"
    assert tablet.errors == []
