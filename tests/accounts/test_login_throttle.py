"""Login limits slow guessing without letting a stranger lock anyone out (README, "Configuration").

Addresses are set per request (``REMOTE_ADDR``), as the WSGI server would set them.
"""

from tests.conftest import PortalClient

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _browser(app) -> PortalClient:
    app.test_client_class = PortalClient
    return app.test_client()


def test_a_stranger_cannot_lock_the_admin_out(client, world, app):
    stranger = _browser(app)
    answers = [
        stranger.login("admin", f"guess-{i}", environ_base=ATTACKER).status_code for i in range(10)
    ]
    assert answers[:5] == [200] * 5 and set(answers[5:]) == {429}
    # The guesser's address waits, even with the right password ...
    assert stranger.login("admin", environ_base=ATTACKER).status_code == 429
    # ... but the admin, from their own address, logs in.
    assert client.login("admin", environ_base=OWNER).status_code == 302


def test_guessing_from_many_addresses_is_slowed_yet_the_owner_gets_in(
    client, world, app, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_USERNAME_RATE_LIMIT", "8 per hour")
    # The officer has logged in with this browser before.
    assert client.login("officer", **_from("198.51.100.7")).status_code == 302
    client.logout()
    botnet = _browser(app)
    for i in range(8):
        assert botnet.login("officer", f"guess-{i}", **_from(f"10.0.0.{i + 1}")).status_code == 200
    # The username's own bucket is full: a browser never used by the officer waits ...
    assert _browser(app).login("officer", **_from("10.0.1.1")).status_code == 429
    assert botnet.login("officer", "guess-9", **_from("10.0.0.9")).status_code == 429
    # ... while the officer's own browser gets in, from a new address too.
    assert client.login("officer", **_from("192.0.2.44")).status_code == 302


def test_a_forged_device_cookie_does_not_help(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_USERNAME_RATE_LIMIT", "3 per hour")
    for i in range(3):
        client.login("officer", f"guess-{i}", **_from(f"10.0.0.{i + 1}"))
    client.set_cookie("portal_device", "WzFd.forged", path="/login")
    assert client.login("officer", **_from("10.0.1.1")).status_code == 429


def test_one_password_tried_on_many_accounts_from_one_address_is_limited(
    client, world, app, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "4 per minute")
    for name in ("admin", "head", "officer", "otherhead"):
        assert client.login(name, "Summer2026!", environ_base=ATTACKER).status_code == 200
    assert client.login("otherofficer", "Summer2026!", environ_base=ATTACKER).status_code == 429
    # Other addresses are not affected.
    assert _browser(app).login("otherofficer", environ_base=OWNER).status_code == 302


def test_successful_logins_do_not_use_up_the_failure_buckets(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "LOGIN_USERNAME_RATE_LIMIT", "2 per hour")
    for _ in range(4):
        assert client.login("head", environ_base=OWNER).status_code == 302
        client.logout()


def test_the_device_cookie_is_only_sent_to_the_login_page(client, world):
    response = client.login("officer")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "portal_device" in c)
    assert "Path=/login" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
