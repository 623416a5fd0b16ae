"""The edit form never carries the stored phone numbers (issue 11).

Full numbers are shown only by the audited reveal on the detail page. The edit form shows
them masked; a phone field left empty keeps the stored number, a typed one replaces it.
"""

import re

from portal.borrowers.masking import display_phone, mask_phone
from portal.borrowers.models import Borrower
from tests.borrowers.helpers import audit_actions, english, fetch, page_text

VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


def _spellings(number: str) -> list[str]:
    """The stored number as digits and as it is displayed."""
    return [number, display_phone(number), number[-8:]]


def _assert_no_full_numbers(page: str, borrower: Borrower) -> None:
    for number in (borrower.mobile, borrower.guarantor_phone):
        for spelling in _spellings(number):
            assert spelling not in page, spelling


def _form(client, borrower: Borrower, **changes) -> dict:
    """The edit form as the page shows it, posted back with ``changes``."""
    page = page_text(client.get(f"/borrowers/{borrower.id}/edit"))
    values = {
        "mobile": "",
        "address": borrower.address,
        "village": borrower.village,
        "business_type": borrower.business_type.value,
        "business_description": borrower.business_description,
        "household_size": str(borrower.household_size),
        "monthly_income": str(borrower.monthly_income),
        "monthly_expenses": str(borrower.monthly_expenses),
        "guarantor_name": borrower.guarantor_name,
        "guarantor_phone": "",
        "birthday_calendar": borrower.birthday_calendar.value,
        "version": VERSION.search(page).group(1),
    }
    return values | changes


def test_the_edit_page_shows_the_numbers_masked_only(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    page = page_text(client.get(f"/borrowers/{own.id}/edit"))
    _assert_no_full_numbers(page, own)
    assert mask_phone(own.mobile) in page and mask_phone(own.guarantor_phone) in page
    assert re.search(r'name="mobile"[^>]*value=""', page)
    assert re.search(r'name="guarantor_phone"[^>]*value=""', page)
    assert audit_actions(app, "borrower.view_sensitive") == []


def test_empty_phone_fields_keep_the_stored_numbers(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    response = client.submit(f"/borrowers/{own.id}/edit", _form(client, own, village="新村"))
    assert response.status_code == 302
    after = fetch(app, Borrower, id=own.id)
    assert (after.mobile, after.guarantor_phone, after.village) == (
        own.mobile,
        own.guarantor_phone,
        "新村",
    )
    [entry] = audit_actions(app, "borrower.update")
    assert entry.summary == "changed: village"


def test_typed_numbers_replace_the_stored_ones(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    data = _form(client, own, mobile="136 0000 1111", guarantor_phone="0527-8521 0002")
    assert client.submit(f"/borrowers/{own.id}/edit", data).status_code == 302
    after = fetch(app, Borrower, id=own.id)
    assert (after.mobile, after.guarantor_phone) == ("13600001111", "052785210002")


def test_an_error_keeps_what_was_typed_and_still_hides_the_stored_numbers(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    english(client)
    data = _form(client, own, household_size="0", guarantor_phone="0527-8521 0002")
    page = page_text(client.submit(f"/borrowers/{own.id}/edit", data))
    assert "A household has 1 to 30 people." in page
    assert 'value="052785210002"' in page  # what the officer typed, normalised
    assert re.search(r'name="mobile"[^>]*value=""', page)
    _assert_no_full_numbers(page, own)
    assert fetch(app, Borrower, id=own.id).guarantor_phone == own.guarantor_phone


def test_a_new_mobile_equal_to_the_kept_guarantor_phone_is_refused(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    english(client)
    data = _form(client, own, mobile=own.guarantor_phone)
    page = page_text(client.submit(f"/borrowers/{own.id}/edit", data))
    assert "The guarantor needs a phone number of their own." in page
    assert fetch(app, Borrower, id=own.id).mobile == own.mobile


def test_the_conflict_page_shows_the_other_persons_numbers_masked(app, client, world):
    from tests.conftest import PortalClient

    app.test_client_class = PortalClient
    colleague = app.test_client()
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    colleague.login("head")
    mine = _form(client, own, village="一村")
    theirs = _form(colleague, own, mobile="13600001111")
    assert colleague.submit(f"/borrowers/{own.id}/edit", theirs).status_code == 302

    response = client.submit(f"/borrowers/{own.id}/edit", mine)
    page = page_text(response)
    assert response.status_code == 409
    assert "136****1111" in page and "13600001111" not in page
    _assert_no_full_numbers(page, own)
    # Saving again keeps the number the other person saved.
    mine["version"] = VERSION.search(page).group(1)
    assert client.submit(f"/borrowers/{own.id}/edit", mine).status_code == 302
    assert fetch(app, Borrower, id=own.id).mobile == "13600001111"
