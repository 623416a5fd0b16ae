"""A database that cannot be reached: the translated "busy, try again" page, never a 500."""

import pytest

from portal import create_app

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/portal?connect_timeout=2"


@pytest.fixture
def cut_off_client():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": UNREACHABLE,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    return app.test_client()


def test_a_login_while_the_database_is_down_gets_the_busy_page(cut_off_client):
    response = cut_off_client.post("/login", data={"username": "head", "password": "x" * 12})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "系统繁忙" in page and "<form" in page  # the full page, with the language switch


def test_the_busy_page_speaks_english_too(cut_off_client):
    with cut_off_client.session_transaction() as session:
        session["locale"] = "en"
    response = cut_off_client.post("/login", data={"username": "head", "password": "x" * 12})
    assert response.status_code == 503
    assert "busy" in response.get_data(as_text=True)
