"""A new password for a borrower who already chose one: only through the borrower's phone.

At onboarding the borrower is present and the officer prints the one-time code
(portal/borrowers). Once the borrower has set a password, a code shown to staff would
let staff set a new password and act as the borrower. So from then on a new code is
texted to the borrower's own mobile through the message gateway the care greetings
use, never shown; the request is audited (``user.password_reset_requested``) and the
borrower is told who asked, and when, at their next login (``notices_since``).
The old password keeps working until the code is used.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.audit.operations import record
from portal.borrowers.masking import mask_phone
from portal.borrowers.models import ActivationCode, Borrower
from portal.borrowers.operations import issue_activation_code
from portal.care.gateways import ConfigurationError, Gateway, Message, configured_gateway
from portal.core.actions import Refused, settle
from portal.core.i18n import datetime_text
from portal.database import utcnow
from portal.extensions import db

RESET_CODE_LIFETIME = timedelta(hours=1)
REQUESTED = "user.password_reset_requested"
MAX_NOTICES = 5


NOT_SENT = _l(
    "The code could not be sent: the text-message gateway did not accept it. Nothing changed; please try again later."
)


class ResetRefusedError(Refused):
    """The code cannot be sent; ``message`` says why, for the member of staff."""


@dataclass(frozen=True)
class PendingReset:
    """A code stored but not yet sent: what the gateway needs, without ORM objects."""

    code_id: int
    message: Message


def needs_the_borrower(borrower: Borrower) -> bool:
    """Whether the borrower has chosen a password: a new code must then go to them only."""
    return borrower.user is not None and bool(borrower.user.password_hash)


def delivering_gateway() -> Gateway:
    """The configured gateway, if it really reaches phones; ResetRefusedError otherwise."""
    try:
        gateway = configured_gateway()
    except ConfigurationError:
        gateway = None
    if gateway is None or not gateway.delivers:
        raise ResetRefusedError(
            _l(
                "No text-message gateway is set up, so the code cannot reach the borrower's phone. Ask the administrator to configure CARE_GATEWAY (aliyun, tencent or webhook)."
            )
        )
    return gateway


def refuse_an_unproven_number(borrower: Borrower) -> None:
    """Refuse when the mobile changed after the borrower last logged in.

    Staff can edit the mobile number; a code texted to a number nobody has yet shown to be
    the borrower's would let staff point it at their own phone and take the account over.
    """
    login = borrower.user
    stmt = sa.select(AuditEntry.id).where(
        AuditEntry.action == "borrower.update",
        AuditEntry.object_type == "Borrower",
        AuditEntry.object_id == str(borrower.id),
        AuditEntry.summary.contains("mobile"),
    )
    if login.last_login_at is not None:
        stmt = stmt.where(AuditEntry.created_at > login.last_login_at)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise ResetRefusedError(
            _l(
                "The mobile number was changed after the borrower last logged in, so it is not yet known to be theirs: no code is sent to it. The borrower can log in with their password, or come to the branch with their ID card."
            )
        )


def text_reset_code(borrower: Borrower, *, by: User) -> None:
    """Text the borrower a new password code; ResetRefusedError when it cannot or did not go.

    The code is stored before it leaves and the gateway's answer is recorded even when
    it is a refusal (``settle`` in portal/core/actions.py).
    """
    gateway = delivering_gateway()
    refuse_an_unproven_number(borrower)
    pending = request_reset(borrower, by=by)
    settle()
    result = gateway.send(pending.message)
    record_delivery(pending, borrower.user, None if result.ok else result.error)
    if not result.ok:
        settle()  # the refusal below rolls back only what comes after
        raise ResetRefusedError(NOT_SENT)


def request_reset(borrower: Borrower, *, by: User) -> PendingReset:
    """Store a short-lived code for the borrower's login and audit who asked; flushes only."""
    login = borrower.user
    code = issue_activation_code(borrower, by=by)
    row = db.session.scalars(
        sa.select(ActivationCode)
        .where(ActivationCode.user_id == login.id)
        .order_by(ActivationCode.id.desc())
        .limit(1)
    ).one()
    row.expires_at = row.created_at + RESET_CODE_LIFETIME
    record(
        REQUESTED, login, f"code texted to {mask_phone(borrower.mobile)}, asked by {by.username}"
    )
    db.session.flush()
    return PendingReset(row.id, _message(borrower, login, by, code, row))


def record_delivery(pending: PendingReset, user: User, error: str | None) -> None:
    """Audit the gateway's answer; a code that did not go out stops working at once."""
    if error is None:
        record("user.password_reset_sent", user, f"code {pending.code_id} sent")
        return
    db.session.execute(
        sa.update(ActivationCode)
        .where(ActivationCode.id == pending.code_id)
        .values(expires_at=utcnow())
    )
    record("user.password_reset_failed", user, f"code {pending.code_id}: {error}"[:500])


def notices_since(user: User, since: datetime | None) -> list[str]:
    """What to tell ``user`` at login: each reset staff asked for since their last login."""
    stmt = (
        sa.select(AuditEntry.created_at, sa.func.coalesce(User.display_name, AuditEntry.actor_name))
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.action == REQUESTED,
            AuditEntry.object_type == "User",
            AuditEntry.object_id == str(user.id),
        )
        .order_by(AuditEntry.created_at.desc())
        .limit(MAX_NOTICES)
    )
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at > since)
    with force_locale(user.locale):
        return [
            _(
                "On %(time)s, %(name)s of the company asked for a new password code for your account; it was texted to your phone. If you did not ask for it, do not tell anyone the code and call your branch.",
                time=datetime_text(created_at),
                name=name,
            )
            for created_at, name in db.session.execute(stmt)
        ]


def _message(borrower: Borrower, login: User, by: User, code: str, row: ActivationCode) -> Message:
    with force_locale(login.locale):
        # Also what a provider's approved template is filled with (docs/sms.md).
        values = {
            "staff": by.display_name,
            "time": datetime_text(row.created_at),
            "code": f"{code[:4]}-{code[4:]}",
            "minutes": str(RESET_CODE_LIFETIME.seconds // 60),
            "url": url_for("borrowers.activate", _external=True),
        }
        text = _(
            "%(staff)s asked for a new password code for your account on %(time)s: %(code)s. It works once, within %(minutes)d minutes, at %(url)s (enter your mobile number and the code, then choose a new password). If you did not ask for it, do not tell anyone the code, not even our staff, and call your branch.",
            **(values | {"minutes": RESET_CODE_LIFETIME.seconds // 60}),
        )
    return Message(
        id=row.id,
        idempotency_key=f"password-reset-{row.id}",
        occasion="password_reset",
        year=row.created_at.year,
        locale=login.locale,
        text=text,
        borrower_id=borrower.id,
        borrower_name=borrower.full_name,
        mobile=borrower.mobile,
        values=values,
    )
