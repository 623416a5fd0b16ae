"""The borrower's site: established by the first agreeing fixes, pinned once, confirmed by the head.

Through the real operations and pages: visits signed with ``sign_visit``, pins and
confirmations posted as the browser does.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.evidence import rules, sites
from portal.evidence.models import BorrowerSite, SiteSource
from portal.evidence.rules import FlagCode
from portal.extensions import db
from tests.evidence.signing import HOME, east_of, flags_of, sign, yesterday_at


@pytest.fixture
def people(app_ctx, world):
    return db.session.get(User, world.officer.id), db.session.get(Borrower, world.own_borrower.id)


@contextmanager
def database(app, world):
    """The officer and borrower in an app context of their own, committed at the end.

    Requests run outside it: a test client request inside an outer app context would
    share its ``g`` (the logged-in user, the CSRF token) with every later request.
    """
    with app.app_context():
        yield (
            db.session.get(User, world.officer.id),
            db.session.get(Borrower, world.own_borrower.id),
        )
        db.session.commit()


def _site_now(app, borrower_id: int) -> BorrowerSite | None:
    with app.app_context():
        row = db.session.get(BorrowerSite, borrower_id)
        if row is not None:
            db.session.expunge(row)
        return row


def _site(borrower_id: int) -> BorrowerSite | None:
    db.session.expire_all()
    return db.session.get(BorrowerSite, borrower_id)


# --- Established by the visits ------------------------------------------------------------


def test_two_good_fixes_that_agree_establish_the_site_at_their_midpoint(people):
    officer, borrower = people
    first = sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    assert _site(borrower.id) is None  # one fix might be the market
    second = sign(borrower, officer, yesterday_at(11), at=east_of(HOME, 0.2), accuracy=25)
    site = _site(borrower.id)
    assert site.source == SiteSource.VISITS
    assert site.latitude == pytest.approx(HOME[0])
    assert site.longitude == pytest.approx((HOME[1] + east_of(HOME, 0.2)[1]) / 2, abs=1e-6)
    assert sites.site_from_visits(borrower.id).visit_ids == (first.id, second.id)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "evidence.site_established")
    ).one()
    assert f"visits={first.id}+{second.id}" in entry.summary


def test_fixes_too_far_apart_do_not_agree(people):
    officer, borrower = people
    sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    sign(borrower, officer, yesterday_at(11), at=east_of(HOME, 0.35), accuracy=10)
    assert _site(borrower.id) is None
    # A third fix agreeing with the first settles it: the market visit stays out.
    third = sign(borrower, officer, yesterday_at(15), at=east_of(HOME, 0.05), accuracy=10)
    site = _site(borrower.id)
    assert site is not None
    assert sites.site_from_visits(borrower.id).visit_ids[1] == third.id


def test_vague_fixes_do_not_establish_a_site(people):
    officer, borrower = people
    limit = rules.SITE_FIX_ACCURACY_M
    sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=limit + 1)
    sign(borrower, officer, yesterday_at(11), at=HOME, accuracy=limit + 50)
    assert _site(borrower.id) is None
    sign(borrower, officer, yesterday_at(13), at=HOME, accuracy=limit)
    assert _site(borrower.id) is None  # one good fix so far
    sign(borrower, officer, yesterday_at(15), at=HOME, accuracy=limit)
    assert _site(borrower.id) is not None


def test_amendments_do_not_establish_a_site(people):
    officer, borrower = people
    original = sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    sign(
        borrower,
        officer,
        yesterday_at(9),
        at=HOME,
        accuracy=10,
        amends=original,
        signed_after=timedelta(hours=2),
    )
    assert _site(borrower.id) is None


def test_the_site_once_established_stays(people):
    officer, borrower = people
    sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    sign(borrower, officer, yesterday_at(10), at=HOME, accuracy=10)
    before = _site(borrower.id)
    position = (before.latitude, before.longitude)
    away = east_of(HOME, 5)
    sign(borrower, officer, yesterday_at(13), at=away, accuracy=10)
    sign(borrower, officer, yesterday_at(16), at=away, accuracy=10)
    after = _site(borrower.id)
    assert (after.latitude, after.longitude) == position


def test_visit_page_shows_the_distance_from_the_site(app, client, world):
    with database(app, world) as (officer, borrower):
        sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
        sign(borrower, officer, yesterday_at(10), at=HOME, accuracy=10)
        far = sign(borrower, officer, yesterday_at(14), at=east_of(HOME, 3), accuracy=40).id
    client.login(world.officer.name)
    client.submit("/account", {"locale": "en"})
    page = client.get(f"/visits/{far}").get_data(as_text=True)
    assert 'data-testid="visit-site-distance"' in page
    assert "3 km" in page and "±40 m" in page and "Far from the site" in page
    client.logout()
    client.login(world.borrower.name)
    page = client.get(f"/visits/{far}").get_data(as_text=True)
    assert 'data-testid="visit-site-distance"' not in page


def test_visit_page_without_a_site_says_so(app, client, world):
    with database(app, world) as (officer, borrower):
        visit = sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10).id
    client.login(world.officer.name)
    client.submit("/account", {"locale": "en"})
    assert "No site known yet" in client.get(f"/visits/{visit}").get_data(as_text=True)


# --- Pinned by the officer, confirmed by the head -------------------------------------------------


def _pin_here(client, borrower_id: int, at=HOME, accuracy: int | str = 12):
    return client.submit(
        f"/borrowers/{borrower_id}/site/pin",
        {
            "where": "here",
            "latitude": str(at[0]),
            "longitude": str(at[1]),
            "accuracy": str(accuracy),
        },
        page=f"/borrowers/{borrower_id}/site",
    )


def _as_head(client, world, borrower_id: int, action: str):
    client.logout()
    client.login(world.head.name)
    page = f"/borrowers/{borrower_id}/site"
    return client.submit(f"{page}/{action}", page=page)


def test_a_pin_takes_effect_when_the_head_confirms_it(app, client, world):
    b = world.own_borrower.id
    client.login(world.officer.name)
    assert _pin_here(client, b, at=east_of(HOME, 8)).status_code == 302
    row = _site_now(app, b)
    assert row.source == SiteSource.PINNED and row.confirmed_at is None
    assert row.pinned_by_id == world.officer.id
    with database(app, world) as (officer, borrower):
        assert sites.site_in_force(b) is None  # no visits' site to stand meanwhile
        # Waiting: a visit 8 km from the pin is not measured against it.
        waiting = sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
        assert FlagCode.FAR_FROM_SITE not in flags_of(waiting)

    client.logout()
    client.login(world.head.name)
    page = client.get(f"/borrowers/{b}/site").get_data(as_text=True)
    assert 'data-testid="pin-waiting"' in page
    response = client.submit(f"/borrowers/{b}/site/confirm", page=f"/borrowers/{b}/site")
    assert response.status_code == 302
    row = _site_now(app, b)
    assert row.confirmed_by_id == world.head.id and row.confirmed_at is not None
    with database(app, world) as (officer, borrower):
        assert sites.site_in_force(b).source == SiteSource.PINNED
        # From now on: the visit at home is 8 km from the pinned site.
        after = sign(borrower, officer, yesterday_at(11), at=HOME, accuracy=10)
        assert flags_of(after)[FlagCode.FAR_FROM_SITE]["site"] == "pinned"
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert {"evidence.site_pin", "evidence.site_confirm"} <= actions


def test_while_a_pin_waits_the_visits_site_stands(app, client, world):
    with database(app, world) as (officer, borrower):
        sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
        sign(borrower, officer, yesterday_at(10), at=HOME, accuracy=10)
    client.login(world.officer.name)
    assert _pin_here(client, world.own_borrower.id, at=east_of(HOME, 8)).status_code == 302
    with database(app, world) as (officer, borrower):
        assert sites.site_in_force(borrower.id).source == SiteSource.VISITS
        away = sign(borrower, officer, yesterday_at(14), at=east_of(HOME, 8), accuracy=10)
        assert flags_of(away)[FlagCode.FAR_FROM_SITE]["site"] == "visits"


def test_the_officer_pins_once(app, client, world):
    b = world.own_borrower.id
    client.login(world.officer.name)
    assert _pin_here(client, b).status_code == 302
    page = client.get(f"/borrowers/{b}/site").get_data(as_text=True)
    assert 'data-testid="pin-form"' not in page
    response = _pin_here(client, b, at=east_of(HOME, 1))
    assert response.status_code == 200
    assert _site_now(app, b).longitude == HOME[1]  # unchanged


def test_a_vague_position_cannot_be_pinned(app, client, world):
    b = world.own_borrower.id
    client.login(world.officer.name)
    client.submit("/account", {"locale": "en"})
    response = _pin_here(client, b, accuracy=rules.SITE_FIX_ACCURACY_M + 1)
    assert response.status_code == 200
    assert "not precise enough" in response.get_data(as_text=True)
    assert _site_now(app, b) is None


@pytest.mark.parametrize("position", [("", ""), ("abc", "118.6"), ("91", "118.6"), ("33.7", "")])
def test_pinning_here_needs_a_recorded_position(app, client, world, position):
    b = world.own_borrower.id
    client.login(world.officer.name)
    client.submit("/account", {"locale": "en"})
    response = client.submit(
        f"/borrowers/{b}/site/pin",
        {"where": "here", "latitude": position[0], "longitude": position[1], "accuracy": "10"},
        page=f"/borrowers/{b}/site",
    )
    assert response.status_code == 200
    assert "Record the position first" in response.get_data(as_text=True)
    assert _site_now(app, b) is None


def test_pin_at_a_visits_fix(app, client, world):
    b = world.own_borrower.id
    with database(app, world) as (officer, borrower):
        visit = sign(borrower, officer, yesterday_at(9), at=east_of(HOME, 2), accuracy=8).id
    client.login(world.officer.name)
    page = client.get(f"/borrowers/{b}/site").get_data(as_text=True)
    assert f'value="{visit}"' in page
    response = client.submit(
        f"/borrowers/{b}/site/pin", {"where": str(visit)}, page=f"/borrowers/{b}/site"
    )
    assert response.status_code == 302
    row = _site_now(app, b)
    assert (row.latitude, row.longitude) == east_of(HOME, 2)
    with app.app_context():
        summary = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "evidence.site_pin")
        ).one()
    assert f"visit={visit}" in summary


def test_a_vague_fix_or_another_borrowers_visit_is_not_offered(app, client, world):
    b = world.own_borrower.id
    with database(app, world) as (officer, borrower):
        vague = sign(
            borrower, officer, yesterday_at(9), at=HOME, accuracy=rules.SITE_FIX_ACCURACY_M + 1
        ).id
        other = sign(
            db.session.get(Borrower, world.foreign_borrower.id),
            db.session.get(User, world.other_officer.id),
            yesterday_at(9),
            at=HOME,
            accuracy=5,
        ).id
    client.login(world.officer.name)
    for visit in (vague, other):
        response = client.submit(
            f"/borrowers/{b}/site/pin", {"where": str(visit)}, page=f"/borrowers/{b}/site"
        )
        assert response.status_code == 200
        assert _site_now(app, b) is None


def test_the_head_removes_a_pin_and_the_officer_may_pin_again(app, client, world):
    b = world.own_borrower.id
    with database(app, world) as (officer, borrower):
        sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
        sign(borrower, officer, yesterday_at(10), at=HOME, accuracy=10)
    client.login(world.officer.name)
    _pin_here(client, b, at=east_of(HOME, 8))
    assert _as_head(client, world, b, "confirm").status_code == 302
    response = client.submit(f"/borrowers/{b}/site/remove-pin", page=f"/borrowers/{b}/site")
    assert response.status_code == 302
    row = _site_now(app, b)
    assert row.source == SiteSource.VISITS and row.pinned_by_id is None
    assert row.longitude == pytest.approx(HOME[1])
    client.logout()
    client.login(world.officer.name)
    assert _pin_here(client, b).status_code == 302
    assert _site_now(app, b).source == SiteSource.PINNED
    with app.app_context():
        assert "evidence.site_unpin" in set(db.session.scalars(sa.select(AuditEntry.action)))


def test_removing_a_pin_without_visits_leaves_no_site(app, client, world):
    b = world.own_borrower.id
    client.login(world.head.name)
    assert _pin_here(client, b).status_code == 302
    assert _site_now(app, b) is not None
    client.submit(f"/borrowers/{b}/site/remove-pin", page=f"/borrowers/{b}/site")
    assert _site_now(app, b) is None


def test_nothing_to_confirm_or_remove_is_refused_with_a_message(client, world):
    client.login(world.head.name)
    client.submit("/account", {"locale": "en"})
    site_page = f"/borrowers/{world.own_borrower.id}/site"
    expected = {
        "confirm": "There is no pinned site waiting for confirmation.",
        "remove-pin": "This borrower&#39;s site is not pinned.",
    }
    for action, message in expected.items():
        response = client.submit(f"{site_page}/{action}", page=site_page, follow_redirects=True)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)


def test_the_officer_cannot_confirm_their_own_pin(app, client, world):
    b = world.own_borrower.id
    client.login(world.officer.name)
    _pin_here(client, b)
    response = client.submit(f"/borrowers/{b}/site/confirm", page=f"/borrowers/{b}/site")
    assert response.status_code == 403
    assert _site_now(app, b).confirmed_at is None


def test_another_branchs_head_cannot_confirm(app, client, world):
    b = world.own_borrower.id
    client.login(world.officer.name)
    _pin_here(client, b)
    client.logout()
    client.login(world.other_head.name)
    response = client.submit(f"/borrowers/{b}/site/confirm", page="/account")
    assert response.status_code == 403
    assert _site_now(app, b).confirmed_at is None


def test_the_borrowers_visits_page_links_to_the_site(client, world):
    site = f"/borrowers/{world.own_borrower.id}/site"
    client.login(world.officer.name)
    page = client.get(f"/borrowers/{world.own_borrower.id}/visits").get_data(as_text=True)
    assert site in page
    client.logout()
    client.login(world.borrower.name)
    assert site not in client.get("/me/visits").get_data(as_text=True)
