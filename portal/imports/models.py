"""An uploaded repayments file waiting to be applied, and the lending system's keys."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class RepaymentUpload(db.Model):
    """A file of repayments as uploaded: previewed from here, applied from here.

    The bytes stay on the server between the preview and the apply (the browser sends
    only the upload's id), and are dropped once applied; an upload left unapplied is
    deleted after a day (docs/imports.md).
    """

    __tablename__ = "repayment_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the bytes: the file's name in the audit log and on the preview.
    digest: Mapped[str] = mapped_column(sa.String(64))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)

    uploaded_by: Mapped[User] = relationship()

    def visible_to(self, user: User) -> bool:
        """An upload is its uploader's alone (another may upload the same file)."""
        return self.uploaded_by_id == user.id


class ImportToken(db.Model):
    """A lending system's key to ``POST /api/repayments``: one branch's loans, or every loan.

    Only the SHA-256 of the key is stored; the key itself is shown once, when made.
    """

    __tablename__ = "import_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # None: the company's key, for every branch's loans.
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("branches.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    branch: Mapped[Branch | None] = relationship()
