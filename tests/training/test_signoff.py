"""The sign-off on the officer's tablet: answers, a drawn signature, a frozen record."""

import base64
import hashlib
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.training.models import SignoffImmutableError, TrainingSignoff
from portal.training.operations import hash_matches
from tests.loans.helpers import english, events, get_loan, new_loan, snapshot
from tests.training.helpers import (
    correct_answers,
    first_version,
    new_version,
    png_data_url,
    wrong_answers,
)


@pytest.fixture
def material(app, world) -> dict:
    """The published version 1 as form data: its id and the right and wrong answers."""
    with app.app_context():
        version = first_version()
        db.session.commit()
        return {
            "id": str(version.id),
            "right": correct_answers(version),
            "wrong": wrong_answers(version),
        }


def _signoffs(app) -> list[TrainingSignoff]:
    with app.app_context():
        rows = db.session.scalars(sa.select(TrainingSignoff).order_by(TrainingSignoff.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _submit(client, loan_id, material, answers="right", signature=None, **extra):
    data = {
        "material_id": material["id"],
        "signature": png_data_url() if signature is None else signature,
        **material[answers],
        **extra,
    }
    return client.submit(f"/loans/{loan_id}/training", data)


def test_the_page_shows_the_material_in_the_users_language(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    page = client.get(f"/loans/{loan_id}/training").get_data(as_text=True)
    assert "违约对信用记录的影响" in page and 'data-signature-field="signature"' in page
    assert "What default does to your credit record" not in page
    english(client)
    page = client.get(f"/loans/{loan_id}/training").get_data(as_text=True)
    assert "What default does to your credit record" in page
    assert "/static/vendor/signature_pad/signature_pad.umd.min." in page


def test_a_passing_signoff_is_stored_and_trains_the_loan(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    response = _submit(client, loan_id, material)
    assert response.headers["Location"] == f"/loans/{loan_id}"
    [signoff] = _signoffs(app)
    assert (signoff.passed, signoff.score_percent) == (True, 100)
    assert signoff.officer_id == world.officer.id and signoff.borrower_id == world.own_borrower.id
    assert Image.open(io.BytesIO(signoff.signature_png)).format == "PNG"
    assert len(signoff.content_hash) == 64
    with app.app_context():
        assert hash_matches(db.session.get(TrainingSignoff, signoff.id))
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.TRAINED and loan.training_signoff_id == signoff.id
    assert events(app, loan_id)[-1] == ("train", "approved", "trained")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/training/signoffs/{signoff.id}/signature.png" in page
    assert signoff.content_hash in page
    image = client.get(f"/training/signoffs/{signoff.id}/signature.png")
    assert image.mimetype == "image/png" and image.data == signoff.signature_png


def test_a_failing_signoff_is_kept_but_the_loan_stays_approved(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    english(client)
    response = _submit(client, loan_id, material, answers="wrong")
    assert response.headers["Location"] == f"/loans/{loan_id}/training"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not passed: 0% of the answers were right, the pass mark is 80%." in page
    assert "Earlier sign-offs" in page and "Sign and submit" in page  # and it offers a retry
    [signoff] = _signoffs(app)
    assert not signoff.passed
    assert get_loan(app, loan_id).status == LoanStatus.APPROVED
    assert events(app, loan_id)[-1] == ("train_failed", "approved", "approved")
    _submit(client, loan_id, material)
    assert get_loan(app, loan_id).status == LoanStatus.TRAINED
    assert [s.passed for s in _signoffs(app)] == [False, True]


def test_the_signoff_is_audited(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    _submit(client, loan_id, material)
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.like("%train%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["training.signoff", "loan.train"]


def test_unanswered_questions_are_marked_and_nothing_is_written(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    before = snapshot(app, loan_id)
    answers = dict(list(material["right"].items())[:3])
    data = {"material_id": material["id"], "signature": png_data_url(), **answers}
    page = client.submit(f"/loans/{loan_id}/training", data).get_data(as_text=True)
    assert page.count("请选择一个答案。") == 2
    assert "checked" in page  # the given answers stay ticked
    assert snapshot(app, loan_id) == before


def _data_url(raw: bytes, prefix: str = "data:image/png;base64,") -> str:
    return prefix + base64.b64encode(raw).decode()


def _image_bytes(fmt: str, size=(300, 120), colour=(0, 0, 0, 255)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(colour, (20, 20, 200, 60))
    out = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "RGBA").save(out, format=fmt)
    return out.getvalue()


def _noise_png(side: int) -> bytes:
    image = Image.frombytes("RGBA", (side, side), hashlib.shake_256(b"x").digest(side * side * 4))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


BAD_SIGNATURES = [
    ("", "The borrower must sign in the box."),
    ("data:image/jpeg;base64," + base64.b64encode(b"x").decode(), "must be a PNG image"),
    (_data_url(_image_bytes("JPEG")), "must be a PNG image"),
    (_data_url(_image_bytes("GIF")), "must be a PNG image"),
    ("data:image/png;base64,@@not-base64@@", "could not be read"),
    ("data:image/png;base64,iVBORw0KGgo=", "could not be read"),
    (_data_url(b"GIF89a" + b"\0" * 40), "could not be read"),
    (png_data_url(Image.new("RGBA", (600, 250), (0, 0, 0, 0))), "The signature box is empty"),
    (png_data_url(Image.new("RGB", (600, 250), "white")), "The signature box is empty"),
    (_data_url(_noise_png(300)), "The signature image is too large."),
    (png_data_url(Image.new("RGBA", (5000, 10), (0, 0, 0, 255))), "must be a PNG image"),
]


@pytest.mark.parametrize(
    ("signature", "message"), BAD_SIGNATURES, ids=[m[:20] for _, m in BAD_SIGNATURES]
)
def test_bad_signatures_are_refused(app, client, world, material, signature, message):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    english(client)
    before = snapshot(app, loan_id)
    page = _submit(client, loan_id, material, signature=signature).get_data(as_text=True)
    assert message in page
    assert 'id="signature-errors"' in page
    assert snapshot(app, loan_id) == before


def test_a_bad_signature_reads_in_chinese(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    page = _submit(client, loan_id, material, signature="").get_data(as_text=True)
    assert "借款人须在框内签名。" in page


def test_a_version_published_while_signing_is_refused(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    client.get(f"/loans/{loan_id}/training")
    with app.app_context():
        new_version()
        db.session.commit()
    english(client)
    before = snapshot(app, loan_id)
    page = _submit(client, loan_id, material).get_data(as_text=True)
    assert "A new version of the training material was published meanwhile" in page
    assert snapshot(app, loan_id) == before


def test_signoffs_cannot_be_changed_or_deleted(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    _submit(client, loan_id, material)
    with app.app_context():
        signoff = db.session.scalar(sa.select(TrainingSignoff))
        signoff.score_percent = 0
        with pytest.raises(SignoffImmutableError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(sa.select(TrainingSignoff)))
        with pytest.raises(SignoffImmutableError):
            db.session.flush()
        db.session.rollback()
    assert _signoffs(app)[0].score_percent == 100


def test_the_training_page_needs_an_approved_loan(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPLIED)
    client.login("officer")
    english(client)
    response = client.get(f"/loans/{loan_id}/training", follow_redirects=True)
    assert "it cannot go to “Trained” from there" in response.get_data(as_text=True)


def test_the_signature_is_shown_only_to_who_sees_the_borrower(app, client, world, material):
    loan_id = new_loan(app, world, LoanStatus.APPROVED)
    client.login("officer")
    _submit(client, loan_id, material)
    url = f"/training/signoffs/{_signoffs(app)[0].id}/signature.png"
    client.logout()
    client.login("borrower")
    assert client.get(url).status_code == 200
    client.logout()
    client.login("otherofficer")
    assert client.get(url).status_code == 403
    with app.app_context():
        assert db.session.get(Loan, loan_id).status == LoanStatus.TRAINED
