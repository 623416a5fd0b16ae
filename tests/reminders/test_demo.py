"""The demo data shows reminders and notices at work, and loads them once."""

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.care.models import OutboxMessage, OutboxStatus
from portal.demo.reminders import COMING_EVENT_TITLE
from portal.extensions import db
from portal.networking.models import Invitation, NetworkingEvent, Reply
from portal.notices.models import Notice
from portal.reminders import texts
from portal.reminders.models import StaffNotice
from portal.visits.compliance import officer_month


def _counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (StaffNotice, Notice, Invitation, OutboxMessage)
        }


def test_the_demo_has_a_coming_event_with_answers_and_this_mornings_reminders(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    first = _counts(app)
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert _counts(app) == first

    with app.app_context():
        event = db.session.scalar(
            sa.select(NetworkingEvent).where(NetworkingEvent.title == COMING_EVENT_TITLE)
        )
        replies = dict(
            db.session.execute(
                sa.select(User.username, Invitation.reply)
                .join(Borrower, Borrower.id == Invitation.borrower_id)
                .join(User, User.id == Borrower.user_id)
                .where(Invitation.event_id == event.id)
            ).all()
        )
        assert replies == {
            "borrower1": None,
            "borrower3": Reply.COMING,
            "borrower5": Reply.COMING,
            "borrower7": Reply.NOT_COMING,
            "borrower9": None,
        }
        told = db.session.scalars(
            sa.select(User.username)
            .join(StaffNotice, StaffNotice.user_id == User.id)
            .where(StaffNotice.kind == texts.MORNING)
        ).all()
        # Told: exactly the officers whose month page lists visits still to make.
        officers = db.session.scalars(sa.select(User).where(User.username.like("officer%")))
        owing = {
            o.username for o in officers if officer_month(o.id).due + officer_month(o.id).overdue
        }
        assert set(told) == owing
        invited = db.session.scalar(
            sa.select(sa.func.count(Notice.id)).where(Notice.event == "event.invited")
        )
        assert invited == 5
        texted = set(
            db.session.scalars(
                sa.select(OutboxMessage.status).where(OutboxMessage.once_key.is_not(None))
            )
        )
        assert texted == {OutboxStatus.SENT}
