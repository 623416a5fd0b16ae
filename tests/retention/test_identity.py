"""Identity corrections by the head: name, ID number, birth date, sex, with a reason;
the old value kept (encrypted), the audit masked, onboarding's rules run again
(portal/borrowers/identity.py)."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers import identity
from portal.borrowers.masking import mask_resident_id
from portal.borrowers.models import Borrower
from portal.core.crypto import blind_index
from portal.extensions import db
from portal.privacy.models import IdentityCorrection
from tests.borrowers.helpers import resident_id

NEW_ID = resident_id(birth=date(1979, 8, 12), sequence=457)  # male, born 1979-08-12


def _snapshot(app, borrower_id):
    with app.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        return {
            "borrower": (
                borrower.full_name,
                borrower.name_initials,
                borrower.resident_id,
                borrower.birth_date,
                borrower.sex,
                borrower.version,
            ),
            "corrections": db.session.scalar(sa.select(sa.func.count(IdentityCorrection.id))),
            "audit": db.session.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "borrower.correct_identity"
                )
            ),
        }


def _form(client, borrower_id, **values) -> dict:
    page = client.get(f"/borrowers/{borrower_id}/identity").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    with client.application.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        data = {"full_name": borrower.full_name, "sex": borrower.sex.value}
    return data | {"version": version, "reason": "开户时录入错误"} | values


def _sex_of(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


def test_the_head_corrects_name_and_id_with_a_reason(app, client, world):
    borrower_id = world.own_borrower.id
    with app.app_context():
        old = db.session.get(Borrower, borrower_id)
        old_name, old_id = old.full_name, old.resident_id
    client.login("head")
    page = client.get(f"/borrowers/{borrower_id}/identity").get_data(as_text=True)
    assert old_id not in page and mask_resident_id(old_id) in page  # the placeholder only

    response = client.submit(
        f"/borrowers/{borrower_id}/identity",
        _form(
            client,
            borrower_id,
            full_name="王晓明",
            resident_id=NEW_ID,
            birth_date="1979-08-12",
            sex=_sex_of(NEW_ID),
        ),
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        assert (borrower.full_name, borrower.name_initials) == ("王晓明", "wxm")
        assert borrower.resident_id == NEW_ID and borrower.resident_id_tail == NEW_ID[-4:]
        assert borrower.resident_id_hash == blind_index(NEW_ID)
        assert borrower.birth_date == date(1979, 8, 12)
        corrections = {c.field: c for c in db.session.scalars(sa.select(IdentityCorrection)).all()}
        assert set(corrections) >= {"full_name", "resident_id", "birth_date"}
        assert corrections["full_name"].old_value == old_name
        assert corrections["resident_id"].old_value == old_id
        assert corrections["resident_id"].new_value == NEW_ID
        assert all(c.reason == "开户时录入错误" for c in corrections.values())
        assert all(c.corrected_by_id == world.head.id for c in corrections.values())
        # The old and new numbers are stored encrypted, not in clear.
        raw = db.session.execute(sa.text("SELECT old_value, new_value FROM identity_corrections"))
        stored = " ".join(str(value) for row in raw for value in row)
        assert old_id not in stored and NEW_ID not in stored and old_name not in stored
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "borrower.correct_identity")
        ).one()
        assert "full_name" in entry.summary and "resident_id" in entry.summary
        assert "开户时录入错误" in entry.summary
        assert mask_resident_id(old_id) in entry.summary
        assert mask_resident_id(NEW_ID) in entry.summary
        assert old_id not in entry.summary and NEW_ID not in entry.summary
        assert old_name not in entry.summary and "王晓明" not in entry.summary
    # The page lists the correction, numbers masked.
    page = client.get(f"/borrowers/{borrower_id}/identity").get_data(as_text=True)
    assert "开户时录入错误" in page and old_id not in page and NEW_ID not in page


def test_the_admin_may_correct_any_branch(app, client, world):
    client.login("admin")
    borrower_id = world.foreign_borrower.id
    response = client.submit(
        f"/borrowers/{borrower_id}/identity", _form(client, borrower_id, full_name="李四")
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Borrower, borrower_id).full_name == "李四"


@pytest.mark.parametrize(
    "number",
    [NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1"), "32080219790812", "abc"],
    ids=["checksum", "short", "letters"],
)
def test_a_bad_id_number_is_refused_and_nothing_written(app, client, world, number):
    borrower_id = world.own_borrower.id
    before = _snapshot(app, borrower_id)
    client.login("head")
    response = client.submit(
        f"/borrowers/{borrower_id}/identity",
        _form(client, borrower_id, resident_id=number, birth_date="1979-08-12"),
    )
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    assert _snapshot(app, borrower_id) == before


def test_an_id_number_registered_to_another_borrower_is_refused(app, client, world):
    borrower_id = world.own_borrower.id
    with app.app_context():
        other = db.session.get(Borrower, world.foreign_borrower.id)
        taken, birth, sex = other.resident_id, other.birth_date.isoformat(), other.sex.value
    before = _snapshot(app, borrower_id)
    client.login("head")
    client.submit("/account", {"locale": "en"})
    response = client.submit(
        f"/borrowers/{borrower_id}/identity",
        _form(client, borrower_id, resident_id=taken, birth_date=birth, sex=sex),
    )
    assert response.status_code == 200
    assert "already registered" in response.get_data(as_text=True)
    assert _snapshot(app, borrower_id) == before


def test_the_operation_refuses_a_duplicate_or_bad_number_itself(app, world):
    with app.test_request_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        other = db.session.get(Borrower, world.foreign_borrower.id)
        head = db.session.get(User, world.head.id)
        wanted = {
            "full_name": borrower.full_name,
            "resident_id": other.resident_id,
            "birth_date": other.birth_date,
            "sex": other.sex,
        }
        with pytest.raises(identity.IdentityError) as refused:
            identity.correct(borrower, borrower.version, wanted, "typo", head)
        assert refused.value.field == "resident_id"
        bad = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
        with pytest.raises(identity.IdentityError):
            identity.correct(borrower, borrower.version, wanted | {"resident_id": bad}, "x", head)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(IdentityCorrection.id))) == 0


def test_birth_date_and_sex_must_agree_with_the_new_number(app, client, world):
    borrower_id = world.own_borrower.id
    before = _snapshot(app, borrower_id)
    client.login("head")
    other_sex = "female" if _sex_of(NEW_ID) == "male" else "male"
    for values in (
        {"birth_date": "1979-08-13", "sex": _sex_of(NEW_ID)},
        {"birth_date": "1979-08-12", "sex": other_sex},
        {"birth_date": "", "sex": _sex_of(NEW_ID)},
    ):
        response = client.submit(
            f"/borrowers/{borrower_id}/identity",
            _form(client, borrower_id, resident_id=NEW_ID, **values),
        )
        assert response.status_code == 200
        assert "is-invalid" in response.get_data(as_text=True)
    assert _snapshot(app, borrower_id) == before


def test_a_reason_is_required(app, client, world):
    borrower_id = world.own_borrower.id
    before = _snapshot(app, borrower_id)
    client.login("head")
    response = client.submit(
        f"/borrowers/{borrower_id}/identity",
        _form(client, borrower_id, full_name="王晓明", reason=""),
    )
    assert response.status_code == 200
    assert _snapshot(app, borrower_id) == before


def test_a_stale_form_gets_the_conflict_page(app, client, world):
    borrower_id = world.own_borrower.id
    client.login("head")
    data = _form(client, borrower_id, full_name="王晓明")
    with app.app_context():
        db.session.get(Borrower, borrower_id).village = "新村"  # someone else saves meanwhile
        db.session.commit()
    before = _snapshot(app, borrower_id)
    response = client.submit(f"/borrowers/{borrower_id}/identity", data)
    assert response.status_code == 409
    assert _snapshot(app, borrower_id) == before


def test_officers_and_other_branches_are_refused(app, client, world):
    client.login("officer")
    own = f"/borrowers/{world.own_borrower.id}/identity"
    assert client.get(own).status_code == 403
    assert client.post(own, data={"full_name": "x"}).status_code in (400, 403)
    client.logout()
    client.login("otherhead")
    assert client.get(own).status_code == 403
    assert client.get("/borrowers/999999/identity").status_code == 404


def test_the_borrower_page_links_the_correction_for_heads_only(app, client, world):
    own = f"/borrowers/{world.own_borrower.id}"
    client.login("head")
    assert f"{own}/identity" in client.get(own).get_data(as_text=True)
    client.logout()
    client.login("officer")
    assert f"{own}/identity" not in client.get(own).get_data(as_text=True)
