"""Small helpers shared by the services and complaints tests."""

import re

import sqlalchemy as sa

from portal.extensions import db

ONCE_TOKEN = re.compile(r'name="idempotency_token" type="hidden" value="([^"]+)"')


def once_token(client, page: str = "/me/services/new") -> str:
    """The once-only token the form on ``page`` carries."""
    match = ONCE_TOKEN.search(text(client.get(page)))
    assert match, f"no once-only token on {page}"
    return match.group(1)


def send_request(client, data: dict, token: str | None = None):
    """Post the borrower's service request form as a browser would, with its token."""
    token = token or once_token(client)
    return client.submit("/me/services/new", {"idempotency_token": token, **data})


def english(client):
    """Switch the logged-in user's language to English."""
    client.submit("/account", {"locale": "en"})


def count(app, model, *where) -> int:
    """Rows of ``model`` matching ``where``."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def load(app, model, object_id):
    """A detached copy of one record, attributes loaded."""
    with app.app_context():
        row = db.session.get(model, object_id)
        if row is not None:
            db.session.refresh(row)
            db.session.expunge(row)
        return row


def text(response) -> str:
    return response.get_data(as_text=True)


def flashed(page: str) -> list[str]:
    """The flashed alerts on a page."""
    return [
        m.strip()
        for m in re.findall(r'<div class="alert alert-\w+" role="alert">(.*?)</div>', page)
    ]


def new_officer(app, world, username: str = "successor") -> int:
    """A second officer of the World's branch; returns their id."""
    from portal.accounts.models import Role
    from portal.branches.models import Branch
    from tests.factories import make_user

    with app.app_context():
        officer = make_user(username, Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
        return officer.id


def reassign(client, borrower_id: int, officer_id: int, reason: str = "片区调整"):
    """The logged-in head moves a borrower to another officer on the reassign page."""
    return client.submit(
        "/borrowers/reassign",
        {"borrower_ids": [str(borrower_id)], "officer_id": str(officer_id), "reason": reason},
        page="/borrowers/reassign",
    )


def reassign_as_head(client, borrower_id: int, officer_id: int) -> None:
    """Log in as the World's head, reassign, log out."""
    client.login("head")
    response = reassign(client, borrower_id, officer_id)
    assert response.status_code == 302, text(response)[:500]
    client.logout()
