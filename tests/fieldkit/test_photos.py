"""Photos in field-kit entries: part of the entry's hash, decoded by the same prepare(), stored once."""

import base64
import io
import json
import threading

import sqlalchemy as sa
from PIL import Image

from portal.extensions import db
from portal.fieldkit.entries import MAX_BODY_BYTES
from portal.fieldkit.models import FieldEntry, HoldReason, Outcome
from portal.visits.models import Visit, VisitPhoto
from portal.visits.operations import verify
from tests.conftest import PortalClient
from tests.fieldkit.helpers import form_fields, make_entry, make_plan, post_entry
from tests.visits.conftest import local_input
from tests.visits.photo_helpers import camera_photo, jpeg, scene


def _tablet_photo(seed: int) -> str:
    """A photo as the tablet keeps it in the outbox: made smaller (1600 px), a JPEG data URL.

    The tablet keeps the camera's EXIF block (capture time and position) when it makes the
    photo smaller; this one carries it the same way.
    """
    image = Image.open(io.BytesIO(camera_photo(seed)))
    exif = image.getexif()
    smaller = image.resize((1600, 1200))
    return "data:image/jpeg;base64," + base64.b64encode(jpeg(smaller, 82, exif=exif)).decode()


def _photo_entry(app, world, photos: list[tuple[str, str]], **overrides) -> dict:
    from datetime import timedelta

    from portal.database import utcnow

    with app.app_context():
        plan = make_plan(world.officer.id, [world.own_borrower.id])
        db.session.commit()
        plan_id = plan.id
    visited_at = utcnow() - timedelta(minutes=30)
    fields = form_fields(visited_at=local_input(visited_at), **overrides)
    for number, (data_url, kind) in enumerate(photos, start=1):
        fields[f"photo_{number}"] = [data_url]
        fields[f"photo_kind_{number}"] = [kind]
    return make_entry(world.own_borrower.id, plan_id, fields=fields)


def _photos(app) -> list[tuple[int, int, str]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(VisitPhoto.visit_id, VisitPhoto.position, VisitPhoto.kind).order_by(
                    VisitPhoto.visit_id, VisitPhoto.position
                )
            )
        ]


def test_an_entry_with_photos_is_stored_once_with_its_photos(client, app, world):
    entry = _photo_entry(app, world, [(_tablet_photo(1), "business"), (_tablet_photo(2), "stock")])
    body = json.dumps(entry).encode()
    assert 500_000 < len(body) < MAX_BODY_BYTES
    client.login("officer")
    answers = [post_entry(client, entry) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    visit_id = answers[0].get_json()["visit_id"]
    assert _photos(app) == [(visit_id, 0, "business"), (visit_id, 1, "stock")]
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert verify(visit)
        photo = db.session.scalars(sa.select(VisitPhoto).order_by(VisitPhoto.position)).first()
        # Decoded and re-encoded by the server, the facts carried by the tablet kept.
        assert (photo.width, photo.height) == (1600, 1200)
        assert photo.taken_at is not None and photo.latitude is not None


def test_concurrent_posts_of_an_entry_with_photos_store_its_photos_once(app, world):
    entry = _photo_entry(app, world, [(_tablet_photo(3), "collateral")])
    app.test_client_class = PortalClient
    answers = []

    def send():
        client = app.test_client()
        client.login("officer")
        answers.append(post_entry(client, entry).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 200, 201]
    assert len(_photos(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1


def test_a_photo_is_part_of_the_entry_hash(client, app, world):
    entry = _photo_entry(app, world, [(_tablet_photo(4), "business")])
    # Another photo put in after the tablet signed and hashed the entry.
    entry["fields"]["photo_1"] = [_tablet_photo(5)]
    client.login("officer")
    response = post_entry(client, entry)
    assert response.status_code == 202
    assert response.get_json()["reason"] == HoldReason.HASH_MISMATCH
    assert _photos(app) == []


def test_a_bad_photo_holds_the_entry_whole(client, app, world):
    good = _tablet_photo(6)
    truncated = good[: len(good) * 2 // 3]
    truncated = truncated[: len(truncated) // 4 * 4]  # still valid base64, a JPEG cut short
    entry = _photo_entry(app, world, [(good, "business"), (truncated, "stock")])
    client.login("officer")
    response = post_entry(client, entry)
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["reason"] == HoldReason.INVALID
    assert list(answer["errors"]) == ["photo_2"]
    assert _photos(app) == []
    with app.app_context():
        held = db.session.scalars(sa.select(FieldEntry)).one()
        assert held.outcome == Outcome.HELD
        # Kept whole for the head, the photos included.
        assert json.loads(held.payload)["fields"]["photo_2"] == [truncated]
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_a_photo_that_is_not_an_image_data_url_holds_the_entry(client, app, world):
    entry = _photo_entry(app, world, [("javascript:alert(1)", "business")])
    client.login("officer")
    response = post_entry(client, entry)
    assert response.status_code == 202
    assert list(response.get_json()["errors"]) == ["photo_1"]


def test_the_offline_form_carries_the_photo_slots(client, world):
    client.login("officer")
    page = client.get("/field/visit").get_data(as_text=True)
    inputs = [line for line in page.splitlines() if 'type="file"' in line]
    assert len(inputs) == 6
    assert "js/visit-photos" in page


def test_a_scene_as_png_data_url_is_accepted(client, app, world):
    output = io.BytesIO()
    scene(7, (800, 600)).save(output, format="PNG")
    png = "data:image/png;base64," + base64.b64encode(output.getvalue()).decode()
    entry = _photo_entry(app, world, [(png, "guarantor")])
    client.login("officer")
    response = post_entry(client, entry)
    assert response.status_code == 201
    assert [kind for _, _, kind in _photos(app)] == ["guarantor"]
