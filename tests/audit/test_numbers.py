"""The audit log masks borrowers' numbers and keeps them out of URLs (issue 11).

Borrowers log in with their mobile number, so it is the actor's name of their entries and
appears in some summaries (their login's creation, activation).
"""

import re

import pytest

from portal.accounts.models import Role
from portal.audit.operations import record
from portal.extensions import db
from tests.borrowers.helpers import onboarding_data, page_text
from tests.factories import make_user

MOBILE = "13905271234"
MASKED = "139****1234"
URL_ATTRIBUTE = re.compile(r'(?:href|src|action|formaction)="([^"]*)"')
LANGUAGE_NEXT = re.compile(r'name="next" value="([^"]*)"')


@pytest.fixture
def borrower_login(app, world):
    """A borrower whose login is their mobile number."""
    with app.app_context():
        make_user(MOBILE, Role.BORROWER)
        db.session.commit()


def _urls(response) -> list[str]:
    urls = []
    for step in (*response.history, response):
        urls += [step.request.full_path, step.headers.get("Location", "")]
    page = page_text(response)
    return urls + URL_ATTRIBUTE.findall(page) + LANGUAGE_NEXT.findall(page)


def _assert_masked(page: str) -> None:
    assert MOBILE not in page and MOBILE[3:] not in page
    assert MASKED in page


def test_a_borrowers_login_is_masked_in_the_log(client, world, app, borrower_login):
    client.login(MOBILE)
    client.logout()
    client.login("admin")
    page = page_text(client.get("/admin/audit/"))
    assert "auth.login" in page
    _assert_masked(page)


def test_numbers_in_summaries_are_masked(client, world, app):
    client.login("officer")
    assert client.submit("/borrowers/new", onboarding_data()).status_code == 200
    with app.test_request_context():
        record("test.note", None, f"ID 11010119850302106X, guarantor 052785210001, id=12 {MOBILE}")
        db.session.commit()
    client.logout()
    client.login("admin")
    page = page_text(client.get("/admin/audit/"))
    # The borrower's login was created; its name is not their number (docs/privacy.md).
    assert "(borrower)" in page and MOBILE not in page
    assert "110101********106X" in page and "052*****0001" in page and "id=12" in page
    assert "11010119850302106X" not in page and "052785210001" not in page
    _assert_masked(page)


def test_searching_a_borrowers_actions_keeps_the_number_out_of_urls(
    client, world, app, borrower_login
):
    client.login(MOBILE)
    client.logout()
    client.login("admin")
    response = client.submit("/admin/audit/", {"actor": MOBILE})
    assert response.status_code == 200  # answered to the POST, not redirected
    page = page_text(response)
    assert "auth.login" in page and "auth.logout" in page
    assert "branch.create" not in page
    _assert_masked(page.replace(f'value="{MOBILE}"', ""))  # only the typed search holds it
    for url in _urls(response):
        assert MOBILE not in url and MOBILE[-4:] not in url, url


def test_other_searches_go_to_their_get_address(client, world, app, borrower_login):
    client.login(MOBILE)
    client.logout()
    client.login("admin")
    response = client.submit("/admin/audit/", {"action": "auth.login", "since": "2020-01-01"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/audit/?action=auth.login&since=2020-01-01"
    page = page_text(client.get(response.headers["Location"]))
    assert "auth.login" in page and "auth.logout" not in page
    _assert_masked(page)


def test_a_number_in_the_address_is_dropped(client, world):
    client.login("admin")
    response = client.get(f"/admin/audit/?actor={MOBILE}&action=auth")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/audit/?action=auth"


def test_a_search_for_a_login_is_paged_by_posting_it_again(client, world, app, borrower_login):
    with app.test_request_context():
        from portal.accounts.models import User

        login = db.session.scalar(db.select(User).filter_by(username=MOBILE))
        for index in range(55):
            record("test.step", login, f"step {index}", actor=login)
        db.session.commit()
    client.login("admin")
    first = page_text(client.submit("/admin/audit/", {"actor": MOBILE}))
    assert first.count("<code>test.step</code>") == 50  # a page is twice PER_PAGE
    assert 'form="audit-search" name="page" value="2"' in first
    second = client.submit("/admin/audit/", {"actor": MOBILE, "page": "2"})
    assert page_text(second).count("<code>test.step</code>") == 5
    for url in _urls(second):
        assert MOBILE not in url, url
