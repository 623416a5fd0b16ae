"""Menu counts run statements built once per role (portal/core/statements.py): each
user must still get their own figures, whoever asked first in the same worker."""

import re

from portal.extensions import db
from portal.services.models import ServiceStatus
from tests.services.records import make_request


def _badge(page: str, name: str) -> str | None:
    found = re.search(rf'data-testid="{name}"[^>]*>(\d+)<', page)
    return found.group(1) if found else None


def test_a_count_built_once_counts_for_each_user_who_asks(client, world, app):
    with app.app_context():
        for _ in range(2):
            make_request(world.own_borrower.id)
        make_request(world.foreign_borrower.id)
        make_request(world.foreign_borrower.id, status=ServiceStatus.ACCEPTED)
        db.session.commit()
    expected = [
        ("head", "queue-count", "2"),
        ("otherhead", "queue-count", "1"),
        ("otherofficer", "assignment-count", "1"),
        ("officer", "assignment-count", None),
        ("head", "queue-count", "2"),
    ]
    for username, badge, count in expected:
        client.login(username)
        assert _badge(client.get("/account").get_data(as_text=True), badge) == count, username
        client.logout()
