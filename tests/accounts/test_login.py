"""Logging in and out."""

import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.extensions import db

WRONG = "Wrong username or password."


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/login")


def test_login_page_has_the_two_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "登录" in page  # Chinese by default


def test_login_with_right_password_reaches_home(client, world):
    response = client.login("officer", follow_redirects=True)
    assert response.status_code == 200
    assert "officer" in response.get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    _english(client)
    wrong_password = client.login("officer", "not-the-password")
    unknown_user = client.login("nobody-here", "not-the-password")
    assert wrong_password.status_code == unknown_user.status_code == 200
    for response in (wrong_password, unknown_user):
        page = response.get_data(as_text=True)
        assert WRONG in page
        assert "unknown" not in page.lower()
        assert "does not exist" not in page


def test_disabled_account_cannot_log_in_and_gets_the_same_message(client, world, app):
    with app.app_context():
        from portal.accounts.operations import set_active

        set_active(db.session.get(User, world.officer.id), False)
        db.session.commit()
    _english(client)
    response = client.login("officer")
    assert WRONG in response.get_data(as_text=True)


def test_username_is_case_insensitive(client, world):
    response = client.login("  OFFICER ")
    assert response.status_code == 302


def test_safe_next_redirect(client, world):
    token = client.csrf_token("/login")
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": "portal-demo",
            "next": "/admin/users",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/admin/users"


def test_next_pointing_elsewhere_is_ignored(client, world):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.get("/login")
        token = client.csrf_token("/login")
        response = client.post(
            "/login",
            data={
                "username": "admin",
                "password": "portal-demo",
                "next": target,
                "csrf_token": token,
            },
        )
        assert response.headers["Location"] == "/", target
        client.logout()


def test_login_starts_a_new_session(client, world):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.login("officer")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logged_out_cookie_is_rejected(client, world, app):
    client.login("officer")
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("portal_session").value
    client.logout()
    replay = app.test_client()
    replay.set_cookie("portal_session", cookie)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_disabling_an_account_ends_its_live_session(client, world, app):
    client.login("officer")
    assert client.get("/").status_code == 200
    with app.app_context():
        from portal.accounts.operations import set_active

        set_active(db.session.get(User, world.officer.id), False)
        db.session.commit()
    assert client.get("/").status_code == 302


def test_login_is_rate_limited(client, world):
    for _ in range(5):
        assert client.login("officer", "wrong-password").status_code == 200
    assert client.login("officer", "wrong-password").status_code == 429
    # Even the right password waits until the window has passed.
    assert client.login("officer").status_code == 429


def test_rate_limit_page_is_friendly(client, world):
    _english(client)
    for _ in range(6):
        response = client.login("officer", "wrong-password")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_and_failure_are_audited(client, world, app):
    client.login("officer", "wrong-password")
    client.login("officer")
    client.logout()
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.actor_name == "officer")
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["auth.login_failed", "auth.login", "auth.logout"]


def test_logout_needs_post(client, world):
    client.login("officer")
    assert client.get("/logout").status_code == 405
