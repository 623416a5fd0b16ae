"""Fixtures: one migrated database per run, emptied after every test."""

import os
import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db, limiter
from tests import factories

# One Playwright and one live server for the whole run, whichever folder asks for them.
pytest_plugins = ("tests.browser.fixtures",)

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
DEMO_PASSWORD = "portal-demo"


def _worker_database(url: str, worker_id: str) -> str:
    """The PostgreSQL database of one pytest-xdist worker: ``<name>_<worker>``, created once."""
    if worker_id == "master":
        return url
    parsed = sa.make_url(url)
    name = f"{parsed.database}_{worker_id}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    """SQLite in a temporary folder, or TEST_DATABASE_URL (one database per xdist worker)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = _worker_database(url, worker_id)
        _reset_postgres_schema(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH_PROFILE": "fast",
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "5 per minute",
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            # Texts go out whatever the hour the suite runs at; the tests of quiet hours
            # set their own (tests/care/test_sms_rules.py).
            "SMS_QUIET_HOURS": "",
        }
    )
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        factories.empty_database()
        limiter.reset()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


class PortalClient(FlaskClient):
    """A test client that finds the CSRF token on the page, as a browser would."""

    def csrf_token(self, page: str = "/login") -> str:
        response = self.get(page, follow_redirects=True)
        match = CSRF_META.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        """POST ``data`` with the token shown on ``page`` (default: ``url`` itself)."""
        token = self.csrf_token(page or url)
        return self.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD, **kwargs):
        return self.submit(
            "/login", {"username": username, "password": password}, page="/login", **kwargs
        )

    def logout(self):
        return self.submit("/logout", page="/account")


@pytest.fixture
def client(app) -> PortalClient:
    app.test_client_class = PortalClient
    return app.test_client()


@pytest.fixture
def world(app) -> factories.World:
    """Two branches with a head and an officer each, an admin and a borrower account."""
    with app.app_context():
        built = factories.build_world()
        db.session.commit()
    return built
