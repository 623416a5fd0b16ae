"""The day before a group session, its borrowers are reminded once."""

from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.care.models import OutboxMessage
from portal.extensions import db
from portal.notices.models import Notice
from portal.reminders import operations
from portal.services import operations as services
from portal.services.models import ServiceSession
from tests.services.records import make_request, make_session

TOMORROW = date(2099, 6, 2)
TODAY = TOMORROW - timedelta(days=1)


def _session_with_requests(app, world, held_on=TOMORROW) -> int:
    with app.app_context():
        session = make_session(world.branch.id, world.officer.id, held_on=held_on)
        requests = [make_request(world.own_borrower.id)]
        services.add_to_session(session, requests, db.session.get(User, world.head.id))
        db.session.commit()
        return session.id


def _remind(app, day=TODAY) -> int:
    with app.app_context():
        count = operations.session_reminders(day)
        db.session.commit()
        return count


def _reminders(app) -> tuple[list, list]:
    with app.app_context():
        notices = db.session.scalars(
            sa.select(Notice).where(Notice.event == "session.tomorrow").order_by(Notice.id)
        ).all()
        texts = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.occasion_code == "session_tomorrow")
        ).all()
        db.session.expunge_all()
        return notices, texts


def test_the_borrowers_of_tomorrows_session_are_reminded_once(app, client, world):
    _session_with_requests(app, world)
    assert _remind(app, TODAY - timedelta(days=1)) == 0  # two days before: not yet
    assert _remind(app) == 1
    assert _remind(app) == 1  # a second run finds the borrower already told
    notices, texts = _reminders(app)
    assert [n.borrower_id for n in notices] == [world.own_borrower.id]
    assert notices[0].params["date"] == TOMORROW.isoformat()
    assert [t.borrower_id for t in texts] == [world.own_borrower.id]
    assert "2099-06-02" in texts[0].body and "众兴镇农技站" in texts[0].body

    client.login("borrower")
    client.submit("/account", {"locale": "en"})
    page = client.get("/me/notices").get_data(as_text=True)
    assert "Reminder: the group session “生猪养殖技术培训班”" in page
    assert "is tomorrow, 2 Jun 2099, at 众兴镇农技站." in page


def test_a_session_moved_to_another_day_earns_a_new_reminder(app, world):
    session_id = _session_with_requests(app, world)
    _remind(app)
    later = TOMORROW + timedelta(days=7)
    with app.app_context():
        db.session.get(ServiceSession, session_id).held_on = later
        db.session.commit()
    _remind(app)  # nothing: the session is no longer tomorrow
    assert len(_reminders(app)[0]) == 1
    _remind(app, later - timedelta(days=1))
    notices, texts = _reminders(app)
    assert [n.params["date"] for n in notices] == [TOMORROW.isoformat(), later.isoformat()]
    assert len(texts) == 2


def test_a_session_already_completed_reminds_nobody(app, world):
    session_id = _session_with_requests(app, world)
    with app.app_context():
        from portal.database import utcnow

        db.session.get(ServiceSession, session_id).completed_at = utcnow()
        db.session.commit()
    assert _remind(app) == 0
    assert _reminders(app) == ([], [])
