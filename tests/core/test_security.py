"""CSRF, headers, cookies, size limits, error pages and the health check."""

import pytest


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "admin", "password": "portal-demo"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not logged in


def test_post_with_wrong_csrf_token_is_refused(client, world):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "admin", "password": "portal-demo", "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_csrf_token_from_another_session_is_refused(app, client, world):
    other = app.test_client_class and app.test_client()
    foreign_token = other.csrf_token("/login")
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": "admin", "password": "portal-demo", "csrf_token": foreign_token},
    )
    assert response.status_code == 400


def test_logged_in_post_without_token_is_refused(client, world):
    client.login("admin")
    response = client.post("/admin/branches/new", data={"code": "X1", "name": "x"})
    assert response.status_code == 400


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_scripts(client, world):
    client.login("admin")
    for path in ("/login", "/", "/admin/users", "/admin/branches/", "/admin/audit/"):
        page = client.get(path).get_data(as_text=True)
        for tag in page.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script on {path}"
        assert " onclick=" not in page


def test_session_cookie_flags(client, world):
    client.login("admin")
    cookie = client.get_cookie("portal_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_secure_cookie_under_https(app, world):
    from portal import create_app

    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    from tests.conftest import PortalClient

    secure.test_client_class = PortalClient
    https = secure.test_client()
    token = https.csrf_token("https://localhost/login")
    response = https.post(
        "https://localhost/login",
        data={"username": "admin", "password": "portal-demo", "csrf_token": token},
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    assert https.get_cookie("portal_session").secure
    assert "Strict-Transport-Security" in response.headers


def test_oversized_body_is_refused(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"username": "x" * (limit + 1)})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("locale", "text"), [("zh", "页面不存在"), ("en", "This page does not exist")]
)
def test_not_found_page_in_both_languages(client, locale, text):
    client.submit("/language", {"locale": locale}, page="/login")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "rate_limit_storage": "ok",
        "worker": "none",
    }


def test_healthz_reports_an_unreachable_database(tmp_path):
    from portal import create_app

    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/db.sqlite3",
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
