"""The periodic jobs run by the queue: two workers never send a greeting twice."""

import os
import shutil
import socket
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.core.calendar import local_today
from portal.extensions import db
from portal.jobs.models import Job, JobKind, JobStatus
from portal.jobs.queue import bind
from portal.jobs.tasks import company_schedule, morning_greetings, run_periodic
from tests.care.conftest import WebhookServer
from tests.care.helpers import add_borrower, outbox
from tests.jobs.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _born_today(app, world, count: int) -> set[int]:
    with app.app_context():
        today = local_today()
    return {
        add_borrower(app, world, birth_date=date(1960 + n, today.month, min(today.day, 28)))
        for n in range(count)
    }


def _running(app) -> int:
    """Runs still going; read as a page reads (a GET: on SQLite no write lock is taken)."""
    with app.test_request_context(method="GET"):
        return db.session.scalar(
            sa.select(sa.func.count(Job.id)).where(Job.status == JobStatus.RUNNING)
        )


def _webhook():
    server = WebhookServer()
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    return server


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "worker", "--workers", "2", "--no-periodic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):
    """The queue both workers share: a SQLite file (one machine) or a Redis (several)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared-queue.sqlite3'}"
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis as client

        wait_for(lambda: _answers(client.Redis(port=port)), timeout=30)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        redis.terminate()
        redis.wait(timeout=30)


def _answers(connection) -> bool:
    try:
        return connection.ping()
    except Exception:
        return False


def test_two_worker_processes_run_the_morning_greetings_once(
    app, world, database_url, queue_url, tmp_path
):
    from portal import create_app

    queued_app = create_app({**app.config, "JOBS_IMMEDIATE": False, "JOBS_QUEUE_URL": queue_url})
    with app.app_context():
        today = local_today()
    if today.month == 2 and today.day == 29:  # a leap day's birthday is greeted on the 28th
        return
    expected = _born_today(app, world, 8)
    webhook = _webhook()
    env = os.environ | {
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_PROFILE": "fast",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        # The same keys as the app: the numbers it stored must read (docs/privacy.md).
        "PORTAL_DATA_KEYS": ",".join(app.config["PORTAL_DATA_KEYS"]),
        "PORTAL_INDEX_KEY": app.config["PORTAL_INDEX_KEY"],
        "JOBS_QUEUE_URL": queue_url,
        "CARE_GATEWAY": "webhook",
        "CARE_WEBHOOK_URL": webhook.url,
        "SMS_QUIET_HOURS": "off",  # whatever the hour the suite runs at
    }
    workers = [_worker(env) for _ in range(2)]
    try:
        # Both workers' schedulers fire at 08:00: the task is queued twice.
        with queued_app.app_context():
            huey = bind(queued_app)
            morning_greetings()
            morning_greetings()
        wait_for(lambda: huey.pending_count() == 0, timeout=300)
        wait_for(lambda: len(webhook.received) >= len(expected), timeout=300)
        wait_for(lambda: _running(app) == 0, timeout=300)
    finally:
        for worker in workers:
            worker.terminate()
        outputs = [worker.communicate(timeout=60)[0].decode() for worker in workers]
        webhook.httpd.shutdown()
        webhook.httpd.server_close()
    assert sorted(m["borrower_id"] for m in webhook.received) == sorted(expected), outputs
    assert len(outbox(app)) == len(expected)
    with app.app_context():
        runs = db.session.scalars(sa.select(Job).where(Job.kind == JobKind.CARE_SEND_DUE)).all()
        assert [(run.status, run.slot) for run in runs] == [
            (JobStatus.DONE, f"care_send_due@{today.isoformat()}")
        ]
        assert (
            runs[0].summary == f"Greetings: {len(expected)} queued, {len(expected)} sent, 0 failed."
        )


def test_two_threads_claim_one_slot(app, world):
    _born_today(app, world, 3)
    start, runs = threading.Barrier(2), []

    def claim():
        with app.app_context():
            start.wait()
            runs.append(run_periodic(JobKind.CARE_SEND_DUE, "care_send_due@2026-11-26"))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(run is None for run in runs) == [False, True]
    assert len(outbox(app)) == 3


def test_the_schedule_reads_the_company_clock(app):
    from datetime import datetime

    at_eight = company_schedule(minute="0", hour="8")
    with app.app_context():
        # 08:00 in Shanghai is 00:00 UTC; the worker's scheduler hands over UTC.
        assert at_eight(datetime(2026, 11, 26, 0, 0))
        assert not at_eight(datetime(2026, 11, 26, 8, 0))


def test_the_worker_runs_at_a_lower_cpu_priority_than_the_web(database_url, tmp_path):
    env = os.environ | {
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "JOBS_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "JOBS_NICENESS": "7",
    }
    worker = _worker(env)
    try:
        for line in worker.stdout:  # the niceness is set before it says it started
            if b"Worker started" in line:
                break
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, own + 7)
    finally:
        worker.terminate()
        worker.communicate(timeout=60)
