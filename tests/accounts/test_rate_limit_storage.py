"""Logins keep working when the shared rate-limit store (Redis) is down, and /healthz says so.

The app runs in a child process with ``RATELIMIT_STORAGE_URI`` pointing at a real
Redis URL where nothing listens: the limiter is one object per process, so this
keeps the suite's own limiter untouched.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.extensions import db
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS = "redis://127.0.0.1:1/0"

PROBE = """
import json, sys
from portal import create_app
from tests.conftest import PortalClient

app = create_app({
    "TESTING": True,
    "SECRET_KEY": "probe",
    "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "PASSWORD_HASH_PROFILE": "fast",
    "RATELIMIT_STORAGE_URI": sys.argv[2],
    "LOGIN_RATE_LIMIT": "5 per minute",
})
app.test_client_class = PortalClient
client = app.test_client()
wrong = [client.login("officer", f"guess-{i}").status_code for i in range(7)]
other = app.test_client()
right = other.login("officer", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code
health = client.get("/healthz")
print(json.dumps({
    "wrong": wrong,
    "right": right,
    "home": other.get("/").status_code,
    "health": [health.status_code, health.get_json()],
}))
"""


@pytest.fixture(scope="module")
def with_dead_redis(app, database_url):
    """What the app answered, and what it logged, with Redis unreachable (one run per module)."""
    with app.app_context():
        factories.build_world()
        db.session.commit()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, database_url, DEAD_REDIS],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_logins_work_with_the_shared_store_down(with_dead_redis):
    answers, _log = with_dead_redis
    assert 500 not in answers["wrong"]
    assert answers["right"] == 302 and answers["home"] == 200


def test_guessing_is_still_limited_by_the_fallback(with_dead_redis):
    answers, _log = with_dead_redis
    assert answers["wrong"] == [200] * 5 + [429] * 2


def test_the_fallback_is_logged_as_a_warning(with_dead_redis):
    _answers, log = with_dead_redis
    assert "Rate limit storage unreachable - falling back to in-memory storage" in log


def test_healthz_reports_the_store_as_degraded_and_stays_in_service(with_dead_redis):
    answers, _log = with_dead_redis
    status, body = answers["health"]
    assert status == 200
    assert body == {
        "status": "degraded",
        "database": "ok",
        "rate_limit_storage": "unreachable",
        "worker": "none",
    }
