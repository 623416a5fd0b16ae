"""Legal holds: placed and lifted by a branch head or the admin, both audited.

While a hold is in place the retention run (portal/retention/run.py) leaves the
borrower alone: nothing of theirs is deleted, they are not anonymised. A borrower has at
most one hold in place; lifting it lets the next run catch up.
"""

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.database import utcnow
from portal.extensions import db
from portal.retention import queries
from portal.retention.models import LegalHold


class HoldError(Refused):
    """A hold that cannot be placed or lifted."""


def place_hold(borrower: Borrower, reason: str, actor: User) -> LegalHold:
    """Stop the retention run for ``borrower`` (a dispute, a lawsuit) until lifted."""
    reason = (reason or "").strip()
    if not reason:
        raise HoldError(_l("Give the reason for the hold."), field="reason")
    if queries.hold_in_place(borrower) is not None:
        raise HoldError(_l("A legal hold is already in place for this borrower."))
    hold = LegalHold(borrower_id=borrower.id, reason=reason, placed_by_id=actor.id)
    db.session.add(hold)
    db.session.flush()
    record("retention.hold_place", borrower, f"hold {hold.id}: {reason}", actor=actor)
    return hold


def lift_hold(hold: LegalHold, actor: User) -> None:
    """End a hold in place: the next retention run applies the schedule again."""
    if hold.lifted_at is not None:
        raise HoldError(_l("This legal hold was already lifted."))
    hold.lifted_at = utcnow()
    hold.lifted_by_id = actor.id
    db.session.flush()
    record("retention.hold_lift", hold.borrower, f"hold {hold.id} lifted", actor=actor)
