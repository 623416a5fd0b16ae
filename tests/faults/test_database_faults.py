"""What users see when the database misbehaves: a clear answer and nothing half-written."""

import sqlite3

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.branches.models import Branch
from portal.extensions import db
from tests.conftest import PortalClient


def _branch_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Branch.id)))


def test_locked_sqlite_gives_a_busy_page_and_writes_nothing(app, world):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite locking")
    impatient = create_app({**app.config, "SQLITE_BUSY_TIMEOUT_MS": 200})
    impatient.test_client_class = PortalClient
    client = impatient.test_client()
    client.login("admin")
    client.submit("/language", {"locale": "en"}, page="/")
    token = client.csrf_token("/admin/branches/new")
    before = _branch_count(app)

    holder = sqlite3.connect(sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    holder.execute("BEGIN IMMEDIATE")  # another process is in the middle of a write
    try:
        response = client.post(
            "/admin/branches/new",
            data={"code": "LK01", "name": "锁定网点", "active": "y", "csrf_token": token},
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert "The system is busy. Nothing was saved." in response.get_data(as_text=True)
    assert _branch_count(app) == before

    retry = client.post(
        "/admin/branches/new",
        data={"code": "LK01", "name": "锁定网点", "active": "y", "csrf_token": token},
    )
    assert retry.status_code == 302
    assert _branch_count(app) == before + 1
    with impatient.app_context():
        db.engine.dispose()


def test_killed_postgres_connection_is_replaced_on_the_next_request(app, client, world):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL connection handling")
    client.login("admin")
    assert client.get("/admin/branches/").status_code == 200
    killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.NullPool)
    with killer.connect() as connection:
        killed = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND usename = current_user AND backend_type = 'client backend'"
            )
        ).scalar()
    killer.dispose()
    assert killed >= 1
    response = client.get("/admin/branches/")
    assert response.status_code == 200
    assert world.branch.name in response.get_data(as_text=True)
