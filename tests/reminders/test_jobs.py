"""The reminders as periodic jobs of the queue: when they run, once per slot, and how
their texts leave through the care outbox's gateway."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.extensions import db
from portal.jobs.models import Job, JobKind, JobStatus
from portal.jobs.tasks import (
    group_session_reminders,
    late_warning_escalation,
    morning_visit_reminders,
    run_periodic,
)
from portal.reminders.models import StaffNotice, StaffSms
from tests.care.conftest import WebhookServer


def _fires(task, app, utc: datetime) -> bool:
    with app.app_context():
        return task.task_class().validate_datetime(utc)


def test_the_schedule_is_read_on_the_company_clock(app):
    # Shanghai is UTC+8: 07:30 there is 23:30 UTC the day before.
    assert _fires(morning_visit_reminders, app, datetime(2026, 11, 25, 23, 30))
    assert not _fires(morning_visit_reminders, app, datetime(2026, 11, 26, 7, 30))
    assert _fires(group_session_reminders, app, datetime(2026, 11, 26, 2, 0))
    hours = [
        h for h in range(24) if _fires(late_warning_escalation, app, datetime(2026, 11, 26, h, 5))
    ]
    # 08:05 to 20:05 company time: 00:05 to 12:05 UTC.
    assert hours == list(range(0, 13))
    assert not _fires(late_warning_escalation, app, datetime(2026, 11, 26, 3, 0))


@pytest.fixture
def webhook(app, monkeypatch):
    server = WebhookServer()
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "CARE_GATEWAY", "webhook")
    monkeypatch.setitem(app.config, "CARE_WEBHOOK_URL", server.url)
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_a_slot_runs_once_and_its_texts_leave_through_the_gateway(app, world, webhook):
    with app.app_context():
        db.session.add(StaffSms(user_id=world.officer.id, mobile="13812345678", opted_in=True))
        db.session.commit()
    slot = "visit_reminders@2026-11-26"
    start, runs = threading.Barrier(2), []

    def run():
        with app.app_context():
            start.wait()
            runs.append(run_periodic(JobKind.VISIT_REMINDERS, slot))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job is None for job in runs) == [False, True]
    # The officer's borrower owes a visit: reminded in the portal, and texted once.
    assert [m["mobile"] for m in webhook.received] == ["13812345678"]
    (message,) = webhook.received
    assert message["occasion"] == "visits_morning" and message["borrower_id"] is None
    assert message["borrower_name"] == "officer"
    assert message["idempotency_key"].startswith(f"staff:visits.morning:{world.officer.id}:")
    with app.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.slot == slot))
        assert job.status == JobStatus.DONE
        today = local_today().isoformat()
        assert job.summary == f"Visit reminders {today}: 2 officers; texts: 1 sent, 0 failed."
        assert db.session.scalar(sa.select(sa.func.count(StaffNotice.id))) == 2


def test_the_escalation_and_session_runs_report_what_they_did(app, world):
    from portal.database import utcnow
    from portal.visits.risk import RiskSignal
    from tests.visits.helpers import make_visit

    with app.app_context():
        make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=6),
            risk_signals=frozenset({RiskSignal.UNREACHABLE, RiskSignal.FUNDS_DIVERTED}),
        )
        db.session.commit()
        escalation = run_periodic(JobKind.WARNING_ESCALATION, "warning_escalation@2026-11-26T09")
        sessions = run_periodic(JobKind.SESSION_REMINDERS, "session_reminders@2026-11-26")
        assert run_periodic(JobKind.SESSION_REMINDERS, "session_reminders@2026-11-26") is None
        escalation, sessions = db.session.get(Job, escalation.id), db.session.get(Job, sessions.id)
        assert escalation.summary.startswith("Late red warnings: 1 to the heads, 1 to the admin")
        assert sessions.summary.startswith("Session reminders for the day after")


def test_the_commands_run_the_same_work_by_hand(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "morning", "--date", "2026-11-26"])
    assert result.output == "Visit reminders 2026-11-26: 2 officers; texts: 0 sent, 0 failed.\n"
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Visit reminders 2026-11-26: 2 officers")
    again = runner.invoke(args=["reminders", "morning", "--date", "2026-11-26"])
    assert again.output.startswith("Visit reminders 2026-11-26: 0 officers")
    assert runner.invoke(args=["reminders", "escalate"]).output.startswith("Late red warnings: 0")
    sessions = runner.invoke(args=["reminders", "sessions", "--date", "2026-11-26"])
    assert sessions.output.startswith("Session reminders for the day after 2026-11-26: 0")
    bad = runner.invoke(args=["reminders", "morning", "--date", "26.11.2026"])
    assert bad.exit_code != 0 and "Invalid value" in bad.output
