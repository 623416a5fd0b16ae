"""Signed means frozen: no edits (HTTP or ORM), corrections are signed amendments, hashes verify."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.visits.models import SignedVisitError, Visit, VisitSignature, VisitWarning
from portal.visits.operations import verify
from portal.visits.signing import canonical_record, content_hash
from tests.visits.conftest import english, local_input
from tests.visits.helpers import make_visit, signature_png


@pytest.fixture
def signed(app, world) -> int:
    """A signed visit of the officer's borrower, made yesterday; its id."""
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1),
        )
        db.session.commit()
        return visit.id


def _snapshot(app, visit_id: int) -> dict:
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        png = db.session.get(VisitSignature, visit_id).png
        return {"record": canonical_record(visit, png), "hash": visit.content_hash}


def test_http_offers_no_way_to_edit_a_signed_visit(client, world, app, signed, visit_form):
    before = _snapshot(app, signed)
    client.login("officer")
    for method in (client.post, client.put, client.patch, client.delete):
        token = client.csrf_token(f"/visits/{signed}")
        response = method(
            f"/visits/{signed}", data=visit_form(place="改过的地点", csrf_token=token)
        )
        assert response.status_code == 405
    assert _snapshot(app, signed) == before


def test_the_orm_refuses_to_update_a_signed_visit(app, signed):
    with app.app_context():
        visit = db.session.get(Visit, signed)
        visit.place = "改过的地点"
        with pytest.raises(SignedVisitError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(Visit, signed).place == "李庄村养殖场"


@pytest.mark.parametrize(
    "change",
    [
        lambda visit: setattr(visit, "risk_level", "red"),
        lambda visit: setattr(visit, "amends_id", visit.id),
        lambda visit: setattr(visit, "amends", visit),
        lambda visit: db.session.delete(visit),
        lambda visit: db.session.execute(
            sa.update(Visit).where(Visit.id == visit.id).values(place="x")
        ),
        lambda visit: db.session.execute(sa.delete(VisitSignature)),
        lambda visit: setattr(db.session.get(VisitSignature, visit.id), "png", signature_png(800)),
    ],
    ids=[
        "update-level",
        "update-link",
        "update-relationship",
        "delete",
        "bulk-update",
        "bulk-delete-signature",
        "signature",
    ],
)
def test_every_orm_path_to_change_a_signed_visit_is_refused(app, signed, change):
    before = _snapshot(app, signed)
    with app.app_context():
        with pytest.raises(SignedVisitError):
            change(db.session.get(Visit, signed))
            db.session.commit()
        db.session.rollback()
    assert _snapshot(app, signed) == before


def test_the_warning_queue_beside_a_signed_visit_stays_writable(app, world):
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1),
            repayment_status="overdue",
            business_state="suspended",
        )
        warning = db.session.scalars(sa.select(VisitWarning)).one()
        warning.action_taken = "已电话联系"
        db.session.commit()
        assert verify(visit)


def test_a_stored_hash_reveals_a_change_made_behind_the_orm(client, world, app, signed):
    client.login("officer")
    english(client)
    assert "Verified: the record is unchanged since signing" in client.get(f"/visits/{signed}").text
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE visits SET satisfaction = 1 WHERE id = :id"), {"id": signed}
        )
    page = client.get(f"/visits/{signed}").text
    assert "Not verified: the record differs from what was signed" in page


def test_the_hash_covers_every_field_and_the_signature(app, signed):
    with app.app_context():
        visit = db.session.get(Visit, signed)
        png = db.session.get(VisitSignature, signed).png
        original = content_hash(visit, png)
        assert original == visit.content_hash
        assert content_hash(visit, png + b"\0") != original
        record = canonical_record(visit, png).decode()
        for column in sa.inspect(Visit).columns:
            if column.key not in ("id", "idempotency_token", "content_hash"):
                assert f'"{column.key}":' in record, column.key
        db.session.rollback()


def test_amending_keeps_the_original_and_both_hashes_verify(client, world, app, signed, visit_form):
    before = _snapshot(app, signed)
    client.login("officer")
    page = client.get(f"/visits/{signed}/amend").text
    assert 'value="李庄村养殖场"' in page  # prefilled from the original
    assert 'name="signature" value=""' in page  # but the borrower signs again
    assert f'data-draft-key="visit-amend-{signed}"' in page
    with app.app_context():
        when = db.session.get(Visit, signed).visited_at + timedelta(hours=2)
    response = client.submit(
        f"/visits/{signed}/amend",
        visit_form(
            visited_at=local_input(when),
            place="李庄村村委会",
            repayment_status="overdue",
            idempotency_token="amend-" + "b" * 26,
        ),
    )
    assert response.status_code == 302
    amendment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert amendment_id != signed
    assert _snapshot(app, signed) == before
    with app.app_context():
        amendment = db.session.get(Visit, amendment_id)
        original = db.session.get(Visit, signed)
        assert amendment.amends_id == signed
        assert (amendment.place, amendment.risk_reason) == (
            "李庄村村委会",
            "orange: repayment_overdue",
        )
        assert original.place == "李庄村养殖场"
        assert verify(amendment) and verify(original)
    english(client)
    original_page = client.get(f"/visits/{signed}").text
    assert f"/visits/{amendment_id}" in original_page
    assert original_page.count("Verified: the record is unchanged since signing") == 1
    amendment_page = client.get(f"/visits/{amendment_id}").text
    assert "This is an amendment of the visit of" in amendment_page
    assert "Verified: the record is unchanged since signing" in amendment_page


def test_an_amendment_of_an_amendment_points_to_the_original(app, world, signed):
    with app.app_context():
        original = db.session.get(Visit, signed)
        officer = db.session.get(User, world.officer.id)
        first = make_visit(original.borrower, officer, original.visited_at, amends=original)
        second = make_visit(original.borrower, officer, original.visited_at, amends=first)
        db.session.commit()
        assert (first.amends_id, second.amends_id) == (signed, signed)


def test_an_amendment_cannot_move_the_visit_to_another_month(client, world, app, visit_form):
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=40),
        )
        db.session.commit()
        visit_id, visited_at = visit.id, visit.visited_at
    client.login("officer")
    english(client)
    moved = client.submit(
        f"/visits/{visit_id}/amend",
        visit_form(visited_at=local_input(visited_at + timedelta(days=35))),
    )
    assert "An amendment keeps the month of the original visit" in moved.text
    # Forty days later is fine for an amendment, as long as the month stays.
    kept = client.submit(
        f"/visits/{visit_id}/amend", visit_form(visited_at=local_input(visited_at))
    )
    assert kept.status_code == 302


def test_only_the_field_staff_of_the_borrower_see_the_amend_button(client, world, signed):
    client.login("borrower")
    page = client.get(f"/visits/{signed}").text
    assert f"/visits/{signed}/amend" not in page
    assert client.get(f"/visits/{signed}/amend").status_code == 403
    client.logout()
    client.login("officer")
    assert f"/visits/{signed}/amend" in client.get(f"/visits/{signed}").text
    client.logout()
    client.login("otherofficer")
    assert client.get(f"/visits/{signed}/amend").status_code == 403
