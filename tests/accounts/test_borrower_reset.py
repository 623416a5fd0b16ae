"""Staff cannot take over a borrower's account: a new code goes to the borrower's phone only.

The World's ``borrower`` has chosen a password (``portal-demo``). A real HTTP server on
loopback stands in for the SMS gateway's webhook, as in the care tests.
"""

import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import ActivationCode, Borrower
from portal.extensions import db

CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})\b")
NEW_PASSWORD = "chosen-by-me-42"


@pytest.fixture
def borrower(app, world):
    """The own borrower's mobile and login id; their portal language is English."""
    with app.app_context():
        row = db.session.get(Borrower, world.own_borrower.id)
        row.user.locale = "en"
        db.session.commit()
        return {"id": row.id, "mobile": row.mobile, "user_id": row.user_id}


def _ask_for_a_code(client, borrower, who="officer"):
    client.login(who)
    client.submit("/account", {"locale": "en"})  # the staff member reads English
    response = client.submit(f"/borrowers/{borrower['id']}/activation-code", follow_redirects=True)
    client.logout()
    return response.get_data(as_text=True)


def _activate(client, mobile, code, password=NEW_PASSWORD):
    return client.submit(
        "/activate", {"mobile": mobile, "code": code, "new_password": password, "confirm": password}
    )


def _audit(app, action) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_staff_never_see_the_code_it_goes_to_the_borrowers_phone(
    app, client, world, borrower, webhook
):
    page = _ask_for_a_code(client, borrower)
    assert 'data-testid="activation-code"' not in page
    assert CODE.search(page) is None
    [text] = webhook.received
    assert text["mobile"] == borrower["mobile"] and text["occasion"] == "password_reset"
    assert text["borrower_id"] == borrower["id"]
    # With the code from their phone, the borrower sets a new password.
    code = CODE.search(text["text"]).group(1)
    assert _activate(client, borrower["mobile"], code).status_code == 302
    assert client.login("borrower", NEW_PASSWORD).status_code == 302


def test_what_the_officer_saw_does_not_set_the_borrowers_password(
    app, client, world, borrower, webhook
):
    page = _ask_for_a_code(client, borrower)
    for seen in CODE.findall(page) or ["ABCD-EFGH"]:
        _activate(client, borrower["mobile"], seen)
    with app.app_context():
        assert db.session.get(User, borrower["user_id"]).password_hash
    assert client.login("borrower", NEW_PASSWORD).status_code == 200  # refused
    assert client.login("borrower").status_code == 302  # the own password still works


def test_the_borrower_is_told_who_asked_and_when_at_next_login(
    app, client, world, borrower, webhook
):
    _ask_for_a_code(client, borrower)
    page = client.login("borrower", follow_redirects=True).get_data(as_text=True)
    assert "officer of the company asked for a new password code for your account" in page
    assert "call your branch" in page
    # Told once: the next login has nothing new to tell.
    client.logout()
    page = client.login("borrower", follow_redirects=True).get_data(as_text=True)
    assert "asked for a new password code" not in page


def test_the_request_and_its_delivery_are_audited(app, client, world, borrower, webhook):
    _ask_for_a_code(client, borrower)
    [requested] = _audit(app, "user.password_reset_requested")
    assert requested.actor_name == "officer"
    assert (requested.object_type, requested.object_id) == ("User", str(borrower["user_id"]))
    assert borrower["mobile"] not in requested.summary  # masked
    assert len(_audit(app, "user.password_reset_sent")) == 1
    code = CODE.search(webhook.received[0]["text"]).group(1)
    assert all(code not in entry.summary for entry in _audit(app, "borrower.issue_activation_code"))


def test_without_a_gateway_that_reaches_phones_no_code_is_made(app, client, world, borrower):
    # The default "log" gateway only writes a log line: a code would reach nobody.
    page = _ask_for_a_code(client, borrower)
    assert "No text-message gateway is set up" in page
    assert CODE.search(page) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ActivationCode.id))) == 0
    assert _audit(app, "user.password_reset_requested") == []


def test_a_code_the_gateway_refused_does_not_work(app, client, world, borrower, webhook):
    webhook.plan(503)
    page = _ask_for_a_code(client, borrower)
    assert "The code could not be sent" in page
    code = CODE.search(webhook.received[0]["text"]).group(1)
    assert _activate(client, borrower["mobile"], code).status_code == 200  # refused
    assert len(_audit(app, "user.password_reset_failed")) == 1


def test_the_first_activation_slip_is_still_printed_for_a_borrower_without_password(
    app, client, world
):
    client.login("otherofficer")
    page = client.submit(f"/borrowers/{world.foreign_borrower.id}/activation-code")
    assert 'data-testid="activation-code"' in page.get_data(as_text=True)


def test_a_mobile_changed_by_staff_gets_no_code_until_the_borrower_used_it(
    app, client, world, borrower, webhook
):
    from portal.borrowers import operations

    with app.test_request_context():
        row = db.session.get(Borrower, borrower["id"])
        changes = {name: getattr(row, name) for name in operations.EDITABLE_FIELDS}
        changes["mobile"] = "13900001111"  # the officer's own phone
        operations.update_profile(row, row.version, changes)
        db.session.commit()
    page = _ask_for_a_code(client, borrower)
    assert "not yet known to be theirs" in page
    assert webhook.received == []
    with app.app_context():
        requested = sa.select(sa.func.count()).where(
            AuditEntry.action == "user.password_reset_requested"
        )
        assert db.session.scalar(requested) == 0
