"""An edit that loses a race on the same borrower answers the one 409 page.

A form that was already stale when sent is another thing: it is refused with the
values the other person saved (tests/borrowers/test_edit.py). Here both forms were
current; the other save lands while ours is being written (tests/core/test_conflicts.py).
"""

import pytest

from portal.borrowers.models import Borrower
from portal.extensions import db
from tests.borrowers.helpers import fetch
from tests.borrowers.test_edit import _form
from tests.core.test_conflicts import CONFLICT, meanwhile


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: no two requests write at once")


def test_an_edit_written_while_the_head_saves_the_same_borrower(app, client, world):
    borrower_id = world.own_borrower.id
    client.login("officer")
    mine = _form(client, borrower_id, village="一村")

    def head_saves_the_borrower():
        db.session.get(Borrower, borrower_id).village = "二村"

    with meanwhile(app, head_saves_the_borrower):
        response = client.submit(f"/borrowers/{borrower_id}/edit", mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert CONFLICT in page
    assert 'data-testid="edit-conflict"' not in page
    assert fetch(app, Borrower, id=borrower_id).village == "二村"
