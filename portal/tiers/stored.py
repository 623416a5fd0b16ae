"""Stored tier suggestions, kept current with the facts they come from.

Every flush that changes what the rules read notes the borrower: a loan (new, a
step, a repayment record, a write-off), a visit that counts or corrects another (an
orange or red one, an amendment), the tier in force (a decision, an edit), a new
borrower. Just before that transaction commits, those borrowers' suggestions are
judged afresh and stored, whichever feature wrote, so a suggestion is never older
than its facts. What time alone changes (years with the company, visits leaving the
12-month window) is caught by ``flask tiers refresh`` each night, and until then by
``recheck_on``: a row past it is not trusted (docs/tiers.md).
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.database import listen_once
from portal.extensions import db
from portal.loans.models import Loan
from portal.tiers import facts
from portal.tiers.models import TierSuggestion
from portal.tiers.rules import RiskHistory, Suggestion, TierFacts, recheck_on, suggest
from portal.visits.models import Visit
from portal.visits.risk import RiskLevel

CHUNK = 1000
BRANCH_AT_ONCE = 20_000
PENDING = "tiers.borrowers_to_refresh"
# What the rules read of a loan (docs/tiers.md, "The facts").
LOAN_FACTS = (
    "borrower_id",
    "status",
    "approved_amount",
    "disbursed_on",
    "repayment_status",
    "overdue_days",
    "written_off",
)
COUNTED_LEVELS = (RiskLevel.ORANGE, RiskLevel.RED)
FACT_COLUMNS = (
    "tier",
    "for_tier",
    "as_of",
    "recheck_on",
    "lent_total",
    "loans",
    "first_disbursed",
    "overdue_now",
    "max_overdue_days",
    "written_off",
    "orange_visits",
    "red_visits",
)


@lru_cache(maxsize=50_000)
def judged(loans: tuple | None, risk: RiskHistory, today: date) -> Suggestion:
    """The rules' answer for these plain facts (``facts.gather_plain`` values).

    The rules are a pure function of the facts and the day, and many borrowers share
    their facts: each worker remembers the answers instead of wording them again.
    """
    return suggest(facts.facts_of(loans, risk), today)


def stored_facts(row: TierSuggestion, tier) -> TierFacts:
    """The facts a stored suggestion rests on, to word its reasons for the reader."""
    return TierFacts(
        lent_total=Decimal(row.lent_total or 0),
        loans=row.loans,
        first_disbursed=row.first_disbursed,
        overdue_now=row.overdue_now,
        max_overdue_days=row.max_overdue_days,
        written_off=row.written_off,
        risk=RiskHistory(row.orange_visits, row.red_visits),
        tier=tier,
    )


def trusted(today: date) -> sa.ColumnElement:
    """WHERE clause: the stored suggestion (joined to its borrower) still holds today."""
    return sa.and_(
        TierSuggestion.for_tier == Borrower.tier,
        sa.or_(TierSuggestion.recheck_on.is_(None), TierSuggestion.recheck_on > today),
    )


def _row(borrower_id: int, branch_id: int, tier, found: TierFacts, today: date) -> dict:
    suggestion = suggest(found, today)
    risk = found.risk or facts.NO_RISK
    return {
        "borrower_id": borrower_id,
        "branch_id": branch_id,
        "tier": suggestion.tier,
        "for_tier": tier,
        "as_of": today,
        "recheck_on": recheck_on(found, today),
        "lent_total": found.lent_total,
        "loans": found.loans,
        "first_disbursed": found.first_disbursed,
        "overdue_now": found.overdue_now,
        "max_overdue_days": found.max_overdue_days,
        "written_off": found.written_off,
        "orange_visits": risk.orange,
        "red_visits": risk.red,
    }


def _upsert(rows: list[dict]) -> None:
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(TierSuggestion.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["borrower_id"], set_={name: stmt.excluded[name] for name in FACT_COLUMNS}
    )
    connection.execute(stmt, rows)


def refresh(borrower_ids: Iterable[int], today: date | None = None, among=None) -> int:
    """Judge these borrowers' suggestions afresh and store them; returns how many.

    The borrower rows are locked first (PostgreSQL), so two transactions changing one
    borrower's facts store their suggestions one after the other, the second seeing
    the first's facts. ``among``: a select of exactly these ids (a whole branch),
    asked in place of long IN lists.
    """
    today = today or local_today()
    ids = sorted(set(borrower_ids))
    if among is not None:
        _store(ids, today, among)
        return len(ids)
    for start in range(0, len(ids), CHUNK):
        _store(ids[start : start + CHUNK], today, None)
    return len(ids)


def _store(ids: list[int], today: date, among) -> None:
    borrowers = {
        row.id: row
        for row in db.session.execute(
            sa.select(Borrower.id, Borrower.branch_id, Borrower.tier)
            .where(Borrower.id.in_(ids if among is None else among))
            .order_by(Borrower.id)
            .with_for_update()
        )
    }
    found = facts.gather([i for i in ids if i in borrowers], today, among)
    if found:
        _upsert(
            [
                _row(i, borrowers[i].branch_id, borrowers[i].tier, fact, today)
                for i, fact in found.items()
            ]
        )


def refresh_branch(branch_id: int, today: date | None = None) -> int:
    """Every suggestion of a branch judged afresh and stored (the nightly job's step)."""
    among = sa.select(Borrower.id).where(Borrower.branch_id == branch_id)
    ids = db.session.scalars(among).all()
    # A branch at once (two queries), or by the thousand when it is very large.
    return refresh(ids, today, among if len(ids) <= BRANCH_AT_ONCE else None)


def refresh_all(today: date | None = None) -> int:
    """Judge every borrower afresh, one branch per transaction (the nightly job)."""
    from portal.branches.models import Branch

    today, count = today or local_today(), 0
    for branch_id in db.session.scalars(sa.select(Branch.id).order_by(Branch.id)).all():
        count += refresh_branch(branch_id, today)
        db.session.commit()
    return count


def _changed(obj, names: Iterable[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _borrower_touched(obj, is_new: bool) -> int | None:
    """The borrower whose suggestion ``obj``'s flushed change may alter, if any."""
    if isinstance(obj, Loan) and (is_new or _changed(obj, LOAN_FACTS)):
        return obj.borrower_id
    # Visits are never changed; a new one counts when orange or red, and a correction
    # may take a counted one away.
    counts = isinstance(obj, Visit) and (
        obj.risk_level in COUNTED_LEVELS or obj.amends_id is not None
    )
    if counts and is_new:
        return obj.borrower_id
    if isinstance(obj, Borrower) and (is_new or _changed(obj, ("tier",))):
        return obj.id
    return None


def _note_changes(session, _flush_context) -> None:
    """After a flush: remember whose facts changed (the lists still hold what was flushed)."""
    new = ((obj, True) for obj in session.new)
    changed = ((obj, False) for obj in chain(session.dirty, session.deleted))
    touched = {_borrower_touched(obj, is_new) for obj, is_new in chain(new, changed)}
    touched.discard(None)
    if touched:
        session.info.setdefault(PENDING, set()).update(touched)


def _store_before_commit(session) -> None:
    """The suggestions of every borrower whose facts changed, in the same transaction."""
    if session is not db.session():
        return
    session.flush()  # commit calls this hook before its own last flush
    while pending := session.info.pop(PENDING, None):
        refresh(pending)


def _forget(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def keep_current() -> None:
    """Connect the session hooks that keep the stored suggestions current (once)."""
    listen_once(
        db.session,
        (
            ("after_flush", _note_changes),
            ("before_commit", _store_before_commit),
            ("after_transaction_end", _forget),
        ),
    )
