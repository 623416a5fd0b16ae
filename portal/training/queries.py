"""Reading training material and sign-offs, and the contract gate."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from portal.borrowers.models import Borrower
from portal.core.calendar import local_date
from portal.extensions import db
from portal.loans.models import Loan
from portal.training.models import TrainingMaterial, TrainingQuestion, TrainingSignoff

NO_MATERIAL = _l(
    "No integrity-training material has been published yet; ask the administrator to publish one."
)

MATERIAL_CHANGED = _l(
    "A new version of the training material was published meanwhile. Please go through the new version with the borrower."
)


def _newest_published() -> sa.Select:
    return (
        sa.select(TrainingMaterial)
        .where(TrainingMaterial.published_at.is_not(None))
        .order_by(TrainingMaterial.version.desc())
        .limit(1)
    )


def current_version() -> int | None:
    """The version number of the current material (once per request): older sign-offs are stale."""
    if "training_current_version" not in g:
        g.training_current_version = db.session.scalar(
            sa.select(TrainingMaterial.version)
            .where(TrainingMaterial.published_at.is_not(None))
            .order_by(TrainingMaterial.version.desc())
            .limit(1)
        )
    return g.training_current_version


def signoff_is_stale(signoff: TrainingSignoff) -> bool:
    """A sign-off of a material version older than the current one: retraining is needed."""
    current = current_version()
    return current is not None and signoff.material.version < current


def current_material() -> TrainingMaterial | None:
    """The newest published version, with its text: the one borrowers are trained on now."""
    return db.session.scalar(
        _newest_published().options(
            selectinload(TrainingMaterial.sections), selectinload(TrainingMaterial.questions)
        )
    )


def draft_material() -> TrainingMaterial | None:
    """The unpublished version being prepared, if any (there is at most one)."""
    return db.session.scalar(
        sa.select(TrainingMaterial).where(TrainingMaterial.published_at.is_(None)).limit(1)
    )


def all_materials() -> list[TrainingMaterial]:
    """Every version, newest first, with its sections and questions."""
    return db.session.scalars(
        sa.select(TrainingMaterial)
        .options(selectinload(TrainingMaterial.sections), selectinload(TrainingMaterial.questions))
        .order_by(TrainingMaterial.version.desc())
    ).all()


def borrower_signoffs(borrower_id: int) -> list[TrainingSignoff]:
    """The borrower's sign-offs, newest first, with material and officer loaded."""
    return db.session.scalars(
        sa.select(TrainingSignoff)
        .where(TrainingSignoff.borrower_id == borrower_id)
        .options(joinedload(TrainingSignoff.material), joinedload(TrainingSignoff.officer))
        .order_by(TrainingSignoff.signed_at.desc(), TrainingSignoff.id.desc())
    ).all()


def loan_signoffs(loan: Loan) -> list[TrainingSignoff]:
    """The sign-offs made for ``loan``: its borrower's since the day it was applied for."""
    return [
        signoff
        for signoff in borrower_signoffs(loan.borrower_id)
        if local_date(signoff.signed_at) >= loan.applied_on
    ]


def gate_refusal(borrower: Borrower):
    """Why the borrower may not sign a loan contract now, or None.

    The gate opens only for a passing sign-off of the current material version.
    """
    current = db.session.scalar(_newest_published())
    if current is None:
        return NO_MATERIAL
    attempts = db.session.execute(
        sa.select(TrainingSignoff.passed, TrainingSignoff.score_percent, TrainingMaterial)
        .join(TrainingMaterial, TrainingSignoff.material_id == TrainingMaterial.id)
        .where(TrainingSignoff.borrower_id == borrower.id)
        .order_by(TrainingSignoff.signed_at.desc(), TrainingSignoff.id.desc())
    ).all()
    on_current = [attempt for attempt in attempts if attempt[2].id == current.id]
    if any(passed for passed, _, _ in on_current):
        return None
    if on_current:
        return _l(
            "The borrower's last integrity-training check scored %(score)s%%, below the pass mark of %(mark)s%%: the training must be repeated.",
            score=on_current[0][1],
            mark=current.pass_mark_percent,
        )
    older = [material.version for passed, _, material in attempts if passed]
    if older:
        return _l(
            "The borrower's sign-off is for version %(old)s of the training material, but version %(current)s is current now: the borrower must be trained again and sign off the new version.",
            old=max(older),
            current=current.version,
        )
    return _l("The borrower has not signed off the integrity training yet.")


@dataclass(frozen=True)
class Mistake:
    """A question answered wrong in a recorded sign-off, with the right answer."""

    position: int
    question: str
    chosen: str | None
    right: str


def _option(question: TrainingQuestion, index, language: str) -> str | None:
    if isinstance(index, int) and 0 <= index < len(question.options):
        return question.options[index][language]
    return None


def mistakes(signoff: TrainingSignoff, language: str) -> list[Mistake]:
    """The questions a recorded sign-off got wrong, in question order, in ``language``."""
    wrong = {answer["question_id"]: answer for answer in signoff.answers if not answer["correct"]}
    return [
        Mistake(
            position=question.position,
            question=getattr(question, f"text_{language}"),
            chosen=_option(question, wrong[question.id]["chosen"], language),
            right=_option(question, question.correct_option, language) or "",
        )
        for question in sorted(signoff.material.questions, key=lambda q: q.position)
        if question.id in wrong
    ]


def training_language() -> str:
    """The language training material is shown in: the reader's, zh or en."""
    return "en" if str(get_locale()) == "en" else "zh"


def signoff_mistakes(signoff: TrainingSignoff) -> list[Mistake]:
    """The questions a recorded sign-off got wrong, with the right answers, to the reader."""
    return mistakes(signoff, training_language())
