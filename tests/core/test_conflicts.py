"""Two people saving the same thing at the same moment: the second is told, never a 500.

The competing request runs for real, in its own app context and database connection, at
the moment the first request is about to write (``before_flush``). SQLite serializes
writers (every write transaction begins IMMEDIATE), so the race exists only on PostgreSQL.
"""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers import operations as borrower_operations
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.care import operations as care_operations
from portal.care.models import Occasion
from portal.extensions import db
from tests.factories import make_user

CONFLICT = "在此期间有人修改了这条记录"


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: no two requests write at once")


@contextmanager
def meanwhile(app, competing_write):
    """Run ``competing_write`` in another request, committed just before ours first writes.

    Ours has read what it is about to change; the other request changes it first.
    """
    done = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        writes = statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        if done or not writes:
            return
        done.append(statement)
        with app.app_context():
            competing_write()
            db.session.commit()

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)
    assert done, "the request wrote nothing"


def _colleague(app, world) -> int:
    with app.app_context():
        colleague = make_user("colleague", Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
        return colleague.id


def test_two_heads_reassigning_one_borrower_at_once(app, client, world):
    colleague = _colleague(app, world)
    client.login(world.head.name)
    token = client.csrf_token("/borrowers/reassign")

    def other_head_moves_the_borrower():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        borrower_operations.reassign(
            [borrower],
            db.session.get(User, colleague),
            "另一位主管",
            by=db.session.get(User, world.admin.id),
        )

    with meanwhile(app, other_head_moves_the_borrower):
        response = client.post(
            "/borrowers/reassign",
            data={
                "borrower_ids": [str(world.own_borrower.id)],
                "officer_id": str(colleague),
                "reason": "调整片区",
                "csrf_token": token,
            },
        )
    assert response.status_code == 409
    assert CONFLICT in response.get_data(as_text=True)


def test_two_admins_adding_the_same_occasion_code_at_once(app, client, world):
    client.login(world.admin.name)
    values = {
        "code": "laba",
        "name_zh": "腊八节",
        "name_en": "Laba Festival",
        "calendar": "lunar",
        "month": "12",
        "day": "8",
        "term_name": "",
        "active": "y",
    }

    def other_admin_adds_it():
        care_operations.create_occasion(
            **values | {"month": 12, "day": 8, "term_name": None, "active": True}
        )

    token = client.csrf_token("/care/occasions/new")
    with meanwhile(app, other_admin_adds_it):
        response = client.post("/care/occasions/new", data={**values, "csrf_token": token})
    assert response.status_code == 409
    assert CONFLICT in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Occasion)) >= 1
