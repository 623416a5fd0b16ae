"""Only the newest version of a visit is amended; a corrected one points to its successor."""

import re
from datetime import timedelta

import pytest

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.visits.models import Visit
from tests.visits.conftest import english
from tests.visits.helpers import make_visit

SUPERSEDED = "This visit was corrected; see the newer version"


@pytest.fixture
def versions(app, world) -> list[int]:
    """An original visit and two amendments of it, oldest first."""
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        original = make_visit(borrower, officer, utcnow() - timedelta(days=2))
        first = make_visit(borrower, officer, original.visited_at, amends=original)
        second = make_visit(borrower, officer, original.visited_at, amends=first)
        db.session.commit()
        return [original.id, first.id, second.id]


def _banner_link(page: str) -> str | None:
    found = re.search(r'data-testid="superseded">\s*<a class="alert-link" href="([^"]+)"', page)
    return found.group(1) if found else None


def test_only_the_newest_version_offers_the_amend_link(client, versions):
    client.login("officer")
    english(client)
    *superseded, newest = versions
    for visit_id in superseded:
        page = client.get(f"/visits/{visit_id}").text
        assert f"/visits/{visit_id}/amend" not in page
        assert "Amend this visit" not in page
    page = client.get(f"/visits/{newest}").text
    assert f'href="/visits/{newest}/amend"' in page
    assert "Amend this visit" in page


@pytest.mark.parametrize("username", ["officer", "head", "borrower"])
def test_a_corrected_visit_links_to_its_newest_version(client, versions, username):
    client.login(username)
    english(client)
    *superseded, newest = versions
    for visit_id in superseded:
        page = client.get(f"/visits/{visit_id}").text
        assert SUPERSEDED in page
        assert _banner_link(page) == f"/visits/{newest}"
    page = client.get(f"/visits/{newest}").text
    assert SUPERSEDED not in page and _banner_link(page) is None


def test_a_visit_never_amended_has_no_banner_and_keeps_its_link(client, app, world):
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1),
        )
        db.session.commit()
        visit_id = visit.id
    client.login("head")
    english(client)
    page = client.get(f"/visits/{visit_id}").text
    assert _banner_link(page) is None
    assert f'href="/visits/{visit_id}/amend"' in page


def test_the_banner_is_there_in_the_default_language_too(client, app, versions):
    client.login("officer")
    page = client.get(f"/visits/{versions[0]}").text
    assert _banner_link(page) == f"/visits/{versions[-1]}"
    assert f"/visits/{versions[0]}/amend" not in page
    with app.app_context():
        assert db.session.get(Visit, versions[-1]).amends_id == versions[0]


def test_only_the_newest_version_can_be_amended(client, app, versions):
    """An old version's amend address leads to the newest one; a post to it stores nothing."""
    client.login("officer")
    *superseded, newest = versions
    for visit_id in superseded:
        response = client.get(f"/visits/{visit_id}/amend")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/visits/{newest}/amend"
    page = f"/visits/{newest}/amend"
    assert client.get(page).status_code == 200
    with app.app_context():
        before = db.session.query(Visit).count()
    response = client.submit(f"/visits/{superseded[0]}/amend", {}, page=page)
    assert response.headers["Location"] == f"/visits/{newest}/amend"
    with app.app_context():
        assert db.session.query(Visit).count() == before
