"""An invitation reaches the borrower (portal and SMS); their answer is on the event."""

from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.care.models import OutboxMessage
from portal.core.calendar import local_today
from portal.extensions import db
from portal.networking.models import Invitation, NetworkingEvent, Reply
from portal.notices import channels
from portal.notices.models import Notice
from portal.notices.operations import save_choices
from tests.care.helpers import add_borrower

HELD_ON = date(2099, 4, 18)


def _event(app, world, held_on=HELD_ON) -> int:
    with app.app_context():
        event = NetworkingEvent(
            branch_id=world.branch.id, title="春季产销对接会", held_on=held_on, place="众兴镇农技站"
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def _invite(client, event_id, *borrower_ids):
    return client.submit(
        f"/networking/events/{event_id}/invite",
        {"borrower_ids": [str(i) for i in borrower_ids]},
        page=f"/networking/events/{event_id}/invite",
    )


def _invitation(app, event_id, borrower_id) -> Invitation:
    with app.app_context():
        invitation = db.session.scalar(
            sa.select(Invitation).filter_by(event_id=event_id, borrower_id=borrower_id)
        )
        db.session.expunge(invitation)
        return invitation


def _english(client):
    client.submit("/account", {"locale": "en"})


def test_the_invited_borrower_is_told_in_the_portal_and_by_sms_once(app, client, world):
    event_id = _event(app, world)
    lone = add_borrower(app, world)  # no account: the text says to answer the officer
    client.login("head")
    assert _invite(client, event_id, world.own_borrower.id, lone).status_code == 302
    assert _invite(client, event_id, world.own_borrower.id).status_code == 302  # already invited
    with app.app_context():
        notices = db.session.scalars(sa.select(Notice).where(Notice.event == "event.invited")).all()
        assert [(n.borrower_id, n.params["date"], n.params["place"]) for n in notices] == [
            (world.own_borrower.id, "2099-04-18", "众兴镇农技站"),
            (lone, "2099-04-18", "众兴镇农技站"),
        ]
        texts = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(t.borrower_id, t.occasion_code) for t in texts] == [
            (world.own_borrower.id, "event_invited"),
            (lone, "event_invited"),
        ]
        assert all("2099-04-18" in t.body and "众兴镇农技站" in t.body for t in texts)


def test_a_borrower_who_opted_out_of_invitations_sees_it_only_on_their_page(app, client, world):
    with app.app_context():
        save_choices(
            world.own_borrower.id,
            {channels.EVENTS: channels.Choice(portal=False, sms=False)},
            db.session.get(User, world.borrower.id),
        )
        db.session.commit()
    event_id = _event(app, world)
    client.login("head")
    _invite(client, event_id, world.own_borrower.id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notice.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    client.logout()
    client.login("borrower")
    assert "春季产销对接会" in client.get("/networking/invitations").get_data(as_text=True)


def test_the_borrower_answers_and_the_head_sees_it_on_the_event(app, client, world):
    event_id = _event(app, world)
    client.login("head")
    _invite(client, event_id, world.own_borrower.id)
    client.logout()

    client.login("borrower")
    _english(client)
    notices = client.get("/me/notices").get_data(as_text=True)
    assert "You are invited to “春季产销对接会” on 18 Apr 2099, at 众兴镇农技站." in notices
    page = client.get("/networking/invitations").get_data(as_text=True)
    assert "When: 18 Apr 2099" in page and "Where: 众兴镇农技站" in page
    assert "Please answer" in page
    invitation = _invitation(app, event_id, world.own_borrower.id)
    url = f"/networking/invitations/{invitation.id}/reply"
    response = client.submit(url, {"answer": "coming"}, page="/networking/invitations")
    assert response.status_code == 302
    page = client.get("/networking/invitations").get_data(as_text=True)
    assert "Thank you: you are coming." in page
    assert _invitation(app, event_id, world.own_borrower.id).reply == Reply.COMING
    # The answer may change until the day.
    client.submit(url, {"answer": "not_coming"}, page="/networking/invitations")
    answered = _invitation(app, event_id, world.own_borrower.id)
    assert (answered.reply, answered.replied_by_id) == (Reply.NOT_COMING, world.borrower.id)
    client.submit(url, {"answer": "coming"}, page="/networking/invitations")
    client.logout()

    client.login("head")
    _english(client)
    page = client.get(f"/networking/events/{event_id}").get_data(as_text=True)
    assert "Coming: 1" in page and "Not coming: 0" in page and "No answer yet: 0" in page
    guest = page.split('data-testid="reply"')[1].split("</span>")[0]
    assert "Coming" in guest
    with app.app_context():
        audited = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "networking.reply")
        ).all()
    assert audited == [f"borrower {world.own_borrower.id}: {r}" for r in (
        "coming", "not_coming", "coming")]  # fmt: skip


def test_no_answer_after_the_event_nor_a_made_up_one(app, client, world):
    with app.app_context():
        yesterday = local_today() - timedelta(days=1)
    event_id = _event(app, world, held_on=yesterday)
    with app.app_context():
        db.session.add(Invitation(event_id=event_id, borrower_id=world.own_borrower.id))
        db.session.commit()
    invitation = _invitation(app, event_id, world.own_borrower.id)
    client.login("borrower")
    _english(client)
    url = f"/networking/invitations/{invitation.id}/reply"
    page = client.get("/networking/invitations").get_data(as_text=True)
    assert "Past events" in page and 'data-testid="answer-coming"' not in page
    client.submit(url, {"answer": "coming"}, page="/networking/invitations")
    assert "This event has already taken place." in client.get("/networking/invitations").get_data(
        as_text=True
    )
    future = _event(app, world)
    with app.app_context():
        db.session.add(Invitation(event_id=future, borrower_id=world.own_borrower.id))
        db.session.commit()
    invitation = _invitation(app, future, world.own_borrower.id)
    url = f"/networking/invitations/{invitation.id}/reply"
    response = client.submit(url, {"answer": "maybe"}, page="/networking/invitations")
    assert response.status_code == 302
    assert _invitation(app, future, world.own_borrower.id).reply is None
    assert (
        client.submit(url, {"answer": "coming"}, page="/networking/invitations").status_code == 302
    )
    assert client.post(url, data={"answer": "coming"}).status_code == 400  # no CSRF token


def test_staff_record_an_answer_heard_by_phone(app, client, world):
    event_id = _event(app, world)
    lone = add_borrower(app, world)  # no account: answers the officer
    client.login("head")
    _invite(client, event_id, lone, world.foreign_borrower.id)
    client.logout()
    invitation = _invitation(app, event_id, lone)
    url = f"/networking/invitations/{invitation.id}/reply"
    client.login("officer")
    _english(client)
    page = client.get(f"/networking/events/{event_id}").get_data(as_text=True)
    assert page.count('data-testid="record-reply"') == 1  # only the guest they look after
    response = client.submit(url, {"answer": "not_coming"}, page=f"/networking/events/{event_id}")
    assert response.headers["Location"] == f"/networking/events/{event_id}"
    answered = _invitation(app, event_id, lone)
    assert (answered.reply, answered.replied_by_id) == (Reply.NOT_COMING, world.officer.id)
    page = client.get(f"/networking/events/{event_id}").get_data(as_text=True)
    assert "is recorded." in page and "Not coming: 1" in page
    foreign = _invitation(app, event_id, world.foreign_borrower.id)
    refused = client.submit(
        f"/networking/invitations/{foreign.id}/reply", {"answer": "coming"}, page="/account"
    )
    assert refused.status_code == 403
