"""An app whose jobs go to a real queue (a SQLite file), for the worker tests."""

import pytest

from portal import create_app


@pytest.fixture
def queued_app(app, tmp_path):
    """The test database, with a real queue file instead of running tasks at once."""
    queued = create_app(
        {
            **app.config,
            "JOBS_IMMEDIATE": False,
            "JOBS_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        }
    )
    return queued


@pytest.fixture
def queued_client(queued_app, client):
    """A logged-out test client of ``queued_app`` (same CSRF-aware client class)."""
    queued_app.test_client_class = type(client)
    return queued_app.test_client()
