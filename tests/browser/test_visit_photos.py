"""Photos on the visit, on a 768×1024 tablet: attached online and offline through the field kit.

The camera is stood in for by files the test makes (3-megapixel camera JPEGs with their
EXIF block), chosen through the page's own "Take a photo" button (a file chooser).
Offline, the network is really cut (tests/browser/netcut.py), as in test_field_kit.py.
"""

import re
import time

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.fieldkit.models import FieldEntry
from portal.visits import operations as visit_operations
from portal.visits.models import Visit, VisitPhoto
from tests.browser import test_field_kit as field_kit
from tests.browser.pages import sign as _sign
from tests.browser.pages import until as _until
from tests.browser.test_field_kit import Tablet, _choose, _plan, _prepare
from tests.visits.photo_helpers import camera_photo

pytestmark = pytest.mark.browser

# The field kit's really-offline tablet (a Chromium profile behind tests/browser/netcut.py).
netcut = field_kit.netcut
tablet = field_kit.tablet


@pytest.fixture
def camera(tmp_path):
    """Photos as the tablet's camera saves them: name → path of a 3-megapixel JPEG."""

    def take(seed: int) -> str:
        path = tmp_path / f"IMG_{seed:04d}.jpg"
        path.write_bytes(camera_photo(seed))
        return str(path)

    return take


def _fill_answers(page):
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
    page.fill("textarea[name=officer_observations]", "猪舍干净，存栏约120头。")


def _take_photo(page, path: str, kind: str | None = None):
    """Tap "Take a photo", give the camera's file, wait until the tablet has prepared it."""
    before = page.locator("[data-photo-slot][data-photo-ready]").count()
    with page.expect_file_chooser() as chooser:
        page.click("[data-photo-add]")
    chooser.value.set_files(path)
    slot = page.locator("[data-photo-slot][data-photo-ready]").nth(before)
    slot.wait_for(state="visible")
    if kind:
        slot.locator("select[data-photo-kind]").select_option(kind)
    return slot


def test_photos_attached_online_are_shown_before_signing_and_saved(
    page, app, world, camera, screenshot
):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/borrowers/{world.own_borrower.id}/visits/new")
    page.wait_for_selector("[data-visit-photos][data-photos-ready]")
    # With the script, only filled slots show; one button takes the next photo.
    assert page.locator("[data-photo-slot]:visible").count() == 0
    _fill_answers(page)

    first = _take_photo(page, camera(1), "business")
    _take_photo(page, camera(2), "stock")
    _take_photo(page, camera(3), "collateral")
    assert page.locator("[data-photo-slot]:visible").count() == 3
    # Shown before signing: the preview is the photo the tablet made smaller.
    size = first.locator("img[data-photo-preview]").evaluate(
        "img => img.complete && [img.naturalWidth, img.naturalHeight]"
    )
    assert size == [1600, 1200]
    uploaded = page.evaluate(
        "Array.from(document.querySelectorAll('[data-photo-input]'))"
        ".filter((i) => i.files.length).map((i) => [i.files[0].type, i.files[0].size])"
    )
    assert len(uploaded) == 3 and all(
        kind == "image/jpeg" and size < 716_800 for kind, size in uploaded
    )
    # Removed before signing: that one is not sent.
    page.locator("[data-photo-slot]:visible").nth(2).locator("[data-photo-remove]").click()
    assert page.locator("[data-photo-slot]:visible").count() == 2
    # The draft keeps the answers, never the photos.
    _until(
        page, f"!!localStorage.getItem('portal-draft:visit-new-borrower-{world.own_borrower.id}')"
    )
    draft = page.evaluate(
        f"localStorage.getItem('portal-draft:visit-new-borrower-{world.own_borrower.id}')"
    )
    assert "photo" not in draft and "data:image/jpeg" not in draft
    _sign(page)
    screenshot("online-photos-before-signing")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/visits/\d+$"))

    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        photos = db.session.scalars(
            sa.select(VisitPhoto)
            .where(VisitPhoto.visit_id == visit.id)
            .order_by(VisitPhoto.position)
        ).all()
        assert [p.kind for p in photos] == ["business", "stock"]
        assert all((p.width, p.height) == (1600, 1200) for p in photos)
        # The capture time and position came through the tablet's smaller copy.
        assert all(p.taken_at is not None and p.latitude is not None for p in photos)
        assert visit_operations.verify(visit)
        visit_id = visit.id
    # The visit's page shows them; each thumbnail links to the photo.
    gallery = page.locator("[data-testid=photos]")
    gallery.scroll_into_view_if_needed()
    assert gallery.locator("img").count() == 2
    _until(
        page,
        "Array.from(document.querySelectorAll('[data-testid=photos] img'))"
        ".every((img) => img.complete && img.naturalWidth === 320)",
    )
    href = gallery.locator("a").first.get_attribute("href")
    assert href == f"/visits/{visit_id}/photos/0.jpg"
    screenshot("online-photos-on-the-visit")


def test_photos_attached_offline_are_kept_with_the_entry_and_sent_once(
    app, world, tablet: Tablet, netcut, camera
):
    with app.app_context():
        from portal.borrowers.models import Borrower

        name = db.session.get(Borrower, world.own_borrower.id).full_name
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [world.own_borrower.id])
    _prepare(tablet, 1)

    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{world.own_borrower.id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    assert page.inner_text("[data-fact=name]") == name
    page.wait_for_selector("[data-visit-photos][data-photos-ready]")
    _fill_answers(page)
    _take_photo(page, camera(11), "business")
    _take_photo(page, camera(12), "guarantor")
    _sign(page)
    tablet.shot("photos-offline-signed")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/field#saved$"))
    page.wait_for_selector("body[data-field-rendered]")

    # In the outbox (IndexedDB): the photos as smaller JPEGs, among the hashed fields.
    stored = page.evaluate(
        f"""PortalField.readAll('{world.officer.id}').then(async (state) => {{
          const entry = state.outbox[0];
          const hash = await PortalField.contentHash(entry);
          return {{
            state: entry.state,
            names: Object.keys(entry.fields).filter((n) => n.startsWith('photo')).sort(),
            kinds: [entry.fields.photo_kind_1[0], entry.fields.photo_kind_2[0]],
            sizes: [entry.fields.photo_1[0].length, entry.fields.photo_2[0].length],
            jpeg: entry.fields.photo_1[0].startsWith('data:image/jpeg;base64,'),
            hashed: hash === entry.content_hash,
          }};
        }})"""
    )
    assert stored["state"] == "waiting"
    assert stored["names"] == ["photo_1", "photo_2", "photo_kind_1", "photo_kind_2"]
    assert stored["kinds"] == ["business", "guarantor"]
    assert stored["jpeg"] and stored["hashed"]
    assert all(size < 716_800 * 4 / 3 + 100 for size in stored["sizes"])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0

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
    # A second "send now" changes nothing on the server.
    page.click("button[data-field-send]")
    page.wait_for_selector("[data-field-status] .alert-success")

    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        photos = db.session.scalars(
            sa.select(VisitPhoto)
            .where(VisitPhoto.visit_id == visit.id)
            .order_by(VisitPhoto.position)
        ).all()
        assert [p.kind for p in photos] == ["business", "guarantor"]
        assert all(p.taken_at is not None for p in photos)
        assert visit_operations.verify(visit)
        assert db.session.scalar(sa.select(sa.func.count(FieldEntry.id))) == 1
    # Sent: the tablet no longer keeps the photos, only how many there were.
    kept = page.evaluate(
        f"PortalField.readAll('{world.officer.id}').then((s) => [s.outbox[0].state,"
        " Object.keys(s.outbox[0].fields).filter((n) => /^photo_\\d+$/.test(n)).length,"
        " s.outbox[0].photos_sent])"
    )
    assert kept == ["sent", 0, 2]
    tablet.shot("photos-offline-sent")
    assert tablet.errors == []
