"""Helpers shared by the care, tiers and networking tests."""

import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.care.models import OutboxMessage
from portal.extensions import db
from tests.factories import make_borrower, make_user


def add_borrower(
    app, world, username=None, locale="zh", active=True, officer_id=None, **overrides
) -> int:
    """A borrower of the World's officer (or another), with a login when ``username`` is given."""
    with app.app_context():
        officer = db.session.get(User, officer_id or world.officer.id)
        user = None
        if username:
            user = make_user(username, Role.BORROWER, officer.branch, locale=locale)
            user.active = active
        borrower = make_borrower(officer, user=user, **overrides)
        db.session.commit()
        return borrower.id


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows
