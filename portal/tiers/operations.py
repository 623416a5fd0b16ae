"""Writes of the tiers feature. They flush and audit; the request's transaction commits."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower, Tier
from portal.core.actions import Refused
from portal.extensions import db
from portal.tiers.models import Decision, TierChange


class TierError(Refused):
    """A refused tier decision; the message is shown to the user."""


def decide_tier(
    borrower: Borrower,
    tier: Tier,
    *,
    suggested: Tier,
    reason: str,
    period: str,
    decided_by: User,
) -> TierChange:
    """The head sets the tier: confirming the suggestion, or overriding it with a reason."""
    reason = reason.strip()
    decision = Decision.CONFIRMED if tier == suggested else Decision.OVERRIDDEN
    if decision == Decision.OVERRIDDEN and not reason:
        raise TierError(
            _l("Give a reason when choosing another tier than the suggested one."), field="reason"
        )
    change = TierChange(
        borrower_id=borrower.id,
        from_tier=borrower.tier,
        to_tier=tier,
        suggested_tier=suggested,
        decision=decision,
        period=period,
        reason=reason,
        decided_by_id=decided_by.id,
    )
    borrower.tier = tier
    db.session.add(change)
    record(
        "tier.decide",
        borrower,
        f"{change.from_tier.value} -> {tier.value} ({decision.value}, {period or '-'}): {reason}",
    )
    return change


def confirm_suggestions(
    borrowers: list[Borrower],
    *,
    shown: dict[int, Tier],
    suggested: dict,
    note: str,
    period: str,
    decided_by: User,
) -> list[TierChange]:
    """Confirm each borrower's suggested tier, one decision and audit entry per borrower.

    ``shown`` is the tier the page showed for each, ``suggested`` the suggestion now
    (a Suggestion per id): the whole batch is refused when one changed in between.
    """
    if any(suggested[b.id].tier != shown[b.id] for b in borrowers):
        raise TierError(
            _l(
                "A suggestion changed since the page was shown; nothing was confirmed. "
                "Look at the list again."
            )
        )
    decided = set(
        db.session.scalars(
            sa.select(TierChange.borrower_id).where(
                TierChange.period == period,
                TierChange.borrower_id.in_([borrower.id for borrower in borrowers]),
            )
        )
    )
    if decided:
        # A second submit of the same page: refuse it whole rather than decide twice.
        raise TierError(_l("Some of these borrowers have already been decided on in this period."))
    return [
        decide_tier(
            borrower,
            suggested[borrower.id].tier,
            suggested=suggested[borrower.id].tier,
            reason=note,
            period=period,
            decided_by=decided_by,
        )
        for borrower in borrowers
    ]
