"""A file cut short is refused, even once another library told Pillow to accept such files.

WeasyPrint sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process
when it is imported (any PDF report does that); every test here sets it the same way
before uploading.
"""

import io

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFile

from portal.borrowers.models import IdCardPhoto
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.training.models import TrainingSignoff
from portal.visits.models import Visit
from tests.borrowers.helpers import counts, english, onboarding_data, page_text
from tests.loans.helpers import new_loan
from tests.training.helpers import correct_answers, first_version
from tests.visits.helpers import data_url


def real_signature() -> bytes:
    """A signature as signature.js sends it, with ink from its first rows on."""
    image = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for i in range(6):
        y = 20 + 45 * i
        pen.line([(40, y), (250, y + 30), (420, y - 15), (640, y + 20)], (0, 0, 0, 255), 5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def photo(fmt: str) -> bytes:
    """An ID-card photo with detail everywhere, so every part of the file matters."""
    image = Image.effect_noise((900, 600), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(autouse=True)
def tolerant_pillow(monkeypatch):
    """Pillow as WeasyPrint leaves it: truncated files are filled in rather than refused."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    yield
    # The check must not switch the setting off for the other library either.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def _rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_cut_signature_would_decode_with_the_tolerant_setting():
    """The premise: Pillow alone, so set, turns the cut file into an image with ink."""
    image = Image.open(io.BytesIO(real_signature()[:200]))
    image.load()
    assert image.size == (700, 300)
    assert image.getchannel("A").getbbox() is not None


def test_a_cut_visit_signature_is_refused(client, world, app, visit_form):
    client.login("officer")
    english(client)
    cut = data_url(real_signature()[:200])
    response = client.submit(
        f"/borrowers/{world.own_borrower.id}/visits/new", visit_form(signature=cut)
    )
    page = page_text(response)
    assert response.status_code == 200
    assert "The signature could not be read." in page
    assert _rows(app, Visit) == 0


def test_a_cut_training_signature_is_refused(client, world, app):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    with app.app_context():
        material = first_version()
        db.session.commit()
        form = {"material_id": str(material.id), **correct_answers(material)}
    client.login("officer")
    english(client)
    response = client.submit(
        f"/loans/{loan_id}/training", {**form, "signature": data_url(real_signature()[:200])}
    )
    page = page_text(response)
    assert response.status_code == 200
    assert "The signature could not be read. Please sign again." in page
    assert _rows(app, TrainingSignoff) == 0


@pytest.mark.parametrize(
    ("fmt", "keep"),
    [("PNG", lambda data: data[:200]), ("JPEG", lambda data: data[: len(data) // 2])],
    ids=["png-200-bytes", "jpeg-half"],
)
def test_a_cut_id_photo_is_refused_and_nothing_is_written(client, world, app, fmt, keep):
    client.login("officer")
    english(client)
    before = counts(app)
    upload = (io.BytesIO(keep(photo(fmt))), f"id-card.{fmt.lower()}")
    response = client.submit(
        "/borrowers/new",
        onboarding_data(id_card_photo=upload),
        content_type="multipart/form-data",
    )
    page = page_text(response)
    assert response.status_code == 200
    assert "This file is not a readable JPEG, PNG or WebP photo." in page
    assert counts(app) == before
    assert _rows(app, IdCardPhoto) == 0


def test_a_whole_photo_is_still_taken(client, world, app):
    client.login("officer")
    upload = (io.BytesIO(photo("JPEG")), "id-card.jpg")
    response = client.submit(
        "/borrowers/new", onboarding_data(id_card_photo=upload), content_type="multipart/form-data"
    )
    assert response.status_code == 200 and 'data-testid="activation-code"' in page_text(response)
    assert _rows(app, IdCardPhoto) == 1
