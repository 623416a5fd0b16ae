"""``flask db backup`` and ``flask db restore`` round-trip on SQLite and PostgreSQL."""

import sqlite3

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db

TABLES = ("branches", "users", "borrowers", "loans", "audit_entries")


def _counts(app) -> dict:
    with app.app_context():
        return {
            table: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) for table in TABLES
        }


@pytest.fixture
def fresh_url(app, tmp_path):
    """An empty database of the same kind as the suite's, dropped afterwards."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{url.database}_restore"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _app_for(url: str):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_PROFILE": "fast",
        }
    )


def test_backup_restores_into_a_fresh_database_with_the_same_rows(app, world, tmp_path, fresh_url):
    before = _counts(app)
    assert before["borrowers"] == 2 and before["users"] == 6
    backup = tmp_path / "portal.backup"
    result = app.test_cli_runner().invoke(args=["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert backup.stat().st_size > 0

    fresh = _app_for(fresh_url)
    result = fresh.test_cli_runner().invoke(args=["db", "restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert _counts(fresh) == before
    with fresh.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.scalar(sa.text("PRAGMA integrity_check")) == "ok"
            assert db.session.scalar(sa.text("PRAGMA foreign_key_check")) is None
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    with app.app_context():
        assert version == db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        db.session.remove()
        db.engine.dispose()
    with fresh.app_context():
        db.engine.dispose()


def test_restore_brings_back_what_was_deleted(app, world, tmp_path):
    backup = tmp_path / "before.backup"
    app.test_cli_runner().invoke(args=["db", "backup", str(backup)])
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM audit_entries"))
        db.session.commit()
    assert _counts(app)["audit_entries"] == 0
    result = app.test_cli_runner().invoke(args=["db", "restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert _counts(app)["audit_entries"] > 0


def test_backup_refuses_to_overwrite(app, tmp_path):
    existing = tmp_path / "x.backup"
    existing.write_text("keep me")
    result = app.test_cli_runner().invoke(args=["db", "backup", str(existing)])
    assert result.exit_code != 0
    assert existing.read_text() == "keep me"


def test_damaged_sqlite_backup_is_refused(app, tmp_path):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite file check")
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    result = app.test_cli_runner().invoke(args=["db", "restore", str(damaged), "--yes"])
    assert result.exit_code != 0
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(damaged).execute("PRAGMA integrity_check").fetchone()
