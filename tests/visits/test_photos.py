"""The visit's photos: decoded, re-encoded, stored with the record, found again when reused."""

import io
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.visits import operations
from portal.visits import photos as visit_photos
from portal.visits.models import SignedVisitError, Visit, VisitPhoto
from portal.visits.photos import PhotoRefused, prepare, similar_photos
from tests.visits.conftest import english, only_visit
from tests.visits.photo_helpers import camera_photo, jpeg, photo_visit, scene

# The reuse threshold the tests hold the search to: within it a re-encoded, resized or
# slightly cropped copy; far beyond it another scene (photos of other scenes differ by
# about 32 of 64 bits).
REUSED_BITS = 10


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- prepare: decoded, upright, smaller, without metadata ----------------------------------


def test_a_camera_photo_is_made_smaller_without_its_metadata(app_ctx):
    upload = camera_photo(1)
    assert len(upload) > 500_000
    photo = prepare(upload, "stock")

    full, thumb = _open(photo.jpeg), _open(photo.thumb_jpeg)
    assert full.format == thumb.format == "JPEG"
    assert full.size == (photo.width, photo.height) == (1600, 1200)
    assert max(thumb.size) == 320
    for image in (full, thumb):
        assert not image.getexif()
        assert "icc_profile" not in image.info and "exif" not in image.info
        assert "comment" not in image.info
    assert b"TabletCam" not in photo.jpeg and b"fake-icc" not in photo.jpeg
    assert photo.kind == "stock"
    assert photo.sha256 == visit_photos.photo_digest(photo.jpeg, photo.thumb_jpeg)
    assert re.fullmatch(r"[0-9a-f]{16}", photo.phash)


def test_the_capture_time_and_position_are_kept_as_facts(app_ctx):
    # No offset in the EXIF: the camera's clock is read as the company's (Asia/Shanghai).
    photo = prepare(camera_photo(2), "business")
    assert photo.taken_at == datetime(2026, 11, 5, 6, 30, 12, tzinfo=UTC)
    assert photo.latitude == pytest.approx(33.720431, abs=1e-6)
    assert photo.longitude == pytest.approx(118.681905, abs=1e-6)

    offset = prepare(camera_photo(2, offset="+05:00", position=(-8.5, -35.25)), "business")
    assert offset.taken_at == datetime(2026, 11, 5, 9, 30, 12, tzinfo=UTC)
    assert (offset.latitude, offset.longitude) == (-8.5, -35.25)

    bare = prepare(jpeg(scene(2)), "business")
    assert (bare.taken_at, bare.latitude, bare.longitude) == (None, None, None)


def test_the_photo_is_turned_upright(app_ctx):
    # A tablet held upright stores a landscape picture and "turn right" (orientation 6).
    picture = Image.new("RGB", (400, 300), "white")
    picture.paste((200, 0, 0), (0, 0, 200, 300))  # left half red
    photo = prepare(jpeg(picture, exif=_exif_orientation(6)), "business")
    upright = _open(photo.jpeg)
    assert upright.size == (300, 400)
    red, green, blue = upright.getpixel((150, 50))  # the red half is now on top
    assert red > 150 and green < 80 and blue < 80
    assert upright.getpixel((150, 350)) > (200, 200, 200)


def _exif_orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


def test_png_and_webp_with_transparency_are_accepted(app_ctx):
    picture = scene(3, (640, 480)).convert("RGBA")
    picture.putalpha(128)
    for fmt in ("PNG", "WEBP"):
        output = io.BytesIO()
        picture.save(output, format=fmt)
        photo = prepare(output.getvalue(), "collateral")
        assert _open(photo.jpeg).mode == "RGB" and (photo.width, photo.height) == (640, 480)


def _truncated() -> bytes:
    data = camera_photo(4)
    return data[: len(data) * 2 // 3]


def _bomb() -> bytes:
    # 80 megapixels in a few kilobytes: refused from its header, before any decoding.
    output = io.BytesIO()
    Image.new("1", (10_000, 8_000)).save(output, format="PNG")
    return output.getvalue()


def _gif() -> bytes:
    output = io.BytesIO()
    scene(5, (64, 48)).save(output, format="GIF")
    return output.getvalue()


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (_truncated, "business", "not a complete"),
        (lambda: b"\xff\xd8\xff\xe0 not really a jpeg", "business", "not a complete"),
        (lambda: b"%PDF-1.7 a document", "business", "not a complete"),
        (_gif, "business", "not a complete"),
        (_bomb, "business", "more than 50 megapixels"),
        (
            lambda: b"\xff\xd8" + bytes(visit_photos.MAX_UPLOAD_BYTES),
            "business",
            "larger than 12 MB",
        ),
        (lambda: camera_photo(6, (320, 240)), "selfie", "Choose what the photo shows"),
    ],
    ids=["truncated", "not-an-image", "a-document", "gif", "bomb", "oversized", "unknown-kind"],
)
def test_a_bad_upload_is_refused_with_a_message(app, data, kind, message):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
        try:
            with pytest.raises(PhotoRefused) as refused:
                prepare(data(), kind, field="photo_1")
            assert message in str(refused.value.message)
            assert refused.value.field == "photo_1"
        finally:
            app.config["BABEL_DEFAULT_LOCALE"] = "zh"


def test_a_truncated_photo_is_refused_even_when_another_library_allows_them(app_ctx):
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what WeasyPrint does to the whole process
    try:
        with pytest.raises(PhotoRefused):
            prepare(_truncated(), "business")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


# --- stored with the record, part of its hash -----------------------------------------------


@pytest.fixture
def people(app_ctx, world):
    return (
        db.session.get(Borrower, world.own_borrower.id),
        db.session.get(User, world.officer.id),
    )


def test_photos_are_stored_in_order_and_signed_with_the_record(people):
    borrower, officer = people
    visit = photo_visit(
        borrower, officer, utcnow() - timedelta(hours=2), (7, 8), ["stock", "guarantor"]
    )
    stored = db.session.scalars(
        sa.select(VisitPhoto).where(VisitPhoto.visit_id == visit.id).order_by(VisitPhoto.position)
    ).all()
    assert [(p.position, p.kind) for p in stored] == [(0, "stock"), (1, "guarantor")]
    assert visit_photos.digests(visit) == [(p.kind, p.sha256) for p in stored]
    assert operations.verify(visit)
    # The record signs the photos: without them its hash does not match.
    assert visit.content_hash != operations.signing.content_hash(
        visit, db.session.get(operations.VisitSignature, visit.id).png
    )


@pytest.mark.parametrize("column", ["jpeg", "thumb_jpeg"])
def test_one_byte_changed_in_a_stored_photo_fails_verification(people, column):
    borrower, officer = people
    visit = photo_visit(borrower, officer, utcnow() - timedelta(hours=2), (9, 10))
    db.session.commit()
    assert operations.verify(visit)
    data = db.session.scalar(
        sa.select(getattr(VisitPhoto, column)).where(
            VisitPhoto.visit_id == visit.id, VisitPhoto.position == 1
        )
    )
    changed = data[:100] + bytes([data[100] ^ 1]) + data[101:]
    # Behind the application's back (its guard refuses any change to a signed photo).
    db.session.execute(
        sa.text(f"UPDATE visit_photos SET {column} = :data WHERE visit_id = :id AND position = 1"),
        {"data": changed, "id": visit.id},
    )
    db.session.commit()
    db.session.expire_all()
    assert not operations.verify(db.session.get(Visit, visit.id))


def test_a_stored_photo_cannot_be_changed_or_deleted_through_the_application(people):
    borrower, officer = people
    visit = photo_visit(borrower, officer, utcnow() - timedelta(hours=2))
    db.session.commit()
    photo = db.session.scalars(sa.select(VisitPhoto).where(VisitPhoto.visit_id == visit.id)).one()
    photo.kind = "other"
    with pytest.raises(SignedVisitError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(SignedVisitError):
        db.session.execute(sa.delete(VisitPhoto).where(VisitPhoto.visit_id == visit.id))
    db.session.rollback()


# --- found again when reused -----------------------------------------------------------------


def _crop(image: Image.Image, left: float, top: float, right: float, bottom: float):
    width, height = image.size
    return image.crop(
        (
            round(width * left),
            round(height * top),
            width - round(width * right),
            height - round(height * bottom),
        )
    )


COPIES = {
    "re-encoded": lambda image: jpeg(image, quality=55),
    "resized": lambda image: jpeg(image.resize((1024, 768)), quality=80),
    "screenshot-png": lambda image: _png(image.resize((1280, 960))),
    "cropped-2pc-each-side": lambda image: jpeg(_crop(image, 0.02, 0.02, 0.02, 0.02)),
    "cropped-3pc-two-sides": lambda image: jpeg(_crop(image, 0.03, 0, 0, 0.03)),
}


def _png(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def test_a_reused_photo_is_found_and_other_scenes_are_not(people, world):
    borrower, officer = people
    other = db.session.get(Borrower, world.foreign_borrower.id)
    other_officer = db.session.get(User, world.other_officer.id)
    earlier = utcnow() - timedelta(days=3)
    # Earlier visits: ten scenes, at two borrowers of two branches.
    seeds = list(range(20, 30))
    first = photo_visit(borrower, officer, earlier, seeds[:5])
    second = photo_visit(other, other_officer, earlier, seeds[5:])
    db.session.commit()
    stored = {
        (photo.visit_id, photo.position): photo
        for photo in db.session.scalars(sa.select(VisitPhoto))
    }
    found_bits = {}
    for index, seed in enumerate(seeds):
        original = scene(seed)
        visit, position = (first, index) if index < 5 else (second, index - 5)
        for name, copy in COPIES.items():
            reused = prepare(copy(original), "business")
            matches = similar_photos(reused.phash, REUSED_BITS)
            assert matches, f"{name} copy of scene {seed} not found"
            best, bits = matches[0]
            assert (best.visit_id, best.position) == (visit.id, position), name
            assert bits <= REUSED_BITS
            # Only that photo: the other scenes are far.
            assert len(matches) == 1, (name, [(m.visit_id, b) for m, b in matches])
            found_bits.setdefault(name, []).append(bits)
    assert stored  # ten photos stored
    assert max(found_bits["re-encoded"]) <= 2

    # New scenes resemble none of them.
    for seed in range(100, 110):
        fresh = prepare(jpeg(scene(seed)), "business")
        assert similar_photos(fresh.phash, REUSED_BITS) == []


def test_the_search_excludes_the_visit_itself_and_lists_the_nearest_first(people):
    borrower, officer = people
    earlier = utcnow() - timedelta(days=3)
    original = photo_visit(borrower, officer, earlier, (40,))
    copy = photo_visit(borrower, officer, earlier + timedelta(hours=2), (40,))
    photo = prepare(jpeg(_crop(scene(40), 0.02, 0.02, 0.02, 0.02)), "business")
    db.session.commit()
    matches = similar_photos(photo.phash, REUSED_BITS)
    assert {m.visit_id for m, _ in matches} == {original.id, copy.id}
    assert [bits for _, bits in matches] == sorted(bits for _, bits in matches)
    own = db.session.scalars(sa.select(VisitPhoto).where(VisitPhoto.visit_id == copy.id)).one()
    matches = similar_photos(own.phash, REUSED_BITS, exclude_visit_id=copy.id)
    assert [(m.visit_id, bits) for m, bits in matches] == [(original.id, 0)]


def test_the_search_reads_the_band_indexes_not_the_table(people):
    borrower, officer = people
    photo_visit(borrower, officer, utcnow() - timedelta(days=1), (41, 42))
    db.session.commit()
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        similar_photos("0123456789abcdef", REUSED_BITS, exclude_visit_id=1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)
    search, parameters = next((s, p) for s, p in statements if "UNION" in s.upper())
    connection = db.session.connection()
    if engine.dialect.name == "sqlite":
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + search, parameters).all()
        steps = [row[-1] for row in plan]
        touching = [step for step in steps if "visit_photos" in step]
        assert len(touching) == 4, steps
        assert all("USING COVERING INDEX ix_visit_photos_band" in step for step in touching)
    else:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = connection.exec_driver_sql("EXPLAIN " + search, parameters).scalars().all()
        text = "\n".join(plan)
        assert "Seq Scan" not in text, text
        assert text.count("ix_visit_photos_band") == 4, text


@given(st.integers(0, 2**64 - 1), st.integers(0, visit_photos.MAX_SEARCH_BITS), st.randoms())
def test_no_hash_within_the_distance_escapes_the_bands(value, max_bits, rng):
    # Pigeonhole: a hash at most max_bits away agrees within the band radius on some band.
    flipped = value
    for bit in rng.sample(range(64), max_bits):
        flipped ^= 1 << bit
    query, other = f"{value:016x}", f"{flipped:016x}"
    radius = visit_photos.band_radius(max_bits)
    assert any(
        (mine ^ theirs).bit_count() <= radius
        for mine, theirs in zip(visit_photos.bands(query), visit_photos.bands(other), strict=True)
    )


def test_bands_interleave_the_bits():
    assert visit_photos.bands("0000000000000001") == (1, 0, 0, 0)
    assert visit_photos.bands("0000000000000002") == (0, 1, 0, 0)
    assert visit_photos.bands("0000000000000010") == (2, 0, 0, 0)
    assert visit_photos.bands("8000000000000000") == (0, 0, 0, 1 << 15)
    with pytest.raises(ValueError):
        visit_photos.band_radius(visit_photos.MAX_SEARCH_BITS + 1)
    assert [visit_photos.band_radius(bits) for bits in (0, 3, 4, 7, 8, 11, 12, 15)] == [
        0, 0, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip


# --- the online form ---------------------------------------------------------------------------


def _files(*uploads):
    """Form data for photo slots: {photo_N: (file, name), photo_kind_N: kind}."""
    data = {}
    for number, (content, kind) in enumerate(uploads, start=1):
        data[f"photo_{number}"] = (io.BytesIO(content), f"IMG_{number:04d}.jpg", "image/jpeg")
        data[f"photo_kind_{number}"] = kind
    return data


def _new_visit(client, world, data):
    url = f"/borrowers/{world.own_borrower.id}/visits/new"
    return client.submit(url, data, content_type="multipart/form-data")


KINDS = ["business", "stock", "collateral", "guarantor", "other", "other"]


def test_six_camera_photos_go_through_the_online_form(client, app, world, visit_form):
    client.login("officer")
    uploads = [(camera_photo(50 + n), kind) for n, kind in enumerate(KINDS)]
    body = sum(len(content) for content, _ in uploads)
    assert body > app.config["MAX_CONTENT_LENGTH"]  # beyond the app's usual limit
    response = _new_visit(client, world, visit_form() | _files(*uploads))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    visit = only_visit(app)
    with app.app_context():
        stored = db.session.scalars(
            sa.select(VisitPhoto)
            .where(VisitPhoto.visit_id == visit.id)
            .order_by(VisitPhoto.position)
        ).all()
        assert [photo.kind for photo in stored] == KINDS
        assert all(photo.taken_at is not None and photo.latitude for photo in stored)
        assert operations.verify(db.session.get(Visit, visit.id))

    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    for position in range(6):
        assert f"/visits/{visit.id}/photos/{position}/thumb.jpg" in page
        assert f'href="/visits/{visit.id}/photos/{position}.jpg"' in page
    full = client.get(f"/visits/{visit.id}/photos/0.jpg")
    thumb = client.get(f"/visits/{visit.id}/photos/0/thumb.jpg")
    assert full.mimetype == thumb.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "private, no-store"
    assert _open(full.data).size == (1600, 1200) and max(_open(thumb.data).size) == 320
    assert client.get(f"/visits/{visit.id}/photos/6.jpg").status_code == 404


def test_the_limit_is_raised_for_the_visit_form_only(client, world):
    client.login("officer")
    big = {"note": "x" * (9 * 1024 * 1024)}
    response = client.submit("/account", big, page="/account", content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_bad_photo_is_refused_beside_it_and_the_good_ones_are_kept(
    client, app, world, visit_form
):
    client.login("officer")
    english(client)
    uploads = _files((camera_photo(60), "stock"), (_truncated(), "business"))
    response = _new_visit(client, world, visit_form() | uploads)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "not a complete JPEG, PNG or WebP photo" in page
    assert 'id="photo_2-errors"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(VisitPhoto.id))) == 0
    # The good photo comes back with the form, ready to be sent again, facts included.
    kept = re.search(r'<input type="hidden" name="photo_1" value="([^"]+)"', page)
    assert kept and kept.group(1).startswith("data:image/jpeg;base64,")
    assert re.search(r'data-photo-preview alt="[^"]*" src="data:image/jpeg;base64,', page)
    again = visit_form() | {"photo_1": kept.group(1), "photo_kind_1": "stock"}
    response = _new_visit(client, world, again)
    assert response.status_code == 302
    visit = only_visit(app)
    with app.app_context():
        photo = db.session.scalars(sa.select(VisitPhoto)).one()
        assert photo.visit_id == visit.id and photo.kind == "stock"
        assert photo.taken_at == datetime(2026, 11, 5, 6, 30, 12, tzinfo=UTC)
        assert photo.latitude == pytest.approx(33.720431, abs=1e-6)


def test_a_photo_larger_than_allowed_is_refused_with_its_size(client, app, world, visit_form):
    client.login("officer")
    english(client)
    oversized = b"\xff\xd8" + random.randbytes(visit_photos.MAX_UPLOAD_BYTES)
    response = _new_visit(client, world, visit_form() | _files((oversized, "business")))
    assert response.status_code == 200
    assert "larger than 12 MB" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_the_form_offers_six_camera_slots_outside_the_draft(client, world):
    client.login("officer")
    page = client.get(f"/borrowers/{world.own_borrower.id}/visits/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    inputs = re.findall(r'<input type="file"[^>]*>', page)
    assert len(inputs) == 6
    assert all('accept="image/*"' in i and 'capture="environment"' in i for i in inputs)
    kinds = re.findall(r'<select[^>]*name="photo_kind_\d"[^>]*>', page)
    assert len(kinds) == 6 and all("data-draft-exclude" in k for k in kinds)
    assert "visit-photos" in page


# --- printed small on the visit report -------------------------------------------------------


def test_the_visit_report_prints_the_photos_small(client, app, world, visit_form):
    from tests.reports.helpers import images_in, pdf_of, reader, save_page_one, squeeze, text_of

    client.login("officer")
    english(client)
    uploads = [(camera_photo(70 + n), kind) for n, kind in enumerate(KINDS)]
    assert _new_visit(client, world, visit_form() | _files(*uploads)).status_code == 302
    visit = only_visit(app)
    pdf = pdf_of(client.get(f"/visits/{visit.id}/report.pdf"))
    save_page_one(pdf, "visit-report-photos")
    assert images_in(pdf) == 7  # the six photos and the signature
    text = text_of(pdf)
    for label in ("Photos", "The business", "Stock or livestock", "The guarantor"):
        assert squeeze(label) in text
    assert squeeze("Taken 2026-11-05 14:30") in text  # the capture time, in the company's time
    assert "Verified" in text  # the record, photos included, verifies
    assert len(reader(pdf).pages) <= 2
    # Printed from the thumbnails: the whole report stays small.
    assert len(pdf) < 400_000


# --- an amendment keeps the photos -------------------------------------------------------------


def test_an_amendment_keeps_the_photos_unless_removed(client, app, world, visit_form):
    client.login("officer")
    uploads = [(camera_photo(80), "business"), (camera_photo(81), "stock")]
    assert _new_visit(client, world, visit_form() | _files(*uploads)).status_code == 302
    original = only_visit(app)
    page = client.get(f"/visits/{original.id}/amend").get_data(as_text=True)
    assert page.count('value="original:') == 2
    assert f"/visits/{original.id}/photos/1/thumb.jpg" in page
    assert re.search(r'<option selected value="stock">|<option value="stock" selected>', page)

    # The officer corrects what the second photo shows, keeps the first, adds none.
    kept = {"photo_1": "original:0", "photo_kind_1": "business"}
    corrected = {"photo_2": "original:1", "photo_kind_2": "collateral"}
    form = visit_form(idempotency_token="tok-" + "b" * 28) | kept | corrected
    response = client.submit(
        f"/visits/{original.id}/amend", form, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    with app.app_context():
        amendment = db.session.scalars(sa.select(Visit).where(Visit.amends_id == original.id)).one()
        before, after = (
            db.session.scalars(
                sa.select(VisitPhoto)
                .where(VisitPhoto.visit_id == visit.id)
                .order_by(VisitPhoto.position)
            ).all()
            for visit in (original, amendment)
        )
        assert [p.kind for p in after] == ["business", "collateral"]
        # Byte for byte: the same photos, the same capture facts, signed again.
        assert [(p.jpeg, p.thumb_jpeg, p.sha256, p.phash, p.taken_at) for p in after] == [
            (p.jpeg, p.thumb_jpeg, p.sha256, p.phash, p.taken_at) for p in before
        ]
        assert operations.verify(amendment)

    # Removed on the form: the next amendment has one photo. A reference to a photo the
    # amended visit does not have is no photo at all.
    form = visit_form(idempotency_token="tok-" + "c" * 28) | {
        "photo_1": "original:1",
        "photo_kind_1": "collateral",
        "photo_2": "original:5",
    }
    response = client.submit(
        f"/visits/{amendment.id}/amend", form, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    with app.app_context():
        newest = db.session.scalars(sa.select(Visit).order_by(Visit.id.desc())).first()
        assert [p.kind for p in db.session.get(Visit, newest.id).photos] == ["collateral"]


def test_a_new_visit_cannot_take_another_visits_photo(client, app, world, visit_form):
    client.login("officer")
    uploads = [(camera_photo(82), "business")]
    assert _new_visit(client, world, visit_form() | _files(*uploads)).status_code == 302
    form = visit_form(idempotency_token="tok-" + "d" * 28) | {"photo_1": "original:0"}
    assert _new_visit(client, world, form).status_code == 302
    with app.app_context():
        newest = db.session.scalars(sa.select(Visit).order_by(Visit.id.desc())).first()
        assert db.session.get(Visit, newest.id).photos == []
