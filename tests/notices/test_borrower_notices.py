"""Borrowers' notices: in their language, by the channels they chose, each sent once."""

from datetime import date

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.care.models import OutboxMessage, OutboxStatus
from portal.care.sending import deliver_due
from portal.complaints import operations as complaints
from portal.extensions import db
from portal.notices import channels
from portal.notices.models import Notice, NoticeChannel
from portal.notices.operations import notify, save_choices
from portal.services import operations as services
from portal.services.models import ServiceStatus
from tests.care.helpers import add_borrower
from tests.services.records import make_complaint, make_request

PLANNED = date(2099, 6, 1)


@pytest.fixture(autouse=True)
def _portal_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_URL", "https://portal.example.cn/")


def _texts(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _notices(app, borrower_id) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notice.event).where(Notice.borrower_id == borrower_id).order_by(Notice.id)
            )
        )


def _accept(app, world, borrower_id) -> int:
    with app.app_context():
        request = make_request(borrower_id)
        services.assign(request, db.session.get(User, world.officer.id), PLANNED, None)
        db.session.commit()
        return request.id


def _set_locale(app, username, locale):
    with app.app_context():
        db.session.scalar(sa.select(User).filter_by(username=username)).locale = locale
        db.session.commit()


def test_an_accepted_request_is_texted_in_the_borrowers_language(app, world):
    _set_locale(app, "borrower", "en")
    request_id = _accept(app, world, world.own_borrower.id)
    (row,) = _texts(app)
    assert (row.borrower_id, row.user_id, row.occasion_code) == (
        world.own_borrower.id,
        None,
        "service_accepted",
    )
    assert row.locale == "en" and row.status == OutboxStatus.PENDING
    assert row.body.startswith(f"{world.own_borrower.name}, your request for ")
    assert "officer will help you around 1 Jun 2099." in row.body
    assert row.body.endswith(f" https://portal.example.cn/me/services/{request_id}")
    assert row.template_values["date"] == "1 Jun 2099"
    assert row.once_key.startswith("notice:service.accepted:")
    assert _notices(app, world.own_borrower.id) == ["service.accepted"]


def test_chinese_is_the_language_of_a_borrower_without_an_account(app, world):
    borrower_id = add_borrower(app, world)
    _accept(app, world, borrower_id)
    (row,) = _texts(app)
    assert row.locale == "zh"
    assert "2099-06-01" in row.body and "种养殖技术培训" in row.body
    assert "https://" not in row.body  # no account: no page to open


def test_a_completed_request_carries_the_rating_link(app, world):
    with app.app_context():
        request = make_request(world.own_borrower.id, status=ServiceStatus.COMPLETED)
        db.session.commit()
        request_id = request.id
    completed = [row for row in _texts(app) if row.occasion_code == "service_completed"]
    assert len(completed) == 1
    assert completed[0].template_values["link"] == (
        f"https://portal.example.cn/me/services/{request_id}"
    )
    assert completed[0].body.endswith(completed[0].template_values["link"])


def test_an_answered_complaint_is_texted_and_without_an_account_says_whom_to_ask(app, world):
    _set_locale(app, "borrower", "en")
    lone = add_borrower(app, world, locale="en")
    with app.app_context():
        for borrower_id in (world.own_borrower.id, lone):
            complaint = make_complaint(borrower_id)
            complaints.resolve(complaint, "已加快审批，本周内放款。", None)
        db.session.commit()
    own, other = (row for row in _texts(app) if row.occasion_code == "complaint_resolved")
    assert "Please read it in the portal" in own.body
    assert own.body.endswith("/me/complaints/" + own.body.rsplit("/", 1)[1])
    assert other.locale == "zh" and "https://" not in other.body


def test_no_text_when_sms_is_off_for_the_topic_and_the_portal_keeps_the_notice(app, world):
    with app.app_context():
        actor = db.session.get(User, world.borrower.id)
        save_choices(
            world.own_borrower.id,
            {channels.SERVICES: channels.Choice(portal=False, sms=False)},
            actor,
        )
        db.session.commit()
        # A portal channel that is not optional stays on whatever was asked.
        assert channels.choice(world.own_borrower.id, channels.SERVICES) == channels.Choice(
            portal=True, sms=False
        )
    _accept(app, world, world.own_borrower.id)
    assert _texts(app) == []
    assert _notices(app, world.own_borrower.id) == ["service.accepted"]


def test_a_disabled_account_gets_no_text(app, world):
    with app.app_context():
        db.session.get(User, world.borrower.id).active = False
        db.session.commit()
    _accept(app, world, world.own_borrower.id)
    assert _texts(app) == []


def test_a_once_key_tells_an_occasion_once_in_the_portal_and_by_sms(app, world):
    with app.app_context():
        request = make_request(world.own_borrower.id)
        db.session.commit()
        for _ in range(3):
            notify(
                world.own_borrower.id,
                "session.tomorrow",
                request,
                once_key="session.tomorrow:1:1:2099-06-01",
                kind=request.kind_code,
                title="生猪养殖技术培训班",
                date=PLANNED,
                place="众兴镇农技站",
            )
        db.session.commit()
    assert _notices(app, world.own_borrower.id) == ["session.tomorrow"]
    assert [row.once_key for row in _texts(app)] == ["notice:session.tomorrow:1:1:2099-06-01"]


def test_texts_go_out_through_the_care_outbox_and_are_sent_once(app, world):
    _accept(app, world, world.own_borrower.id)
    with app.app_context():
        first, second = deliver_due(), deliver_due()
    assert (first.sent, second.sent) == (1, 0)
    assert [row.status for row in _texts(app)] == [OutboxStatus.SENT]


def test_a_greeting_and_a_notice_of_the_same_borrower_live_side_by_side(app, world):
    """The outbox keeps greetings once per borrower, occasion and year, and notices by key."""
    from portal.care.operations import queue_greetings
    from portal.care.queries import catalogue_by_code, template_bodies

    _accept(app, world, world.own_borrower.id)
    _accept(app, world, world.own_borrower.id)  # a second request, accepted too
    with app.app_context():
        names, bodies = catalogue_by_code(), template_bodies()
        due = [(world.own_borrower.id, "new_year")]
        day = date(2027, 1, 1)
        assert queue_greetings(day, due, names, bodies) == 1
        assert queue_greetings(day, due, names, bodies) == 0
        db.session.commit()
    assert sorted(row.occasion_code for row in _texts(app)) == [
        "new_year",
        "service_accepted",
        "service_accepted",
    ]


def test_the_borrower_chooses_channels_on_their_page(app, client, world):
    client.login("borrower")
    page = client.get("/me/notices/channels").get_data(as_text=True)
    assert page.count('type="checkbox"') == 8
    response = client.submit(
        "/me/notices/channels",
        {"services_sms": "y", "complaints_sms": "y", "events_sms": "y", "sessions_portal": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        saved = channels.choices_of(world.own_borrower.id)
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(NoticeChannel))
    assert rows == 4
    assert saved[channels.SERVICES] == channels.Choice(portal=True, sms=True)
    assert saved[channels.EVENTS] == channels.Choice(portal=False, sms=True)
    assert saved[channels.SESSIONS] == channels.Choice(portal=True, sms=False)


def test_staff_record_the_choice_of_a_borrower_they_look_after(app, client, world):
    client.login("officer")
    url = f"/borrowers/{world.own_borrower.id}/notice-channels"
    assert world.own_borrower.name in client.get(url).get_data(as_text=True)
    client.submit(url, {"services_portal": "y", "events_portal": "y", "sessions_portal": "y"})
    with app.app_context():
        saved = channels.choices_of(world.own_borrower.id)
        assert not any(choice.sms for choice in saved.values())
        # The officer is the one recorded as making the choice.
        assert set(db.session.scalars(sa.select(NoticeChannel.updated_by_id))) == {world.officer.id}
    assert client.get(f"/borrowers/{world.foreign_borrower.id}/notice-channels").status_code == 403


def test_an_unknown_borrower_is_not_found(client, world):
    client.login("admin")
    assert client.get("/borrowers/999999/notice-channels").status_code == 404


def test_notices_of_a_request_still_name_the_kind_in_the_readers_language(app, client, world):
    _accept(app, world, world.own_borrower.id)
    client.login("borrower")
    client.submit("/account", {"locale": "en"})
    page = client.get("/me/notices").get_data(as_text=True)
    assert "Planting / breeding technique training" in page
    assert "/me/notices/channels" in page
