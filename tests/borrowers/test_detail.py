"""The detail page, full-number views, the ID photo and the borrower's own page."""

import pytest

from portal.borrowers.models import Borrower, IdCardPhoto
from portal.extensions import db
from tests.borrowers.helpers import audit_actions, english, fetch, image_file, page_text
from tests.factories import make_borrower


def _masked(borrower: Borrower) -> tuple[str, str]:
    return (
        f"{borrower.resident_id[:6]}********{borrower.resident_id[-4:]}",
        f"{borrower.mobile[:3]}****{borrower.mobile[-4:]}",
    )


def test_detail_is_masked_until_full_numbers_are_asked_for_and_audited(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    page = page_text(client.get(f"/borrowers/{own.id}"))
    assert all(masked in page for masked in _masked(own))
    assert own.resident_id not in page and own.mobile not in page
    assert audit_actions(app, "borrower.view_sensitive") == []

    revealed = page_text(client.submit(f"/borrowers/{own.id}/reveal", page=f"/borrowers/{own.id}"))
    assert own.resident_id in revealed and own.mobile in revealed
    [entry] = audit_actions(app, "borrower.view_sensitive")
    assert entry.object_id == str(own.id) and entry.actor_name == "officer"


@pytest.mark.parametrize(
    ("user", "target"),
    [("officer", "foreign_borrower"), ("head", "foreign_borrower"), ("borrower", "own_borrower")],
)
def test_full_numbers_are_refused_to_those_not_allowed_and_not_audited(
    client, world, app, user, target
):
    borrower_id = getattr(world, target).id
    client.login(user)
    assert client.get(f"/borrowers/{borrower_id}").status_code == 403
    response = client.submit(f"/borrowers/{borrower_id}/reveal", page="/account")
    assert response.status_code == 403
    assert borrower_id and fetch(app, Borrower, id=borrower_id).resident_id not in page_text(
        response
    )
    assert audit_actions(app, "borrower.view_sensitive") == []


def test_detail_shows_officer_history_and_includes_partials(client, world, app):
    client.login("head")
    english(client)
    page = page_text(client.get(f"/borrowers/{world.own_borrower.id}"))
    assert "Loan officers over time" in page and "officer" in page
    assert "Show full numbers" in page


def test_id_photo_needs_a_photo_and_visibility(client, world, app):
    client.login("officer")
    assert client.get(f"/borrowers/{world.own_borrower.id}/id-photo").status_code == 404
    with app.app_context():
        for borrower_id in (world.own_borrower.id, world.foreign_borrower.id):
            db.session.add(
                IdCardPhoto(
                    borrower_id=borrower_id, content=image_file().read(), media_type="image/jpeg"
                )
            )
        db.session.commit()
    assert client.get(f"/borrowers/{world.foreign_borrower.id}/id-photo").status_code == 403
    assert audit_actions(app, "borrower.view_id_photo") == []
    response = client.get(f"/borrowers/{world.own_borrower.id}/id-photo")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert len(audit_actions(app, "borrower.view_id_photo")) == 1
    assert "身份证照片" in page_text(client.get(f"/borrowers/{world.own_borrower.id}"))


def test_borrower_sees_only_their_own_profile(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    foreign = fetch(app, Borrower, id=world.foreign_borrower.id)
    client.login("borrower")
    assert client.get("/").headers["Location"] == "/me"
    page = page_text(client.get("/me"))
    assert own.full_name in page and own.mobile in page
    assert own.resident_id not in page and _masked(own)[0] in page
    # tampering: ids in the query string or other URLs do not show anyone else
    tampered = page_text(client.get(f"/me?borrower_id={foreign.id}&id={foreign.id}"))
    assert foreign.full_name not in tampered and own.full_name in tampered
    for path in (
        f"/borrowers/{foreign.id}",
        f"/borrowers/{own.id}",
        f"/borrowers/{foreign.id}/edit",
        f"/borrowers/{foreign.id}/id-photo",
        f"/borrowers/{foreign.id}/activation-code",
        "/borrowers/",
        f"/borrowers/?q={foreign.mobile[-4:]}",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert foreign.full_name not in page_text(response)


def test_a_borrower_without_a_profile_gets_not_found(client, world, app):
    with app.app_context():
        from portal.accounts.models import Role
        from tests.factories import make_user

        make_user("lonely", Role.BORROWER)
        db.session.commit()
    client.login("lonely")
    assert client.get("/me").status_code == 404


def test_staff_cannot_open_me(client, world):
    client.login("officer")
    assert client.get("/me").status_code == 403


def test_another_borrowers_login_sees_their_own_record(client, world, app):
    with app.app_context():
        from portal.accounts.models import Role, User
        from tests.factories import make_user

        login = make_user("second", Role.BORROWER)
        officer = db.session.get(User, world.other_officer.id)
        second = make_borrower(officer, user=login)
        db.session.commit()
        name = second.full_name
    client.login("second")
    page = page_text(client.get("/me"))
    assert name in page and world.own_borrower.name not in page
