"""User accounts and their login sessions."""

from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.branches.models import Branch
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db


class Role(StrEnum):
    """The four roles of docs/product.md, "Who uses it"."""

    ADMIN = "admin"
    HEAD = "head"
    OFFICER = "officer"
    BORROWER = "borrower"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.HEAD: _l("Branch head"),
    Role.OFFICER: _l("Loan officer"),
    Role.BORROWER: _l("Borrower"),
}
STAFF_ROLES = frozenset({Role.ADMIN, Role.HEAD, Role.OFFICER})
SESSION_LIFETIME = timedelta(hours=12)


class User(db.Model):
    """Anyone who logs in: staff or borrower."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    role: Mapped[Role] = mapped_column(enum_type(Role, 16))
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("branches.id"), index=True)
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh")
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    branch: Mapped[Branch | None] = relationship(lazy="joined")

    # Flask-Login protocol; the id it keeps in the cookie is the session token,
    # so ending the server-side session ends every copy of the cookie.
    session_token = None
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def can_see_internal_assessments(self) -> bool:
        """Whether the company's judgements about borrowers are shown to this user.

        Tiers and their history, visit risk levels and signals, officers' remarks, red
        warnings, committee notes and deciders, the written-off flag: staff only. A
        borrower sees what is theirs (answers, signatures, services, loan terms).
        """
        return self.is_staff

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds one of ``roles``."""
        return self.role in roles

    def can_manage_branch(self, branch_id: int | None) -> bool:
        """Admins manage every branch, a branch head their own."""
        return self.role == Role.ADMIN or (
            self.role == Role.HEAD and branch_id is not None and branch_id == self.branch_id
        )

    def __str__(self) -> str:
        return self.display_name


class LoginSession(db.Model):
    """A server-side record of one login; deleting its validity logs the cookie out."""

    __tablename__ = "login_sessions"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")

    user: Mapped[User] = relationship(lazy="joined")

    def is_valid(self, now: datetime) -> bool:
        """Not revoked, not expired, and the account still enabled."""
        return self.revoked_at is None and now < self.expires_at and self.user.active
