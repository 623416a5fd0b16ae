"""The admin's home shows what needs the admin: branches without a head, failed greetings,
accounts, the training material — each with the page where it is dealt with."""

from datetime import date

import sqlalchemy as sa

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.care.models import OutboxMessage, OutboxStatus
from portal.extensions import db
from portal.training.models import TrainingMaterial


def _home(client, locale: str = "en") -> str:
    client.login("admin")
    client.submit("/account", {"locale": locale})
    return client.get("/").get_data(as_text=True)


def test_admin_home_lists_what_waits_with_links(client, world, app):
    with app.app_context():
        db.session.add(Branch(code="B999", name="Hetian"))
        db.session.add(
            OutboxMessage(
                borrower_id=world.own_borrower.id,
                branch_id=world.branch.id,
                occasion_code="birthday",
                year=2026,
                due_on=date(2026, 11, 1),
                locale="zh",
                body="生日快乐",
                status=OutboxStatus.FAILED,
            )
        )
        db.session.get(User, world.other_officer.id).active = False
        db.session.commit()
    page = _home(client)
    assert "1 branch has no branch head" in page and "B999" in page
    assert "1 greeting could not be sent" in page and 'href="/care/outbox"' in page
    assert "1 account is disabled" in page and 'href="/admin/users"' in page
    assert "No material is published" in page and 'href="/admin/training/"' in page
    assert 'data-testid="desk-clear"' not in page


def test_admin_home_says_when_nothing_waits(client, world, app):
    with app.app_context():
        for user in db.session.scalars(sa.select(User).where(User.must_change_password)):
            user.must_change_password = False
        db.session.add(
            TrainingMaterial(
                version=1,
                title_zh="诚信",
                title_en="Integrity",
                published_at=db.func.now(),
            )
        )
        db.session.commit()
    page = _home(client, "zh")
    assert 'data-testid="desk-clear"' in page
    assert 'data-testid="desk-branches"' not in page and 'data-testid="desk-greetings"' not in page


def test_only_the_admin_gets_the_desk(client, world):
    client.login("head")
    assert 'data-testid="admin-desk"' not in client.get("/").get_data(as_text=True)
