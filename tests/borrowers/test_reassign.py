"""The branch head moves borrowers to another officer; the history is kept."""

import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.branches.models import Branch
from portal.extensions import db
from tests.borrowers.helpers import audit_actions, counts, english, fetch, page_text
from tests.factories import make_borrower, make_user


def _setup(app, world) -> tuple[int, int]:
    """A second officer in the branch, and a second borrower of the first officer."""
    with app.app_context():
        colleague = make_user(
            "colleague",
            Role.OFFICER,
            db.session.get(Branch, world.branch.id),
            display_name="林晓燕",
        )
        second = make_borrower(db.session.get(User, world.officer.id))
        db.session.commit()
        return colleague.id, second.id


def _assignments(app, borrower_id: int) -> list[OfficerAssignment]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OfficerAssignment)
            .where(OfficerAssignment.borrower_id == borrower_id)
            .order_by(OfficerAssignment.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_head_moves_several_borrowers_with_history(client, world, app):
    colleague, second = _setup(app, world)
    client.login("head")
    page = page_text(client.get("/borrowers/reassign"))
    assert f'value="{world.own_borrower.id}"' in page and f'value="{second}"' in page
    response = client.submit(
        "/borrowers/reassign",
        {
            "borrower_ids": [str(world.own_borrower.id), str(second)],
            "officer_id": str(colleague),
            "reason": "陈志强调往县城网点",
        },
    )
    assert response.status_code == 302
    for borrower_id in (world.own_borrower.id, second):
        assert fetch(app, Borrower, id=borrower_id).officer_id == colleague
        old, new = _assignments(app, borrower_id)
        assert old.officer_id == world.officer.id and old.ended_at is not None
        assert new.officer_id == colleague and new.ended_at is None
        assert new.reason == "陈志强调往县城网点" and new.assigned_by_id == world.head.id
    assert len(audit_actions(app, "borrower.reassign")) == 2
    assert "已调整给林晓燕的借款人：2 位" in page_text(client.get("/borrowers/reassign"))

    detail = page_text(client.get(f"/borrowers/{second}"))
    assert "林晓燕" in detail and "陈志强调往县城网点" in detail and "officer" in detail

    # the old officer no longer sees them; the new one does
    client.logout()
    client.login("officer")
    assert client.get(f"/borrowers/{second}").status_code == 403
    client.logout()
    client.login("colleague")
    assert client.get(f"/borrowers/{second}").status_code == 200


def test_head_cannot_move_another_branchs_borrower_by_tampering(client, world, app):
    colleague, _ = _setup(app, world)
    client.login("head")
    before = counts(app)
    response = client.submit(
        "/borrowers/reassign",
        {
            "borrower_ids": [str(world.own_borrower.id), str(world.foreign_borrower.id)],
            "officer_id": str(colleague),
            "reason": "tampering",
        },
    )
    assert response.status_code == 403
    assert counts(app) == before
    assert fetch(app, Borrower, id=world.foreign_borrower.id).officer_id == world.other_officer.id


def test_head_cannot_choose_another_branchs_officer(client, world, app):
    client.login("head")
    before = counts(app)
    page = page_text(
        client.submit(
            "/borrowers/reassign",
            {
                "borrower_ids": [str(world.own_borrower.id)],
                "officer_id": str(world.other_officer.id),
                "reason": "x",
            },
        )
    )
    assert "不是有效的选择" in page
    assert counts(app) == before


def test_admin_cannot_move_a_borrower_across_branches(client, world, app):
    client.login("admin")
    english(client)
    before = counts(app)
    page = page_text(
        client.submit(
            "/borrowers/reassign",
            {
                "borrower_ids": [str(world.own_borrower.id)],
                "officer_id": str(world.other_officer.id),
                "reason": "x",
            },
        )
    )
    assert "These borrowers belong to another branch" in page
    assert counts(app) == before


def test_reason_and_a_ticked_borrower_are_required(client, world, app):
    colleague, _ = _setup(app, world)
    client.login("head")
    english(client)
    page = page_text(client.submit("/borrowers/reassign", {"officer_id": str(colleague)}))
    assert "Tick at least one borrower." in page and "Give a reason for the change." in page


def test_officers_cannot_reassign(client, world, app):
    colleague, _ = _setup(app, world)
    client.login("officer")
    response = client.submit(
        "/borrowers/reassign",
        {"borrower_ids": [str(world.own_borrower.id)], "officer_id": str(colleague), "reason": "x"},
        page="/account",
    )
    assert response.status_code == 403
    assert fetch(app, Borrower, id=world.own_borrower.id).officer_id == world.officer.id
