"""The kit: today's plan, only borrowers the officer sees now, masked numbers, the ID photo rule."""

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.masking import mask_phone, mask_resident_id
from portal.borrowers.models import Borrower, IdCardPhoto
from portal.borrowers.operations import reassign
from portal.database import utcnow
from portal.extensions import db
from portal.services.models import ServiceRequest
from tests.factories import make_user
from tests.fieldkit.helpers import make_plan
from tests.services.records import make_request
from tests.visits.helpers import make_visit

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _kit(client):
    response = client.get("/field/kit")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_no_plan_no_borrowers(client, world):
    client.login("officer")
    kit = _kit(client).get_json()
    assert kit["version"] == 1 and kit["plan"] is None and kit["borrowers"] == []
    assert kit["officer"]["id"] == world.officer.id


def test_the_kit_holds_todays_planned_borrowers_and_nothing_else(client, app, world, villages):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        own = db.session.get(Borrower, world.own_borrower.id)
        make_visit(own, officer, utcnow() - timedelta(days=3), borrower_opinions="希望提高额度")
        make_request(own.id, "financial_training")
        db.session.add(IdCardPhoto(borrower_id=own.id, content=JPEG, media_type="image/jpeg"))
        plan = make_plan(world.officer.id, [own.id, villages["east_red"].id])
        db.session.commit()
        plan_id = plan.id
        numbers = {b.id: (b.mobile, b.resident_id) for b in db.session.scalars(sa.select(Borrower))}
    client.login("officer")
    response = _kit(client)
    kit = response.get_json()
    text = response.get_data(as_text=True)
    assert kit["plan"]["id"] == plan_id
    assert [b["id"] for b in kit["borrowers"]] == [world.own_borrower.id, villages["east_red"].id]
    # Full numbers of nobody; nothing of borrowers outside the plan.
    for mobile, resident_id in numbers.values():
        assert mobile not in text and resident_id not in text
    for outside in (world.foreign_borrower, villages["west_never"], villages["south_done"]):
        assert outside.name not in text
    first = kit["borrowers"][0]
    mobile, resident_id = numbers[world.own_borrower.id]
    assert first["phone_masked"] == mask_phone(mobile)
    assert first["id_masked"] == mask_resident_id(resident_id)
    assert first["loan"]["id"] == world.own_loan.id and first["loan"]["amount"] == "50,000"
    assert first["last_visit"]["risk_level"] == "green"
    summary = dict(first["last_visit"]["summary"])
    assert "希望提高额度" in summary.values() and len(summary) >= 10
    assert [r["opened_on"] for r in first["open_requests"]] and first["open_requests"][0]["label"]
    assert first["id_photo_url"] == f"/field/kit/borrowers/{world.own_borrower.id}/id-photo"
    assert kit["borrowers"][1]["id_photo_url"] is None
    assert first["defaults"]["repayment_status"] == ["on_time"]

    photo = client.get(first["id_photo_url"])
    assert photo.status_code == 200 and photo.data == JPEG
    assert photo.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/field/kit/borrowers/{villages['east_red'].id}/id-photo").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceRequest.id))) == 1


def test_a_borrower_reassigned_since_planning_leaves_the_kit(client, app, world, villages):
    with app.app_context():
        own = db.session.get(Borrower, world.own_borrower.id)
        db.session.add(IdCardPhoto(borrower_id=own.id, content=JPEG, media_type="image/jpeg"))
        make_plan(world.officer.id, [own.id, villages["east_red"].id])
        head = db.session.get(User, world.head.id)
        successor = make_user("successor", Role.OFFICER, head.branch)
        reassign([own], successor, "片区调整", by=head)
        db.session.commit()
    client.login("officer")
    kit = _kit(client).get_json()
    assert [b["id"] for b in kit["borrowers"]] == [villages["east_red"].id]
    photo = f"/field/kit/borrowers/{world.own_borrower.id}/id-photo"
    assert client.get(photo).status_code == 403
    client.logout()
    client.login("successor")
    assert client.get(photo).status_code == 200
    assert _kit(client).get_json()["plan"] is None  # the plan is the former officer's


def test_the_token_and_kit_are_for_officers(client, world):
    client.login("officer")
    token = client.get("/field/token")
    assert token.status_code == 200 and token.get_json()["csrf_token"]
    assert token.headers["Cache-Control"] == "no-store"
    client.logout()
    for who in ("head", "admin", "borrower"):
        client.login(who)
        assert client.get("/field/kit").status_code == 403
        assert client.get("/field/token").status_code == 403
        client.logout()
