"""Quiet hours and the daily limit per number, on the company's clock.

They apply to every gateway that reaches phones; the webhook on loopback stands in for
one here (the providers' own answers are tests/care/test_sms_providers.py).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal import settings
from portal.borrowers.models import Borrower
from portal.care.models import OutboxMessage, OutboxStatus
from portal.care.operations import queue_day
from portal.care.sending import deliver_due, send_due
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from tests.care.helpers import add_borrower, outbox

SPRING_FESTIVAL = date(2027, 2, 6)


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the company's day (Asia/Shanghai, UTC+8) as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "21:00-08:00")


def test_nothing_is_sent_in_the_quiet_hours_and_it_goes_when_they_end(app, cast, webhook, quiet):
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    day = date(2026, 3, 20)
    with app.app_context():
        late = send_due(day, now=shanghai(day, 22, 30))
        early = deliver_due(now=shanghai(day + timedelta(days=1), 7, 59))
        morning = deliver_due(now=shanghai(day + timedelta(days=1), 8, 0))
    assert (late.queued, late.sent) == (1, 0)
    assert late.quiet_until == shanghai(day + timedelta(days=1), 8, 0)
    assert str(late).endswith("; quiet hours until 08:00")
    assert early.sent == 0 and morning.sent == 1
    assert len(webhook.received) == 1 and outbox(app)[0].status == OutboxStatus.SENT


def test_quiet_hours_within_one_day(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "12:00-14:00")
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    day = date(2026, 3, 20)
    with app.app_context():
        assert send_due(day, now=shanghai(day, 13, 59)).sent == 0
        assert deliver_due(now=shanghai(day, 14, 0)).sent == 1


def test_the_log_gateway_reaches_no_phone_and_keeps_no_hours(app, cast, quiet):
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    day = date(2026, 3, 20)
    with app.app_context():
        assert send_due(day, now=shanghai(day, 23, 0)).sent == 1


def test_a_resend_in_the_quiet_hours_is_refused_and_nothing_changes(
    app, client, world, webhook, monkeypatch
):
    now = utcnow().astimezone(UTC)
    local = now + timedelta(hours=8)
    # Quiet hours around this very minute, whatever the hour the suite runs at.
    start, end = (local - timedelta(hours=1)).time(), (local + timedelta(hours=1)).time()
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", f"{start:%H:%M}-{end:%H:%M}")
    with app.app_context():
        row = OutboxMessage(borrower_id=world.own_borrower.id, branch_id=world.branch.id,
                            occasion_code="birthday", year=2026, due_on=date(2026, 3, 20),
                            locale="zh", body="重发我", status=OutboxStatus.FAILED, attempts=5)  # fmt: skip
        db.session.add(row)
        db.session.commit()
        message_id = row.id
    client.login("head")
    client.submit("/account", {"locale": "en"})
    page = client.submit(
        f"/care/outbox/{message_id}/resend", page="/care/outbox?show=failures",
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "No greeting is sent during the quiet hours" in page
    assert webhook.received == []
    (row,) = outbox(app)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 5)


def _borrower_mobile(app, borrower_id) -> str:
    with app.app_context():
        return db.session.get(Borrower, borrower_id).mobile


def test_the_daily_limit_holds_one_more_until_the_next_morning(
    app, cast, webhook, quiet, monkeypatch
):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP", 2)
    born = add_borrower(app, cast, birth_date=date(1980, 2, 6))  # greeted on Spring Festival
    mobile, noon = _borrower_mobile(app, born), shanghai(SPRING_FESTIVAL, 12)
    with app.app_context():
        # Two texts already went to this number today (company time), one of them just
        # before midnight UTC: 07:30 in Shanghai is the same company day.
        for code, sent_at in (("lantern", shanghai(SPRING_FESTIVAL, 7, 30)), ("qingming", noon)):
            db.session.add(OutboxMessage(borrower_id=born, branch_id=cast.branch.id,
                                         occasion_code=code, year=2027, due_on=SPRING_FESTIVAL,
                                         locale="zh", body="x", status=OutboxStatus.SENT,
                                         sent_at=sent_at, mobile=mobile))  # fmt: skip
        queue_day(SPRING_FESTIVAL)
        db.session.commit()
        report = deliver_due(now=noon + timedelta(hours=1))
    assert report.held == 2  # the birthday and the festival greeting
    assert report.sent == 2  # the World's two borrowers, whose numbers had nothing yet
    held = [row for row in outbox(app) if row.status == OutboxStatus.PENDING]
    assert {row.borrower_id for row in held} == {born}
    next_morning = shanghai(SPRING_FESTIVAL + timedelta(days=1), 8)  # when the quiet hours end
    for row in held:
        assert (row.attempts, row.next_attempt_at) == (0, next_morning)  # waiting is no attempt
        assert row.last_error == "daily limit of 2 messages to this number reached"
    with app.app_context():
        assert deliver_due(now=next_morning - timedelta(minutes=1)).sent == 0
        assert deliver_due(now=next_morning).sent == 2  # a new day for the number
    assert [m["borrower_id"] for m in webhook.received].count(born) == 2


def test_one_run_holds_what_is_past_the_limit(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP", 1)
    born = add_borrower(app, cast, birth_date=date(1980, 2, 6))
    with app.app_context():
        queue_day(SPRING_FESTIVAL)
        db.session.commit()
        report = deliver_due()
    mine = [row for row in outbox(app) if row.borrower_id == born]
    assert sorted(row.status for row in mine) == [OutboxStatus.PENDING, OutboxStatus.SENT]
    assert report.held == 1 and str(report).endswith(", 1 held back by the daily limit")
    (held,) = [row for row in mine if row.status == OutboxStatus.PENDING]
    assert held.next_attempt_at > utcnow()


def test_the_limit_is_per_number(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP", 1)
    first = add_borrower(app, cast, birth_date=date(1980, 3, 20))
    second = add_borrower(app, cast, birth_date=date(1981, 3, 20))
    with app.app_context():
        report = send_due(date(2026, 3, 20))
    assert (report.sent, report.held) == (2, 0)
    assert sorted(m["borrower_id"] for m in webhook.received) == sorted([first, second])


def test_no_limit_when_it_is_zero(app, cast, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP", 0)
    add_borrower(app, cast, birth_date=date(1980, 2, 6))
    with app.app_context():
        queue_day(SPRING_FESTIVAL)
        db.session.commit()
        assert deliver_due().held == 0


def test_a_resend_past_the_limit_is_refused(app, client, world, webhook, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP", 1)
    with app.app_context():
        mobile = db.session.get(Borrower, world.own_borrower.id).mobile
        common = {"borrower_id": world.own_borrower.id, "branch_id": world.branch.id,
                  "year": 2026, "due_on": date(2026, 3, 20), "locale": "zh", "body": "x"}  # fmt: skip
        db.session.add(OutboxMessage(occasion_code="qingming", status=OutboxStatus.SENT,
                                     sent_at=utcnow(), mobile=mobile, **common))  # fmt: skip
        failed = OutboxMessage(occasion_code="birthday", status=OutboxStatus.FAILED, **common)
        db.session.add(failed)
        db.session.commit()
        failed_id = failed.id
    client.login("head")
    client.submit("/account", {"locale": "en"})
    page = client.submit(
        f"/care/outbox/{failed_id}/resend", page="/care/outbox?show=failures",
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "This number has already had 1 message today, the most a day." in page
    assert webhook.received == []


def test_the_outbox_page_says_a_held_greeting_waits(app, client, world):
    with app.app_context():
        db.session.add(
            OutboxMessage(borrower_id=world.own_borrower.id, branch_id=world.branch.id,
                          occasion_code="birthday", year=2026, due_on=local_today(),
                          locale="zh", body="生日快乐", status=OutboxStatus.PENDING,
                          next_attempt_at=shanghai(date(2026, 3, 21), 8),
                          last_error="daily limit of 3 messages to this number reached")
        )  # fmt: skip
        db.session.commit()
    client.login("head")
    client.submit("/account", {"locale": "en"})
    page = client.get("/care/outbox?show=recent").get_data(as_text=True)
    assert "The daily limit for this number is reached; it waits until" in page


@pytest.mark.parametrize(
    ("value", "stored"),
    [("21:00-08:00", "21:00-08:00"), (" 22:30 - 07:00 ", "22:30-07:00"), ("off", ""), ("", "")],
)
def test_quiet_hours_setting(monkeypatch, value, stored):
    monkeypatch.setenv("SMS_QUIET_HOURS", value)
    assert settings.from_environment({"SECRET_KEY": "x"})["SMS_QUIET_HOURS"] == stored


@pytest.mark.parametrize("value", ["21-8", "25:00-08:00", "08:00-08:00", "21:00", "night"])
def test_quiet_hours_setting_refuses_what_is_not_a_span(monkeypatch, value):
    monkeypatch.setenv("SMS_QUIET_HOURS", value)
    with pytest.raises(settings.ConfigurationError, match="SMS_QUIET_HOURS"):
        settings.from_environment({"SECRET_KEY": "x"})


def test_the_defaults(monkeypatch):
    for name in ("SMS_QUIET_HOURS", "SMS_DAILY_CAP"):
        monkeypatch.delenv(name, raising=False)
    config = settings.from_environment({"SECRET_KEY": "x"})
    assert (config["SMS_QUIET_HOURS"], config["SMS_DAILY_CAP"]) == ("21:00-08:00", 3)


def test_production_refuses_a_short_receipts_token(monkeypatch):
    config = settings.from_environment({"SECRET_KEY": "x", "PORTAL_ENV": "production",
                                        "SQLALCHEMY_DATABASE_URI": "postgresql://db/portal",
                                        "SMS_RECEIPT_TOKEN": "short"})  # fmt: skip
    with pytest.raises(settings.ConfigurationError, match="SMS_RECEIPT_TOKEN"):
        settings.check_production(config)
