"""Editing a borrower: the changes, who may, and the stale-form conflict."""

import re

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from tests.borrowers.helpers import (
    audit_actions,
    english,
    fetch,
    login_of,
    onboarding_data,
    page_text,
)

EDITABLE = (
    "mobile",
    "address",
    "village",
    "business_type",
    "business_description",
    "household_size",
    "monthly_income",
    "monthly_expenses",
    "guarantor_name",
    "guarantor_phone",
    "birthday_calendar",
)


def _form(client, borrower_id: int, **changes) -> dict:
    """What the edit page shows (as a browser would post it back), with ``changes``."""
    page = page_text(client.get(f"/borrowers/{borrower_id}/edit"))
    values = dict(onboarding_data())
    values = {name: values[name] for name in EDITABLE}
    values["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    return values | changes


def test_officer_edits_contact_and_business(client, world, app):
    client.login("officer")
    borrower_id = world.own_borrower.id
    response = client.submit(
        f"/borrowers/{borrower_id}/edit", _form(client, borrower_id, village="新村")
    )
    assert response.status_code == 302
    borrower = fetch(app, Borrower, id=borrower_id)
    assert borrower.village == "新村" and borrower.mobile == "13905271234"
    assert borrower.mobile_tail == "1234" and borrower.version == 2
    assert len(audit_actions(app, "borrower.update")) == 1


def test_the_id_number_and_name_cannot_be_changed_by_tampering(client, world, app):
    before = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    data = _form(
        client,
        before.id,
        resident_id="11010119850302106X",
        full_name="假名字",
        officer_id=str(world.other_officer.id),
        branch_id=str(world.other_branch.id),
        tier="strategic",
    )
    client.submit(f"/borrowers/{before.id}/edit", data)
    after = fetch(app, Borrower, id=before.id)
    assert (after.resident_id, after.full_name, after.officer_id, after.branch_id, after.tier) == (
        before.resident_id,
        before.full_name,
        before.officer_id,
        before.branch_id,
        before.tier,
    )


def test_officer_cannot_edit_another_officers_borrower(client, world, app):
    before = fetch(app, Borrower, id=world.foreign_borrower.id)
    client.login("officer")
    assert client.get(f"/borrowers/{before.id}/edit").status_code == 403
    response = client.submit(
        f"/borrowers/{before.id}/edit",
        dict.fromkeys(EDITABLE, "x") | {"village": "改了", "version": "1"},
        page="/account",
    )
    assert response.status_code == 403
    assert fetch(app, Borrower, id=before.id).village == before.village


def test_a_stale_form_is_refused_and_the_first_edit_stands(app, client, world):
    from tests.conftest import PortalClient

    app.test_client_class = PortalClient
    colleague = app.test_client()  # the branch head, on another tablet
    borrower_id = world.own_borrower.id
    client.login("officer")
    colleague.login("head")
    mine = _form(client, borrower_id, village="一村")
    theirs = _form(colleague, borrower_id, village="二村", household_size="6")

    assert colleague.submit(f"/borrowers/{borrower_id}/edit", theirs).status_code == 302
    english(client)
    response = client.submit(f"/borrowers/{borrower_id}/edit", mine)
    page = page_text(response)
    assert response.status_code == 409
    assert "Someone else saved changes to this borrower while you were editing." in page
    assert 'value="一村"' in page  # what I typed is kept
    assert "二村" in page  # and what the other person saved is shown
    stored = fetch(app, Borrower, id=borrower_id)
    assert (stored.village, stored.household_size) == ("二村", 6)

    # Saving again from the refreshed form is a deliberate overwrite.
    fresh_version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert (
        client.submit(
            f"/borrowers/{borrower_id}/edit", mine | {"version": fresh_version}
        ).status_code
        == 302
    )
    assert fetch(app, Borrower, id=borrower_id).village == "一村"


def test_a_new_mobile_moves_the_login_with_it(client, world, app):
    client.login("officer")
    onboard = client.submit("/borrowers/new", onboarding_data())
    assert onboard.status_code == 200
    borrower = fetch(app, Borrower, mobile="13905271234")
    client.submit(
        f"/borrowers/{borrower.id}/edit", _form(client, borrower.id, mobile="13600001111")
    )
    # The login is reached by the new number; its stored name holds no number at all.
    assert login_of(app, "13600001111").id == borrower.user_id
    assert login_of(app, "13905271234") is None
    assert fetch(app, User, id=borrower.user_id).username == f"borrower:{borrower.id}"


def test_edit_refuses_a_mobile_of_another_borrower(client, world, app):
    foreign = fetch(app, Borrower, id=world.foreign_borrower.id)
    client.login("officer")
    english(client)
    page = page_text(
        client.submit(
            f"/borrowers/{world.own_borrower.id}/edit",
            _form(client, world.own_borrower.id, mobile=foreign.mobile),
        )
    )
    assert "This mobile number is already registered with another loan officer." in page
    assert fetch(app, Borrower, id=world.own_borrower.id).mobile != foreign.mobile


def test_keeping_ones_own_mobile_is_not_a_duplicate(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    response = client.submit(
        f"/borrowers/{own.id}/edit",
        _form(client, own.id, mobile=own.mobile, guarantor_phone="0527-8521 0001"),
    )
    assert response.status_code == 302
