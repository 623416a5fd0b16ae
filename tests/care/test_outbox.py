"""The branch head's outbox: today's greetings, failures and the resend button."""

from datetime import timedelta

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.care.models import OutboxMessage, OutboxStatus
from portal.core.calendar import local_today
from portal.extensions import db


def _message(app, borrower, branch, status, body, days_ago=0) -> int:
    with app.app_context():
        message = OutboxMessage(
            borrower_id=borrower.id,
            branch_id=branch.id,
            occasion_code="birthday" if days_ago else "mid_autumn",
            year=local_today().year - days_ago,
            due_on=local_today() - timedelta(days=days_ago),
            locale="zh",
            body=body,
            status=status,
            attempts=1,
            last_error="HTTP 502: Bad Gateway" if status == OutboxStatus.FAILED else "",
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def _status(app, message_id):
    with app.app_context():
        return db.session.get(OutboxMessage, message_id).status


def test_head_sees_todays_greetings_of_the_branch_only(app, client, world):
    _message(app, world.own_borrower, world.branch, OutboxStatus.SENT, "本网点今天的问候")
    _message(app, world.foreign_borrower, world.other_branch, OutboxStatus.SENT, "别的网点的问候")
    client.login("head")
    page = client.get("/care/outbox").get_data(as_text=True)
    assert "本网点今天的问候" in page and "中秋节" in page
    assert "别的网点的问候" not in page and world.foreign_borrower.name not in page


def test_failures_tab_lists_failures_of_any_day_with_a_resend_button(app, client, world):
    old = _message(app, world.own_borrower, world.branch, OutboxStatus.FAILED, "旧的失败", 400)
    client.login("head")
    today = client.get("/care/outbox").get_data(as_text=True)
    assert "旧的失败" not in today
    failures = client.get("/care/outbox?show=failures").get_data(as_text=True)
    assert "旧的失败" in failures and "HTTP 502: Bad Gateway" in failures
    assert f"/care/outbox/{old}/resend" in failures


def test_admin_sees_every_branch_and_can_pick_one(app, client, world):
    _message(app, world.own_borrower, world.branch, OutboxStatus.SENT, "本网点今天的问候")
    _message(app, world.foreign_borrower, world.other_branch, OutboxStatus.SENT, "别的网点的问候")
    client.login("admin")
    page = client.get("/care/outbox").get_data(as_text=True)
    assert "本网点今天的问候" in page and "别的网点的问候" in page
    page = client.get(f"/care/outbox?branch={world.other_branch.id}").get_data(as_text=True)
    assert "本网点今天的问候" not in page and "别的网点的问候" in page


def test_resend_delivers_a_failed_greeting_now(app, client, world, webhook):
    message_id = _message(app, world.own_borrower, world.branch, OutboxStatus.FAILED, "重发我")
    client.login("head")
    response = client.submit(f"/care/outbox/{message_id}/resend", page="/care/outbox?show=failures")
    assert response.status_code == 302
    assert "问候已发送" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _status(app, message_id) == OutboxStatus.SENT
    assert [m["text"] for m in webhook.received] == ["重发我"]
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "care.resend"))


def test_resend_that_fails_again_says_so(app, client, world, webhook):
    webhook.plan(500)
    message_id = _message(app, world.own_borrower, world.branch, OutboxStatus.FAILED, "重发我")
    client.login("head")
    client.submit(f"/care/outbox/{message_id}/resend", page="/care/outbox")
    page = client.get("/care/outbox?show=failures").get_data(as_text=True)
    assert "再次发送失败" in page
    assert _status(app, message_id) == OutboxStatus.RETRYING


def test_a_sent_greeting_is_not_sent_again(app, client, world, webhook):
    message_id = _message(app, world.own_borrower, world.branch, OutboxStatus.SENT, "已发送")
    client.login("head")
    client.submit("/language", {"locale": "en"}, page="/account")
    client.submit(f"/care/outbox/{message_id}/resend", page="/care/outbox")
    page = client.get("/care/outbox?show=failures").get_data(as_text=True)
    assert "Only a failed greeting can be sent again." in page
    assert webhook.received == []
    assert _status(app, message_id) == OutboxStatus.SENT


def test_head_cannot_resend_another_branchs_greeting(app, client, world, webhook):
    message_id = _message(
        app, world.foreign_borrower, world.other_branch, OutboxStatus.FAILED, "别的网点"
    )
    client.login("head")
    response = client.submit(f"/care/outbox/{message_id}/resend", page="/care/outbox")
    assert response.status_code == 403
    assert webhook.received == []
    assert _status(app, message_id) == OutboxStatus.FAILED
