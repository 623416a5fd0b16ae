"""Training material, sign-offs and drawn signatures for the loans and training tests."""

import base64
import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.demo.loans import QUESTIONS, SECTIONS, ensure_training_material, signature_png
from portal.extensions import db
from portal.training.models import (
    TrainingMaterial,
    TrainingQuestion,
    TrainingSection,
    TrainingSignoff,
)
from portal.training.operations import content_hash


def first_version() -> TrainingMaterial:
    """Version 1 of the demo material, published (five sections, five questions, 80 %)."""
    return ensure_training_material(local_today())


def new_version(published: bool = True, pass_mark: int = 80) -> TrainingMaterial:
    """The next version with the demo content; published now unless ``published`` is False."""
    newest = db.session.scalar(sa.select(sa.func.max(TrainingMaterial.version))) or 0
    material = TrainingMaterial(
        version=newest + 1,
        title_zh=f"诚信培训（第{newest + 1}版）",
        title_en=f"Integrity training, version {newest + 1}",
        pass_mark_percent=pass_mark,
        published_at=utcnow() if published else None,
        sections=[TrainingSection(position=i, **s) for i, s in enumerate(SECTIONS, 1)],
        questions=[TrainingQuestion(position=i, **q) for i, q in enumerate(QUESTIONS, 1)],
    )
    db.session.add(material)
    db.session.flush()
    return material


def make_signoff(borrower: Borrower, material: TrainingMaterial, passed: bool = True, days_ago=1):
    """A stored sign-off of ``borrower`` (its officer present), passing or not."""
    signoff = TrainingSignoff(
        borrower_id=borrower.id,
        material_id=material.id,
        officer_id=borrower.officer_id,
        signed_at=(utcnow() - timedelta(days=days_ago)).replace(microsecond=0),
        answers=[],
        score_percent=100 if passed else 40,
        passed=passed,
        signature_png=signature_png(borrower.id),
    )
    signoff.content_hash = content_hash(signoff, material.version)
    db.session.add(signoff)
    db.session.flush()
    return signoff


def png_data_url(image: Image.Image | None = None, fmt: str = "PNG") -> str:
    """A data URL like the one signature.js sends; by default a stroke on transparency."""
    if image is None:
        image = Image.new("RGBA", (600, 250), (0, 0, 0, 0))
        ImageDraw.Draw(image).line([(40, 200), (200, 60), (380, 190), (560, 70)], (0, 0, 0, 255), 6)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def correct_answers(material: TrainingMaterial) -> dict:
    """Form data answering every question right."""
    return {f"q{q.id}": str(q.correct_option) for q in material.questions}


def wrong_answers(material: TrainingMaterial) -> dict:
    """Form data answering every question wrong."""
    return {f"q{q.id}": str((q.correct_option + 1) % len(q.options)) for q in material.questions}
