"""Phone and ID numbers never go into a URL (issue 11).

URLs end up in access logs, browser history and Referer headers. The search forms are
posted: a search by number is answered to the POST, one by name is redirected to its GET
address. Every Location, link, form address and the language switch's ``next`` of the
answer are checked for the number.
"""

import re

import pytest

from portal.borrowers.models import Borrower
from tests.borrowers.helpers import fetch, page_text, search
from tests.factories import make_borrower

URL_ATTRIBUTE = re.compile(r'(?:href|src|action|formaction)="([^"]*)"')
LANGUAGE_NEXT = re.compile(r'name="next" value="([^"]*)"')
ROW = re.compile(r'href="/borrowers/(\d+)"')
TICK = re.compile(r'name="borrower_ids" value="(\d+)"')

MOBILE = "13912345678"
RESIDENT_ID = "11010119850302106X"


@pytest.fixture
def wang(app, world) -> Borrower:
    """The officer's borrower with known numbers."""
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(
            officer,
            full_name="王小明",
            name_initials="wxm",
            mobile=MOBILE,
            mobile_tail=MOBILE[-4:],
            resident_id=RESIDENT_ID,
            resident_id_tail=RESIDENT_ID[-4:],
        ).id
        db.session.commit()
    return fetch(app, Borrower, id=borrower)


def urls_of(response) -> list[str]:
    """Every address the answer and its redirects hold: requested, Location, links, next."""
    urls = []
    for step in (*response.history, response):
        urls += [step.request.full_path, step.headers.get("Location", "")]
    page = page_text(response)
    return urls + URL_ATTRIBUTE.findall(page) + LANGUAGE_NEXT.findall(page)


def assert_no_number_in_urls(response, *numbers: str) -> None:
    urls = urls_of(response)
    for number in numbers:
        digits = number.replace(" ", "").upper()
        for part in {digits, digits[-4:], digits[-6:], digits[-8:]}:
            leaking = [url for url in urls if part in url.upper()]
            assert not leaking, (part, leaking)


@pytest.mark.parametrize(
    "query",
    [RESIDENT_ID, RESIDENT_ID[-6:], RESIDENT_ID[-4:].lower(), MOBILE, "139 1234 5678"[-9:], "5678"],
)
def test_a_search_by_number_is_answered_without_a_url_holding_it(client, wang, query):
    client.login("officer")
    response = search(client, query)
    assert response.status_code == 200 and not response.history  # no redirect
    assert ROW.findall(page_text(response)) == [str(wang.id)]
    assert_no_number_in_urls(response, query, MOBILE if query[-1].isdigit() else RESIDENT_ID)


def test_a_search_by_name_goes_to_its_get_address(client, wang):
    client.login("officer")
    response = search(client, "wxm", tier="potential")
    [redirect] = response.history
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "/borrowers/?q=wxm&tier=potential"
    assert ROW.findall(page_text(response)) == [str(wang.id)]


def test_a_number_in_a_get_address_is_dropped(client, wang):
    client.login("officer")
    response = client.get(f"/borrowers/?q={RESIDENT_ID}&tier=potential")
    assert response.status_code == 302
    assert response.headers["Location"] == "/borrowers/?tier=potential"
    response = client.get(f"/borrowers/?q={MOBILE[-4:]}")
    assert response.headers["Location"] == "/borrowers/"


def test_a_number_search_is_paged_by_posting_it_again(client, world, app, wang):
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        for index in range(29):
            make_borrower(officer, mobile=f"136{index:04d}5678", mobile_tail="5678")
        db.session.commit()
    client.login("officer")
    first = search(client, MOBILE[-4:])
    page = page_text(first)
    assert len(ROW.findall(page)) == 25 and "30" in page
    assert 'form="borrower-search" name="page" value="2"' in page
    assert_no_number_in_urls(first, MOBILE)
    second = client.submit("/borrowers/", {"q": MOBILE[-4:], "page": "2"})
    assert second.status_code == 200 and len(ROW.findall(page_text(second))) == 5
    assert_no_number_in_urls(second, MOBILE)


def test_the_reassignment_page_searches_numbers_the_same_way(client, world, app, wang):
    client.login("head")
    response = search(client, RESIDENT_ID, path="/borrowers/reassign")
    assert response.status_code == 200 and not response.history
    assert TICK.findall(page_text(response)) == [str(wang.id)]
    assert_no_number_in_urls(response, RESIDENT_ID)

    # An error keeps the list the number found, still without a URL holding it.
    refused = client.submit(
        "/borrowers/reassign",
        {"q": RESIDENT_ID, "borrower_ids": [str(wang.id)], "officer_id": str(world.officer.id)},
    )
    assert refused.status_code == 200
    assert TICK.findall(page_text(refused)) == [str(wang.id)]
    assert_no_number_in_urls(refused, RESIDENT_ID)

    moved = client.submit(
        "/borrowers/reassign",
        {
            "q": RESIDENT_ID,
            "tier": "potential",
            "borrower_ids": [str(wang.id)],
            "officer_id": str(world.officer.id),
            "reason": "核对",
        },
    )
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/borrowers/reassign?tier=potential"


def test_a_number_in_a_reassignment_address_is_dropped(client, world, wang):
    client.login("head")
    response = client.get(f"/borrowers/reassign?q={MOBILE}&tier=potential")
    assert response.status_code == 302
    assert response.headers["Location"] == "/borrowers/reassign?tier=potential"


def test_the_language_switch_never_returns_to_a_number(client, wang):
    client.login("officer")
    page = page_text(client.get(f"/borrowers/?tier=potential&ref={MOBILE}&page=1"))
    assert LANGUAGE_NEXT.findall(page) == ["/borrowers/?tier=potential&amp;page=1"]
    answered = search(client, MOBILE)
    assert LANGUAGE_NEXT.findall(page_text(answered)) == ["/borrowers/"]


def test_a_page_posted_to_a_post_only_address_switches_language_home(client, wang):
    client.login("officer")
    revealed = client.submit(f"/borrowers/{wang.id}/reveal", page=f"/borrowers/{wang.id}")
    assert MOBILE in page_text(revealed)  # the audited reveal
    assert LANGUAGE_NEXT.findall(page_text(revealed)) == [""]
