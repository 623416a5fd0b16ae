"""Reading tiers: suggestions for lists, the review lists and a borrower's history."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower, Tier
from portal.core.paging import ListPagination, paginate_list
from portal.extensions import db
from portal.tiers import facts, stored
from portal.tiers.models import TierChange, TierSuggestion
from portal.tiers.rules import Suggestion, suggest

YEARLY, HALF_YEARLY = "yearly", "half-yearly"
REVIEW_KINDS = (YEARLY, HALF_YEARLY)
CHUNK = 1000


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
        return {i: stored.judged(*values, today) for i, values in plain.items()}
    result = {}
    for start in range(0, len(borrower_ids), CHUNK):
        chunk = borrower_ids[start : start + CHUNK]
        plain = facts.gather_plain(chunk, today)
        result |= {i: stored.judged(*values, today) for i, values in plain.items()}
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


def _scope(user: User, branch_id: int, period: str) -> tuple:
    decided = sa.select(TierChange.borrower_id).where(TierChange.period == period)
    return (
        Borrower.visible_filter(user),
        Borrower.branch_id == branch_id,
        Borrower.id.not_in(decided),
    )


def _to_review(
    scope: tuple, branch_id: int, today: date
) -> tuple[list[int], dict[int, Suggestion]]:
    """The ids in scope whose suggestion differs from their tier, by name; and the
    suggestions judged now for those without a stored one that still holds.

    One pass over the branch's name index joined to the stored suggestions. Normally
    nothing is judged now: every change of facts stores the suggestion and the
    nightly refresh renews what time changes; a missed night or rows written around
    the portal cost time here, never a wrong list.
    """
    rows = (
        db.session.connection()
        .execute(
            sa.select(
                Borrower.id,
                Borrower.tier,
                TierSuggestion.tier,
                TierSuggestion.for_tier,
                TierSuggestion.recheck_on,
            )
            .outerjoin(
                TierSuggestion,
                # The branch too: PostgreSQL then reads the branch's suggestions from
                # their index instead of hashing the whole table.
                sa.and_(
                    TierSuggestion.borrower_id == Borrower.id,
                    TierSuggestion.branch_id == branch_id,
                ),
            )
            .where(
                *scope,
                sa.or_(
                    TierSuggestion.borrower_id.is_(None),
                    ~stored.trusted(today),
                    TierSuggestion.tier != Borrower.tier,
                ),
            )
            .order_by(Borrower.full_name, Borrower.id)
        )
        .all()
    )
    untrusted = [
        row[0]
        for row in rows
        if row[2] is None or row[3] != row[1] or (row[4] is not None and row[4] <= today)
    ]
    live = suggestions(untrusted, today) if untrusted else {}
    differing = [
        row[0] for row in rows if (live[row[0]].tier if row[0] in live else row[2]) != row[1]
    ]
    return differing, {i: live[i] for i in differing if i in live}


def review_page(
    user: User, branch_id: int, period: str, today: date, per_page: int
) -> ListPagination:
    """A page of the borrowers of a branch to decide on in ``period`` (ReviewRow items):
    suggestion differs from the tier in force, not yet decided in the period.

    Read from the stored suggestions: two queries whatever the size of the branch.
    """
    ids, live = _to_review(_scope(user, branch_id, period), branch_id, today)
    page = paginate_list(ids, per_page)
    found = {
        row[0]: row
        for row in db.session.execute(
            sa.select(
                Borrower.id, Borrower.full_name, User.display_name, Borrower.tier, TierSuggestion
            )
            .join(User, Borrower.officer_id == User.id)
            .outerjoin(TierSuggestion, TierSuggestion.borrower_id == Borrower.id)
            .where(Borrower.id.in_(page.items))
        )
    }
    page.items = [
        ReviewRow(
            i,
            found[i][1],
            found[i][2],
            found[i][3],
            live.get(i) or suggest(stored.stored_facts(found[i][4], found[i][3]), today),
        )
        for i in page.items
    ]
    return page


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
