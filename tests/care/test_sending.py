"""``flask care send-due``: who is greeted, once only, through the gateways."""

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.borrowers.models import BirthdayCalendar, Borrower
from portal.care import sending
from portal.care.models import OutboxMessage, OutboxStatus
from portal.care.operations import backoff, queue_day
from portal.care.sending import deliver_due, send_due
from portal.database import utcnow
from portal.extensions import db
from portal.privacy.models import Purpose
from tests.care.helpers import add_borrower, outbox

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 20)  # no holiday; lunar 2026-02-02
SPRING_FESTIVAL = date(2027, 2, 6)


def run(app, day=DAY, **kwargs):
    with app.app_context():
        return send_due(day, **kwargs)


def test_birthdays_follow_each_borrowers_calendar_and_opt_out(app, cast):
    gregorian = add_borrower(app, cast, birth_date=date(1980, 3, 20))
    # Born on lunar 2-2 (1990-02-26), greeted on lunar 2-2 of 2026, which is DAY.
    lunar = add_borrower(
        app, cast, birth_date=date(1990, 2, 26), birthday_calendar=BirthdayCalendar.LUNAR
    )
    add_borrower(app, cast, birth_date=date(1990, 3, 20), birthday_calendar=BirthdayCalendar.LUNAR)
    add_borrower(app, cast, birth_date=date(1985, 3, 20), withheld=(Purpose.GREETINGS,))
    add_borrower(app, cast, username="gone", active=False, birth_date=date(1975, 3, 20))

    report = run(app)

    rows = outbox(app)
    assert {(row.borrower_id, row.occasion_code, row.year) for row in rows} == {
        (gregorian, "birthday", 2026),
        (lunar, "birthday", 2026),
    }
    assert all(row.status == OutboxStatus.SENT and row.gateway == "log" for row in rows)
    assert (report.queued, report.sent, report.failed) == (2, 2, 0)


def test_message_in_the_borrowers_language_with_placeholders_filled(app, cast):
    english = add_borrower(app, cast, username="lily", locale="en", birth_date=date(1980, 3, 20))
    chinese = add_borrower(app, cast, birth_date=date(1981, 3, 20))
    run(app)
    bodies = {row.borrower_id: row for row in outbox(app)}
    with app.app_context():
        borrower = db.session.get(Borrower, english)
        name, branch, officer = (
            borrower.full_name,
            borrower.branch.name,
            borrower.officer.display_name,
        )
    assert bodies[english].locale == "en"
    assert bodies[english].body.startswith(f"Dear {name}, happy birthday!")
    assert branch in bodies[english].body and officer in bodies[english].body
    assert bodies[chinese].locale == "zh" and "生日快乐" in bodies[chinese].body
    assert "{" not in bodies[english].body + bodies[chinese].body


def test_holiday_greets_everyone_who_wants_greetings(app, cast):
    opted_out = add_borrower(app, cast, withheld=(Purpose.GREETINGS,))
    run(app, SPRING_FESTIVAL)
    rows = outbox(app)
    greeted = {row.borrower_id for row in rows}
    assert greeted == {cast.own_borrower.id, cast.foreign_borrower.id}
    assert opted_out not in greeted
    assert {row.occasion_code for row in rows} == {"spring_festival"}
    assert all("新春" in row.body for row in rows)


def test_a_second_run_sends_nothing_again(app, cast):
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    first = run(app)
    second = run(app)
    assert (first.queued, first.sent) == (1, 1)
    assert (second.queued, second.sent) == (0, 0)
    assert len(outbox(app)) == 1


def test_database_refuses_a_second_greeting_for_the_same_year(app, cast):
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    run(app)
    (row,) = outbox(app)
    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.add(
            OutboxMessage(
                borrower_id=row.borrower_id,
                branch_id=row.branch_id,
                occasion_code="birthday",
                year=2026,
                due_on=DAY,
                locale="zh",
                body="again",
            )
        )
        db.session.commit()


def test_two_overlapping_runs_send_each_greeting_once(app, cast, webhook):
    expected = {add_borrower(app, cast, birth_date=date(1960 + i, 3, 20)) for i in range(12)}
    start, reports, errors = threading.Barrier(2), [], []

    def job():
        try:
            with app.app_context():
                start.wait()
                reports.append(send_due(DAY))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    delivered = [message["borrower_id"] for message in webhook.received]
    assert sorted(delivered) == sorted(expected)
    assert sum(report.queued for report in reports) == 12
    assert sum(report.sent for report in reports) == 12
    assert {row.status for row in outbox(app)} == {OutboxStatus.SENT}


def test_two_senders_at_once_never_take_the_same_greeting(app, cast, webhook, monkeypatch):
    monkeypatch.setattr(sending, "CLAIM_BATCH", 2)
    expected = {add_borrower(app, cast, birth_date=date(1960 + i, 3, 20)) for i in range(12)}
    with app.app_context():
        queue_day(DAY)
        db.session.commit()
    webhook.plan(*[("sleep", 0.02)] * 12)
    start, reports = threading.Barrier(2), []

    def job():
        with app.app_context():
            start.wait()
            reports.append(deliver_due())

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    delivered = [message["borrower_id"] for message in webhook.received]
    assert sorted(delivered) == sorted(expected)
    assert sum(report.sent for report in reports) == 12


def test_two_overlapping_processes_send_each_greeting_once(
    app, cast, webhook, database_url, tmp_path
):
    expected = {add_borrower(app, cast, birth_date=date(1960 + i, 3, 20)) for i in range(8)}
    env = os.environ | {
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        # The same keys as the app: the numbers it stored must read (docs/privacy.md).
        "PORTAL_DATA_KEYS": ",".join(app.config["PORTAL_DATA_KEYS"]),
        "PORTAL_INDEX_KEY": app.config["PORTAL_INDEX_KEY"],
        "CARE_GATEWAY": "webhook",
        "CARE_WEBHOOK_URL": webhook.url,
        "SMS_QUIET_HOURS": "off",  # whatever the hour the suite runs at
    }
    command = [sys.executable, "-m", "flask", "care", "send-due", "--date", DAY.isoformat()]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    delivered = [message["borrower_id"] for message in webhook.received]
    assert sorted(delivered) == sorted(expected)
    assert len(outbox(app)) == 8


def test_webhook_posts_json_with_an_idempotency_key(app, cast, webhook):
    borrower_id = add_borrower(app, cast, birth_date=date(1980, 3, 20))
    run(app)
    (message,) = webhook.received
    (row,) = outbox(app)
    assert message["borrower_id"] == borrower_id
    assert message["occasion"] == "birthday" and message["year"] == 2026
    assert message["text"] == row.body and message["mobile"]
    key = f"greeting-{borrower_id}-birthday-2026"
    assert message["idempotency_key"] == key
    assert webhook.headers[0]["Idempotency-Key"] == key
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, "")


def test_webhook_timeout_is_recorded_and_retried_later(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "CARE_WEBHOOK_TIMEOUT", "0.3")
    webhook.plan(("sleep", 1.5))
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    before = utcnow()
    report = run(app)
    (row,) = outbox(app)
    assert (report.sent, report.failed) == (0, 1)
    assert row.status == OutboxStatus.RETRYING and row.attempts == 1
    assert row.last_error == "no answer within 0.3 s"
    assert row.next_attempt_at >= before + timedelta(seconds=300)


def test_failure_then_success_on_retry_after_the_back_off(app, cast, webhook):
    webhook.plan(500)
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    run(app)
    (failed,) = outbox(app)
    assert failed.status == OutboxStatus.RETRYING
    assert failed.last_error.startswith("HTTP 500")

    with app.app_context():
        assert deliver_due(now=utcnow()).sent == 0  # the back-off has not passed
        report = deliver_due(now=failed.next_attempt_at + timedelta(seconds=1))

    (sent,) = outbox(app)
    assert report.sent == 1
    assert (sent.status, sent.attempts, sent.last_error) == (OutboxStatus.SENT, 2, "")
    assert len(webhook.received) == 2
    assert webhook.received[0]["idempotency_key"] == webhook.received[1]["idempotency_key"]


def test_back_off_doubles_up_to_a_day():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30, 60) == timedelta(days=1)


def test_retries_stop_at_the_attempt_limit(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "CARE_MAX_ATTEMPTS", "3")
    monkeypatch.setitem(app.config, "CARE_RETRY_SECONDS", "60")
    webhook.plan(503, 503, 503)
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    run(app)
    for _ in range(2):
        (row,) = outbox(app)
        with app.app_context():
            deliver_due(now=row.next_attempt_at + timedelta(seconds=1))
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.FAILED, 3, None)
    assert row.last_error.startswith("HTTP 503")
    with app.app_context():
        assert deliver_due(now=utcnow() + timedelta(days=30)).sent == 0
    assert len(webhook.received) == 3


def test_unreachable_gateway_is_recorded(app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "CARE_GATEWAY", "webhook")
    monkeypatch.setitem(app.config, "CARE_WEBHOOK_URL", "http://127.0.0.1:9/closed")
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    run(app)
    (row,) = outbox(app)
    assert row.status == OutboxStatus.RETRYING
    assert row.last_error.startswith("ConnectionError")


def test_cli_send_due_and_retry(app, cast, webhook):
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    webhook.plan(500)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["care", "send-due", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 queued, 0 sent, 1 failed" in result.output
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
    result = runner.invoke(args=["care", "retry"])
    assert "0 queued, 1 sent, 0 failed" in result.output
    assert outbox(app)[0].status == OutboxStatus.SENT


def test_cli_refuses_a_bad_date_and_a_bad_gateway(app, cast, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["care", "send-due", "--date", "2026-02-30"])
    assert result.exit_code != 0 and "--date" in result.output
    monkeypatch.setitem(app.config, "CARE_GATEWAY", "pigeon")
    result = runner.invoke(args=["care", "send-due", "--date", DAY.isoformat()])
    assert result.exit_code != 0 and "unknown CARE_GATEWAY 'pigeon'" in result.output
    assert outbox(app) == []
