"""Visit evidence end to end, on a 768×1024 tablet: a photo used twice is caught and checked.

The officer signs a visit online with a photo from the tablet's camera, then, with the
network really cut (tests/browser/netcut.py), signs another borrower's visit in the
field kit with the same photo; back online the kit sends it and the server flags the
reused photo. The branch head opens "visits to check", finds that visit with its
reasons, opens its check, sees the two photos side by side, and confirms it genuine.
"""

import re
import time

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.models import Visit, VisitPhoto
from tests.browser import test_field_kit as field_kit
from tests.browser.test_field_kit import Tablet, _choose, _plan, _prepare
from tests.browser.test_visit_photos import _fill_answers, _sign, _take_photo, _until, camera
from tests.factories import make_borrower, make_loan

pytestmark = pytest.mark.browser

netcut = field_kit.netcut
tablet = field_kit.tablet
__all__ = ["camera", "netcut", "tablet"]  # fixtures, used by name

SAME_PHOTO = 31


def _second_borrower(app, world) -> int:
    with app.app_context():
        borrower = make_borrower(db.session.get(User, world.officer.id))
        make_loan(borrower, LoanStatus.ACTIVE)
        db.session.commit()
        return borrower.id


def _visit_online(tablet: Tablet, borrower_id: int, photo: str) -> int:
    page = tablet.page
    tablet.go(f"/borrowers/{borrower_id}/visits/new")
    page.wait_for_selector("[data-visit-photos][data-photos-ready]")
    _fill_answers(page)
    _take_photo(page, photo, "business")
    _sign(page)
    tablet.shot("evidence-online-signed")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/visits/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _visit_offline(tablet: Tablet, borrower_id: int, photo: str) -> None:
    page = tablet.page
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{borrower_id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    page.wait_for_selector("[data-visit-photos][data-photos-ready]")
    _fill_answers(page)
    _take_photo(page, photo, "stock")
    _sign(page)
    tablet.shot("evidence-offline-signed")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/field#saved$"))
    page.wait_for_selector("body[data-field-rendered]")


def _sent(tablet: Tablet) -> None:
    """Back online: wait until the kit has sent its entry (logging in again if asked)."""
    page = tablet.page
    tablet.online()
    deadline = time.monotonic() + 30
    while (
        page.evaluate(
            "Array.from(document.querySelectorAll('[data-testid=outbox] li[data-client-id]'))"
            ".map((i) => i.dataset.state).join()"
        )
        != "sent"
    ):
        if time.monotonic() > deadline:
            tablet.login("officer")
            tablet.go("/field")
            deadline = time.monotonic() + 30
        page.wait_for_timeout(200)


def _flagged(app, visit_id: int) -> dict:
    with app.app_context():
        return {
            flag.code: flag.detail
            for flag in db.session.scalars(
                sa.select(VisitFlag).where(VisitFlag.visit_id == visit_id)
            )
        }


def test_a_reused_photo_is_flagged_seen_side_by_side_and_confirmed(
    page, app, world, tablet: Tablet, netcut, camera, screenshot
):
    second = _second_borrower(app, world)
    photo = camera(SAME_PHOTO)

    tablet.open()
    tablet.login("officer")
    first_visit = _visit_online(tablet, world.own_borrower.id, photo)
    _plan(tablet, [second])
    _prepare(tablet, 1)
    _visit_offline(tablet, second, photo)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1
    _sent(tablet)
    assert tablet.errors == []

    with app.app_context():
        reused_visit = db.session.scalar(sa.select(Visit.id).where(Visit.borrower_id == second))
        photos = {
            p.visit_id: p.id
            for p in db.session.scalars(sa.select(VisitPhoto).order_by(VisitPhoto.id))
        }
    reused = _flagged(app, reused_visit)["photo_reused"]
    assert (reused["other_visit_id"], reused["other_photo_id"], reused["photo_id"]) == (
        first_visit,
        photos[first_visit],
        photos[reused_visit],
    )

    # The head: the menu counts the visits to check; the list gives the reasons in words.
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "head")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/evidence/to-check")
    item = page.locator(f"[data-testid=to-check] li[data-visit='{reused_visit}']")
    item.wait_for()
    assert item.locator("li[data-flag=photo_reused]").count() == 1
    assert item.locator("[data-state=open]").count() == 1
    screenshot("visits-to-check")

    item.get_by_role("link").last.click()
    page.wait_for_url(f"{page.base_url}/evidence/visits/{reused_visit}")
    pair = page.locator("[data-testid=photo-pair]")
    assert pair.count() == 1
    this_photo = pair.locator("[data-testid=this-photo] img")
    earlier_photo = pair.locator("[data-testid=earlier-photo] img")
    assert this_photo.get_attribute("src") == f"/visits/{reused_visit}/photos/0/thumb.jpg"
    assert earlier_photo.get_attribute("src") == f"/visits/{first_visit}/photos/0/thumb.jpg"
    pair.scroll_into_view_if_needed()
    _until(
        page,
        "Array.from(document.querySelectorAll('[data-testid=photo-pair] img'))"
        ".every((img) => img.complete && img.naturalWidth > 0)",
    )
    # Side by side on the tablet: the same row, the earlier photo to the right.
    mine, theirs = this_photo.bounding_box(), earlier_photo.bounding_box()
    assert abs(mine["y"] - theirs["y"]) < 2 and theirs["x"] > mine["x"] + mine["width"] / 2
    screenshot("the-pair-of-photos")

    _choose(page, "action", "confirmed")
    page.fill("textarea[name=note]", "同一张照片：已电话回访，两次走访都属实，照片是信贷员误选。")
    page.click("form[action$='/review'] [type=submit]")
    page.wait_for_url(re.compile(r".*/evidence/to-check\?month=\d{4}-\d{2}$"))
    assert page.locator(f"[data-testid=to-check] li[data-visit='{reused_visit}']").count() == 0
    page.goto(page.base_url + "/evidence/to-check?show=confirmed")
    confirmed = page.locator(f"[data-testid=to-check] li[data-visit='{reused_visit}']")
    assert confirmed.locator("[data-state=confirmed]").count() == 1
    screenshot("confirmed")

    with app.app_context():
        review = db.session.scalars(sa.select(VisitReview)).one()
        assert (review.visit_id, review.action, review.reviewed_by_id) == (
            reused_visit,
            ReviewAction.CONFIRMED,
            world.head.id,
        )
