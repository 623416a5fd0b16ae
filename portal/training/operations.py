"""Writes on training material and sign-offs. They flush and audit; the request commits."""

import hashlib
import json

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.core.actions import Refused
from portal.database import utcnow
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan
from portal.training.models import (
    TrainingMaterial,
    TrainingQuestion,
    TrainingSection,
    TrainingSignoff,
)
from portal.training.queries import MATERIAL_CHANGED, current_material, draft_material

MIN_SECTIONS = 5
MIN_QUESTIONS = 3


class MaterialChangeError(Refused):
    """A change to training material that is not allowed; the message says why."""


def create_material(actor: User, **content) -> TrainingMaterial:
    """Start the next version as an unpublished draft (one draft at a time)."""
    if draft_material() is not None:
        raise MaterialChangeError(_l("A draft version exists already: finish or publish it first."))
    newest = db.session.scalar(sa.select(sa.func.max(TrainingMaterial.version))) or 0
    material = TrainingMaterial(version=newest + 1, created_by_id=actor.id)
    db.session.add(material)
    _fill(material, **content)
    db.session.flush()
    record("training.material_create", material, f"version {material.version}", actor=actor)
    return material


def update_material(material: TrainingMaterial, actor: User, **content) -> None:
    """Change a draft; published versions never change."""
    if material.is_published:
        raise MaterialChangeError(
            _l("A published version cannot be changed; create a new version.")
        )
    _fill(material, **content)
    db.session.flush()
    record("training.material_update", material, f"version {material.version}", actor=actor)


def _fill(
    material: TrainingMaterial,
    *,
    title_zh: str,
    title_en: str,
    pass_mark_percent: int,
    sections: list[dict],
    questions: list[dict],
) -> None:
    material.title_zh = title_zh.strip()
    material.title_en = title_en.strip()
    material.pass_mark_percent = pass_mark_percent
    material.sections = [
        TrainingSection(position=index, **values) for index, values in enumerate(sections, 1)
    ]
    material.questions = [
        TrainingQuestion(position=index, **values) for index, values in enumerate(questions, 1)
    ]


def publish_material(material: TrainingMaterial, actor: User) -> None:
    """Make a complete draft the current version; from now on it is frozen."""
    if material.is_published:
        raise MaterialChangeError(_l("This version is published already."))
    if len(material.sections) < MIN_SECTIONS or len(material.questions) < MIN_QUESTIONS:
        raise MaterialChangeError(
            _l(
                "A version needs at least %(sections)s sections and %(questions)s questions before it can be published.",
                sections=MIN_SECTIONS,
                questions=MIN_QUESTIONS,
            )
        )
    material.published_at = utcnow()
    record("training.material_publish", material, f"version {material.version}", actor=actor)


def score(material: TrainingMaterial, chosen: dict[int, int]) -> tuple[list[dict], int]:
    """The answers as stored (question, chosen option, right or wrong) and the score in %."""
    answers = [
        {
            "question_id": question.id,
            "chosen": chosen.get(question.id),
            "correct": chosen.get(question.id) == question.correct_option,
        }
        for question in material.questions
    ]
    right = sum(answer["correct"] for answer in answers)
    return answers, round(100 * right / len(answers)) if answers else 0


def content_hash(signoff: TrainingSignoff, material_version: int) -> str:
    """SHA-256 of the signed record: who, what version, when, answers, score and signature."""
    content = {
        "borrower_id": signoff.borrower_id,
        "material_id": signoff.material_id,
        "material_version": material_version,
        "officer_id": signoff.officer_id,
        "signed_at": signoff.signed_at.isoformat(),
        "answers": signoff.answers,
        "score_percent": signoff.score_percent,
        "passed": signoff.passed,
        "signature_sha256": hashlib.sha256(signoff.signature_png).hexdigest(),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_matches(signoff: TrainingSignoff) -> bool:
    """True when the stored record still has the hash it was signed with."""
    return content_hash(signoff, signoff.material.version) == signoff.content_hash


def sign_off(
    loan: Loan,
    actor: User,
    material: TrainingMaterial,
    *,
    chosen: dict[int, int],
    signature_png: bytes,
) -> TrainingSignoff:
    """Store the borrower's signed sign-off; a passing one makes the loan trained."""
    lifecycle.check(loan, "train", actor)
    current = current_material()
    if current is None or current.id != material.id:
        raise lifecycle.LoanStepRefused(MATERIAL_CHANGED)
    answers, percent = score(material, chosen)
    signoff = TrainingSignoff(
        borrower_id=loan.borrower_id,
        material_id=material.id,
        officer_id=actor.id,
        signed_at=utcnow().replace(microsecond=0),
        answers=answers,
        score_percent=percent,
        passed=percent >= material.pass_mark_percent,
        signature_png=signature_png,
    )
    signoff.content_hash = content_hash(signoff, material.version)
    db.session.add(signoff)
    db.session.flush()
    record(
        "training.signoff",
        signoff,
        f"loan={loan.id} version={material.version} score={percent} passed={signoff.passed}",
        actor=actor,
    )
    lifecycle.record_training(loan, actor, signoff)
    return signoff
