"""The demo data of issue 7: matching profiles, a past event, tiers and greetings."""

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower, BusinessType, Tier
from portal.care.models import OutboxMessage, OutboxStatus
from portal.core.calendar import local_today
from portal.demo.care import EVENT_TITLE
from portal.extensions import db
from portal.networking.matching import proposals
from portal.networking.models import Introduction, NetworkingEvent, Outcome, ProfileEntry
from portal.tiers.models import TierChange

COUNTED = (ProfileEntry, NetworkingEvent, Introduction, TierChange, OutboxMessage)


def _counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in COUNTED
        }


def test_demo_care_data_is_sensible_and_loads_once(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    first = _counts(app)
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert _counts(app) == first
    # The past event with its introductions, and one to come (portal/demo/reminders.py).
    assert first["NetworkingEvent"] == 2 and first["Introduction"] == 3

    with app.app_context():
        event = db.session.scalar(
            sa.select(NetworkingEvent).where(NetworkingEvent.title == EVENT_TITLE)
        )
        assert event.held_on < local_today()
        deals = db.session.scalars(
            sa.select(Introduction).where(Introduction.outcome == Outcome.DEAL)
        ).all()
        assert len(deals) == 2 and all(deal.deal_amount for deal in deals)
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(Borrower.tier == Tier.STRATEGIC))
            == 2
        )
        statuses = set(db.session.scalars(sa.select(OutboxMessage.status)))
        assert statuses <= {OutboxStatus.SENT, OutboxStatus.FAILED}
        assert OutboxStatus.FAILED in statuses  # the outbox shows a failure to resend


def test_demo_feed_seller_is_proposed_to_pig_farms(app, client):
    app.test_cli_runner().invoke(args=["demo", "load"])
    with app.test_request_context(), app.app_context():
        seller = db.session.scalars(
            sa.select(Borrower)
            .where(Borrower.business_type == BusinessType.FEED_SUPPLY)
            .order_by(Borrower.id)
        ).first()
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        (proposal,) = proposals(admin, [seller.id], "zh")
        buyers = {m.buyer.id for m in proposal.matches if m.supplier.id == seller.id}
        kinds = set(
            db.session.scalars(sa.select(Borrower.business_type).where(Borrower.id.in_(buyers)))
        )
        assert BusinessType.PIG_FARMING in kinds
        assert any("饲料" in reason for m in proposal.matches for reason in m.reasons)
