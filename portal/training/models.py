"""Training material, its questions, and the borrower's signed sign-off."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class TrainingMaterial(db.Model):
    """One version of the integrity-training material; the newest published one is current."""

    __tablename__ = "training_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    pass_mark_percent: Mapped[int] = mapped_column(default=80)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    sections: Mapped[list["TrainingSection"]] = relationship(
        order_by="TrainingSection.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list["TrainingQuestion"]] = relationship(
        order_by="TrainingQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class TrainingSection(db.Model):
    """A section of the material, in Chinese and English."""

    __tablename__ = "training_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_materials.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    heading_zh: Mapped[str] = mapped_column(sa.String(200))
    heading_en: Mapped[str] = mapped_column(sa.String(200))
    body_zh: Mapped[str] = mapped_column(sa.Text)
    body_en: Mapped[str] = mapped_column(sa.Text)


class TrainingQuestion(db.Model):
    """A multiple-choice comprehension question; options are a JSON list of {zh, en}."""

    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_materials.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text_zh: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[list] = mapped_column(sa.JSON)
    correct_option: Mapped[int]


class TrainingSignoff(db.Model):
    """The borrower's signed sign-off of one material version; immutable once written."""

    __tablename__ = "training_signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"), index=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("training_materials.id"))
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers: Mapped[list] = mapped_column(sa.JSON)
    score_percent: Mapped[int]
    passed: Mapped[bool]
    signature_png: Mapped[bytes] = mapped_column(sa.LargeBinary)
    content_hash: Mapped[str] = mapped_column(sa.String(64))

    borrower: Mapped[Borrower] = relationship()
    material: Mapped[TrainingMaterial] = relationship()
    officer: Mapped[User] = relationship()

    def visible_to(self, user: User) -> bool:
        """Visible to whoever sees the borrower."""
        return self.borrower.visible_to(user)


class SignoffImmutableError(RuntimeError):
    """Raised when code tries to change or delete a signed sign-off."""


@sa.event.listens_for(TrainingSignoff, "before_update")
def _refuse_signoff_change(_mapper, _connection, signoff):
    if sa.orm.object_session(signoff).is_modified(signoff, include_collections=False):
        raise SignoffImmutableError(f"training sign-off {signoff.id} is signed and cannot change")


@sa.event.listens_for(TrainingSignoff, "before_delete")
def _refuse_signoff_delete(_mapper, _connection, signoff):
    raise SignoffImmutableError(f"training sign-off {signoff.id} is signed and cannot be deleted")
