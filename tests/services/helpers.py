"""Small helpers shared by the services and complaints tests."""

import re

import sqlalchemy as sa

from portal.extensions import db


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
