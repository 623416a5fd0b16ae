"""Borrower logins: the printed one-time code, activation, expiry, reuse and limits."""

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.borrowers.models import ActivationCode, Borrower
from portal.database import utcnow
from portal.extensions import db
from tests.borrowers.helpers import audit_actions, fetch, login_of, onboarding_data, page_text

CODE = re.compile(r'data-testid="activation-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')
PASSWORD = "my-own-secret-9"
GENERIC = "手机号码或激活码不正确，或激活码已过期或已使用。"


def _onboard(client) -> str:
    client.login("officer")
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    client.logout()
    return CODE.search(page).group(1)


def _activate(client, code: str, mobile: str = "139-0527-1234", password: str = PASSWORD):
    return client.submit(
        "/activate",
        {"mobile": mobile, "code": code, "new_password": password, "confirm": password},
    )


def test_the_code_page_is_printable(client, world):
    client.login("officer")
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    assert CODE.search(page)
    assert "/static/css/borrowers-print." in page
    assert "data-print" in page and "/static/js/borrowers-print." in page
    assert "139****1234" in page and "13905271234" not in page


def test_borrower_activates_with_the_code_and_logs_in_with_the_mobile(client, world, app):
    code = _onboard(client)
    response = _activate(client, code.lower())  # case and dashes do not matter
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    login = login_of(app, "13905271234")
    assert fetch(app, ActivationCode, user_id=login.id).used_at is not None
    assert [e.action for e in audit_actions(app, "borrower.activate")] == ["borrower.activate"]
    assert client.login("13905271234", PASSWORD).status_code == 302
    assert client.get("/").headers["Location"] == "/me"
    assert "王小明" in page_text(client.get("/me"))


def test_a_code_works_only_once(client, world):
    code = _onboard(client)
    assert _activate(client, code).status_code == 302
    again = _activate(client, code, password="another-password-1")
    assert GENERIC in page_text(again)
    assert client.login("13905271234", "another-password-1").status_code == 200  # refused


def test_an_expired_code_is_refused(client, world, app):
    code = _onboard(client)
    with app.app_context():
        db.session.execute(
            sa.update(ActivationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert GENERIC in page_text(_activate(client, code))
    assert login_of(app, "13905271234").password_hash == ""


def test_wrong_code_and_unknown_phone_get_the_same_answer(client, world, app):
    code = _onboard(client)
    wrong_code = page_text(_activate(client, "ABCD-EFGH"))
    unknown_phone = page_text(_activate(client, code, mobile="13111112222"))
    not_a_phone = page_text(_activate(client, code, mobile="hello"))
    for page in (wrong_code, unknown_phone, not_a_phone):
        assert GENERIC in page
    # Typed values and the form tokens (which carry the second they were made) aside.
    strip = lambda page: re.sub(  # noqa: E731
        r'name="(mobile|code|csrf_token)"[^>]*value="[^"]*"|name="csrf-token" content="[^"]*"',
        "",
        page,
    )
    assert strip(wrong_code) == strip(unknown_phone) == strip(not_a_phone)
    assert login_of(app, "13905271234").password_hash == ""


def test_a_code_for_someone_else_does_not_unlock_this_borrower(client, world, app):
    code = _onboard(client)
    foreign = fetch(app, Borrower, id=world.foreign_borrower.id)
    assert GENERIC in page_text(_activate(client, code, mobile=foreign.mobile))


def test_reissuing_a_code_invalidates_the_earlier_one(client, world, app):
    first = _onboard(client)
    borrower = fetch(app, Borrower, mobile="13905271234")
    client.login("officer")
    page = page_text(client.submit(f"/borrowers/{borrower.id}/activation-code"))
    second = CODE.search(page).group(1)
    client.logout()
    assert second != first
    assert GENERIC in page_text(_activate(client, first))
    assert _activate(client, second).status_code == 302
    assert len(audit_actions(app, "borrower.issue_activation_code")) == 2


def test_a_code_for_a_borrower_without_login_creates_the_login(client, world, app):
    foreign = fetch(app, Borrower, id=world.foreign_borrower.id)
    assert foreign.user_id is None
    client.login("otherofficer")
    page = page_text(client.submit(f"/borrowers/{foreign.id}/activation-code"))
    code = CODE.search(page).group(1)
    client.logout()
    assert _activate(client, code, mobile=foreign.mobile).status_code == 302
    assert client.login(foreign.mobile, PASSWORD).status_code == 302


def test_officer_cannot_issue_codes_for_another_officers_borrower(client, world, app):
    client.login("officer")
    response = client.submit(
        f"/borrowers/{world.foreign_borrower.id}/activation-code", page="/account"
    )
    assert response.status_code == 403
    assert audit_actions(app, "borrower.issue_activation_code") == []


def test_password_rules_apply_in_english_too(client, world):
    code = _onboard(client)
    client.submit("/language", {"locale": "en"}, page="/login")
    page = page_text(_activate(client, code, password="short"))
    assert "The password must have 10 to 128 characters." in page
    assert 'value="139-0527-1234"' in page


def test_activation_is_rate_limited(client, world):
    for _ in range(5):
        assert _activate(client, "WRONG-CODE").status_code == 200
    assert _activate(client, "WRONG-CODE").status_code == 429


def test_english_generic_message(client, world):
    client.submit("/language", {"locale": "en"}, page="/login")
    page = page_text(_activate(client, "ABCD-EFGH"))
    assert "The mobile number or the activation code is not correct" in page
