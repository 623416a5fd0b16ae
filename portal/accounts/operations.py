"""Writes on accounts and login sessions. They flush and audit; the request commits."""

import re
import secrets
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import request
from flask_babel import lazy_gettext as _l

from portal.accounts.models import SESSION_LIFETIME, LoginSession, Role, User
from portal.accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from portal.audit.operations import record
from portal.core.actions import Refused
from portal.core.crypto import blind_index
from portal.database import utcnow
from portal.extensions import db


class AccountRefused(Refused):
    """A change to an account that is not allowed; the message says why."""


def normalize_username(username: str) -> str:
    """Usernames compare without case and surrounding blanks."""
    return username.strip().lower()


_MOBILE_TYPED = re.compile(r"(?:\+?86)?(1\d{10})")


def mobile_like(username: str) -> str:
    """The mobile number ``username`` is typed as (spaces, dashes, +86 allowed), or ""."""
    typed = _MOBILE_TYPED.fullmatch(re.sub(r"[\s-]", "", normalize_username(username)))
    return typed.group(1) if typed else ""


def find_user(username: str) -> User | None:
    """The account named ``username``, if any; a mobile number finds the borrower's login.

    Borrowers log in with their mobile number, which the users table does not hold
    (encryption at rest, docs/privacy.md): it is looked up by its blind index among the
    borrowers. A staff account's name is never a mobile number the borrowers hold.
    """
    name = normalize_username(username)
    mobile = mobile_like(name)
    if mobile:
        from portal.borrowers.models import Borrower  # borrowers build on accounts

        login = db.session.scalar(
            sa.select(User)
            .join(Borrower, Borrower.user_id == User.id)
            .where(Borrower.mobile_hash == blind_index(mobile))
        )
        if login is not None:
            return login
    return db.session.scalar(sa.select(User).where(User.username == name))


def find_staff(user_id: int) -> User | None:
    """The staff account ``user_id``; None for a borrower's login or a missing id."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_staff else None


def authenticate(username: str, password: str) -> User | None:
    """Return the enabled user with these credentials, spending equal time either way."""
    user = find_user(username)
    if user is None or not user.password_hash:
        burn_verification_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        record("auth.login_failed", user, "wrong password or disabled account", actor=user)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User) -> LoginSession:
    """Open a server-side login session for ``user`` and audit the login."""
    now = utcnow()
    login = LoginSession(
        token=secrets.token_urlsafe(32),
        user=user,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip_address=request.remote_addr or "",
        user_agent=(request.user_agent.string or "")[:255],
    )
    db.session.add(login)
    user.last_login_at = now
    user.session_token = login.token
    record("auth.login", user, actor=user)
    return login


def load_session_user(token: str, now: datetime | None = None) -> User | None:
    """The user of a valid login session, or None; used on every request."""
    login = db.session.scalars(_session_of_token(), {"token": token}).one_or_none()
    if login is None or not login.is_valid(now or utcnow()):
        return None
    login.user.session_token = token
    return login.user


@cache
def _session_of_token():
    """The login session and its user, built once (portal/core/statements.py)."""
    return sa.select(LoginSession).where(LoginSession.token == sa.bindparam("token"))


def end_session(token: str | None) -> None:
    """Revoke one login session (logout)."""
    login = db.session.get(LoginSession, token) if token else None
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()
        record("auth.logout", login.user, actor=login.user)


def revoke_sessions(user: User, keep: str | None = None) -> None:
    """End every live session of ``user`` except ``keep``."""
    db.session.execute(
        sa.update(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.revoked_at.is_(None),
            LoginSession.token != (keep or ""),
        )
        .values(revoked_at=utcnow())
    )


def create_user(
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    branch_id: int | None = None,
    locale: str = "zh",
    must_change_password: bool = False,
) -> User:
    """Create an account; the password is hashed here."""
    user = User(
        username=normalize_username(username),
        display_name=display_name.strip(),
        role=role,
        branch_id=branch_id,
        locale=locale,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    record("user.create", user, f"{user.username} ({role.value})")
    return user


def update_staff(user: User, *, display_name: str, role: Role, branch_id: int | None) -> None:
    """Change a staff account's name, role or branch."""
    user.display_name = display_name.strip()
    user.role = role
    user.branch_id = branch_id
    record("user.update", user, f"{user.username}: role={role.value} branch={branch_id}")


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Enable or disable an account; disabling ends its live sessions at once.

    Nobody disables the account they are acting with (``by``).
    """
    if not active and by is not None and by.id == user.id:
        raise AccountRefused(_l("You cannot disable your own account."))
    user.active = active
    if not active:
        revoke_sessions(user)
    record("user.enable" if active else "user.disable", user, user.username)


def reset_password(user: User) -> str:
    """Give ``user`` a one-time password that must be changed at next login."""
    temporary = secrets.token_urlsafe(9)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    revoke_sessions(user)
    record("user.reset_password", user, user.username)
    return temporary


def change_password(user: User, new_password: str) -> None:
    """Set a new password chosen by the user; other sessions end."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revoke_sessions(user, keep=user.session_token)
    record("user.change_password", user, user.username)


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language."""
    user.locale = locale
    record("user.set_locale", user, locale)
