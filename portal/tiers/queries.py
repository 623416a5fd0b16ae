"""Reading tiers: suggestions for lists, the review lists and a borrower's history."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower, Tier
from portal.extensions import db
from portal.tiers import facts
from portal.tiers.models import TierChange
from portal.tiers.rules import Suggestion, suggest

YEARLY, HALF_YEARLY = "yearly", "half-yearly"
REVIEW_KINDS = (YEARLY, HALF_YEARLY)
CHUNK = 1000


@lru_cache(maxsize=50_000)
def _suggest(loans: tuple | None, risk, today: date) -> Suggestion:
    """The rules' answer for these plain facts.

    The rules are a pure function of the facts and the day, and from one view of a
    branch's review to the next nearly every borrower's facts are the same: each
    worker remembers the answers (5,000 per branch) instead of wording them again.
    """
    return suggest(facts.facts_of(loans, risk), today)


def period_for(kind: str, today: date) -> str:
    """ "2026" for the yearly setting, "2026-H1"/"2026-H2" for the half-yearly review."""
    if kind == YEARLY:
        return str(today.year)
    return f"{today.year}-H{1 if today.month <= 6 else 2}"


def suggestions(
    borrower_ids: list[int], today: date, among: sa.Select | None = None
) -> dict[int, Suggestion]:
    """The suggested tier of each borrower, in a fixed number of queries per thousand.

    ``among`` (a select of ids covering them all) makes it two queries for any number.
    """
    if among is not None:
        plain = facts.gather_plain(borrower_ids, today, among)
        return {i: _suggest(*values, today) for i, values in plain.items()}
    result = {}
    for start in range(0, len(borrower_ids), CHUNK):
        chunk = borrower_ids[start : start + CHUNK]
        plain = facts.gather_plain(chunk, today)
        result |= {i: _suggest(*values, today) for i, values in plain.items()}
    return result


def list_statement(user: User, tier: Tier | None = None, branch_id: int | None = None):
    """Borrowers the user sees, optionally of one tier or branch, by name."""
    stmt = (
        sa.select(Borrower)
        .options(selectinload(Borrower.officer), selectinload(Borrower.branch))
        .where(Borrower.visible_filter(user))
        .order_by(Borrower.full_name, Borrower.id)
    )
    if tier is not None:
        stmt = stmt.where(Borrower.tier == tier)
    if branch_id is not None:
        stmt = stmt.where(Borrower.branch_id == branch_id)
    return stmt


@dataclass(frozen=True)
class ReviewRow:
    """A borrower whose suggested tier differs from the one in force."""

    borrower_id: int
    name: str
    officer: str
    tier: Tier
    suggestion: Suggestion


def review_rows(user: User, branch_id: int, period: str, today: date) -> list[ReviewRow]:
    """Borrowers of a branch to decide on in ``period``: suggestion differs, not yet decided."""
    decided = sa.select(TierChange.borrower_id).where(TierChange.period == period)
    scope = (
        Borrower.visible_filter(user),
        Borrower.branch_id == branch_id,
        Borrower.id.not_in(decided),
    )
    # The whole branch, as Core rows: only the few whose suggestion differs are kept.
    rows = (
        db.session.connection()
        .execute(
            sa.select(Borrower.id, Borrower.full_name, User.display_name, Borrower.tier)
            .join(User, Borrower.officer_id == User.id)
            .where(*scope)
            .order_by(Borrower.full_name, Borrower.id)
        )
        .all()
    )
    among = sa.select(Borrower.id).where(*scope)
    suggested = suggestions([row[0] for row in rows], today, among)
    return [
        ReviewRow(row[0], row[1], row[2], row[3], suggested[row[0]])
        for row in rows
        if suggested[row[0]].tier != row[3]
    ]


def history(borrower_id: int) -> list[TierChange]:
    """A borrower's tier decisions, newest first."""
    return list(
        db.session.scalars(
            sa.select(TierChange)
            .options(selectinload(TierChange.decided_by))
            .where(TierChange.borrower_id == borrower_id)
            .order_by(TierChange.decided_at.desc(), TierChange.id.desc())
        )
    )
