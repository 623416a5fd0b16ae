"""Conflicts are held for the head, never lost: each reason stored as received and reported."""

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.borrowers.operations import reassign
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit.models import FieldEntry, HoldReason, Outcome
from portal.loans.models import Loan, LoanStatus
from portal.visits.models import Visit
from tests.factories import make_loan, make_user
from tests.fieldkit.helpers import make_entry, make_plan, post_entry, post_status


def _plan(app, world, created_at=None) -> int:
    with app.app_context():
        plan = make_plan(world.officer.id, [world.own_borrower.id], created_at=created_at)
        db.session.commit()
        return plan.id


def _reassigned(app, world, plan_id):
    with app.app_context():
        successor = make_user("successor", Role.OFFICER, db.session.get(User, world.head.id).branch)
        reassign(
            [db.session.get(Borrower, world.own_borrower.id)],
            successor,
            "片区调整",
            by=db.session.get(User, world.head.id),
        )
        db.session.commit()
    return make_entry(world.own_borrower.id, plan_id)


def _loan_closed(app, world, plan_id):
    with app.app_context():
        loan = db.session.get(Loan, world.own_loan.id)
        loan.status, loan.closed_on = LoanStatus.CLOSED, date.today()
        db.session.commit()
    return make_entry(world.own_borrower.id, plan_id)


def _another_loan_than_planned(app, world, plan_id):
    with app.app_context():
        loan = db.session.get(Loan, world.own_loan.id)
        loan.status, loan.closed_on = LoanStatus.CLOSED, date.today()
        borrower = db.session.get(Borrower, world.own_borrower.id)
        make_loan(
            borrower, LoanStatus.ACTIVE, contract_number="JK-NEW-1", disbursed_on=date.today()
        )
        db.session.commit()
    return make_entry(world.own_borrower.id, plan_id)


def _window_passed(app, world, plan_id):
    long_ago = utcnow() - timedelta(days=8)
    return make_entry(world.own_borrower.id, None, visited_at=long_ago, signed_at=long_ago)


def _invalid(app, world, plan_id):
    return make_entry(world.own_borrower.id, plan_id, business_state=None, satisfaction="9")


def _hash_mismatch(app, world, plan_id):
    entry = make_entry(world.own_borrower.id, plan_id)
    entry["fields"]["borrower_opinions"] = ["改过的意见"]
    return entry


def _signed_in_the_future(app, world, plan_id):
    return make_entry(world.own_borrower.id, plan_id, signed_at=utcnow() + timedelta(hours=1))


def _signed_before_the_plan(app, world, plan_id):
    return make_entry(world.own_borrower.id, plan_id, signed_at=utcnow() - timedelta(hours=3))


def _signed_before_the_visit(app, world, plan_id):
    return make_entry(
        world.own_borrower.id,
        plan_id,
        visited_at=utcnow() - timedelta(minutes=20),
        signed_at=utcnow() - timedelta(minutes=40),
    )


CASES = [
    (_reassigned, HoldReason.REASSIGNED),
    (_loan_closed, HoldReason.LOAN_CLOSED),
    (_another_loan_than_planned, HoldReason.LOAN_CLOSED),
    (_window_passed, HoldReason.WINDOW_PASSED),
    (_invalid, HoldReason.INVALID),
    (_hash_mismatch, HoldReason.HASH_MISMATCH),
    (_signed_in_the_future, HoldReason.TIME),
    (_signed_before_the_plan, HoldReason.TIME),
    (_signed_before_the_visit, HoldReason.TIME),
]


@pytest.mark.parametrize(("conflict", "reason"), CASES, ids=[c.__name__[1:] for c, _ in CASES])
def test_a_conflict_is_held_for_the_head_with_its_reason(client, app, world, conflict, reason):
    plan_id = _plan(app, world, created_at=utcnow() - timedelta(hours=2))
    entry = conflict(app, world, plan_id)
    client.login("officer")
    first = post_entry(client, entry)
    assert first.status_code == 202, first.get_json()
    answer = first.get_json()
    assert answer["outcome"] == "held" and answer["reason"] == reason.value and answer["message"]
    if reason == HoldReason.INVALID:
        assert set(answer["errors"]) == {"business_state", "satisfaction"}
    again = post_entry(client, entry)
    assert again.status_code == 200 and again.get_json() == answer
    status = post_status(client, [entry["client_id"]]).get_json()["entries"][0]
    assert status["outcome"] == "held" and status["reason"] == reason.value

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
        held = db.session.scalars(sa.select(FieldEntry)).one()
        assert held.outcome == Outcome.HELD and held.reason == reason
        assert json.loads(held.payload) == entry  # all of it, the signature included
        assert held.branch_id == world.branch.id
        held_id = held.id

    client.logout()
    client.login("head")
    queue = client.get("/field/held").get_data(as_text=True)
    assert f'data-reason="{reason.value}"' in queue and f"/field/held/{held_id}" in queue
    assert 'data-testid="held-count"' in client.get("/visits/compliance").get_data(as_text=True)
    detail = client.get(f"/field/held/{held_id}")
    assert detail.status_code == 200
    assert "改过的意见" in detail.get_data(as_text=True) or reason != HoldReason.HASH_MISMATCH
    signature = client.get(f"/field/held/{held_id}/signature.png")
    assert signature.status_code == 200 and signature.mimetype == "image/png"
    assert "no-store" in signature.headers["Cache-Control"]

    done = client.submit(f"/field/held/{held_id}/handle", {"note": "已电话核实，补录一次走访。"})
    assert done.status_code == 302
    with app.app_context():
        held = db.session.get(FieldEntry, held_id)
        assert held.handled_at is not None and held.handled_by_id == world.head.id
        assert json.loads(held.payload) == entry
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "fieldkit.handle"
                )
            )
            == 1
        )
    assert f"/field/held/{held_id}" not in client.get("/field/held").get_data(as_text=True)
    # Handled once: a second note is refused and changes nothing.
    client.submit(f"/field/held/{held_id}/handle", {"note": "再写一次"})
    with app.app_context():
        assert db.session.get(FieldEntry, held_id).handled_note == "已电话核实，补录一次走访。"


def test_held_entries_belong_to_the_borrowers_branch(client, app, world):
    plan_id = _plan(app, world)
    entry = make_entry(world.own_borrower.id, plan_id)
    entry["content_hash"] = "f" * 64
    client.login("officer")
    post_entry(client, entry)
    with app.app_context():
        held_id = db.session.scalars(sa.select(FieldEntry.id)).one()
    client.logout()
    client.login("otherhead")
    assert client.get(f"/field/held/{held_id}").status_code == 403
    assert client.get(f"/field/held/{held_id}/signature.png").status_code == 403
    assert f"/field/held/{held_id}" not in client.get("/field/held").get_data(as_text=True)
    client.logout()
    client.login("admin")
    assert client.get(f"/field/held/{held_id}").status_code == 200


def test_an_officer_cannot_post_a_visit_for_another_officers_borrower(client, app, world):
    entry = make_entry(world.foreign_borrower.id)
    client.login("officer")
    answer = post_entry(client, entry).get_json()
    assert answer["outcome"] == "held" and answer["reason"] == "reassigned"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
        held = db.session.scalars(sa.select(FieldEntry)).one()
        # The other branch's head decides; nothing of it reaches this officer's pages.
        assert held.branch_id == world.other_branch.id
