"""Settings from the environment, and the database tuning."""

import sqlite3

import pytest
import sqlalchemy as sa
from argon2 import extract_parameters

from portal import create_app
from portal.accounts.passwords import PROFILES
from portal.extensions import db
from portal.settings import ConfigurationError


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_the_fast_password_profile(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigurationError, match="PASSWORD_HASH_PROFILE"):
        create_app({"SECRET_KEY": "x", "PASSWORD_HASH_PROFILE": "fast"})


def test_development_secret_key_is_generated_once(monkeypatch, tmp_path):
    import portal.settings as settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings, "INSTANCE_PATH", tmp_path)
    first = settings.from_environment({})["SECRET_KEY"]
    second = settings.from_environment({})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")


def test_strong_profile_meets_owasp_asvs():
    strong = PROFILES["strong"]
    assert strong["memory_cost"] >= 19 * 1024 and strong["time_cost"] >= 2


def test_stored_hash_uses_argon2id_with_configured_parameters(app):
    with app.app_context():
        from portal.accounts.passwords import hash_password

        params = extract_parameters(hash_password("a-password-here"))
    assert params.type.name == "ID"


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() >= 1000


def _second_writer_blocked(app) -> bool:
    """Whether another connection can start writing while ours has begun."""
    path = db.engine.url.database
    with db.engine.connect() as ours:
        ours.execute(sa.text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            return False
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        finally:
            other.close()


def test_sqlite_writers_take_the_lock_up_front_and_reads_do_not(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert _second_writer_blocked(app) is True
    with app.test_request_context("/", method="GET"):
        assert _second_writer_blocked(app) is False
    with app.test_request_context("/", method="POST"):
        assert _second_writer_blocked(app) is True
