"""Writes of the evidence feature: the borrower's site; the head's checks below.

They flush and audit; the view's transaction (portal/core/actions.py) commits.
"""

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.database import utcnow
from portal.evidence import queries, rules, sites
from portal.evidence.models import BorrowerSite, ReviewAction, SiteSource, VisitReview
from portal.extensions import db
from portal.visits.models import Visit


class EvidenceRefused(Refused):
    """The evidence feature's "no": a translatable ``message``, maybe about one ``field``."""


# --- The borrower's site ---------------------------------------------------------------


def establish_site(visit: Visit) -> BorrowerSite | None:
    """Store the borrower's site once the first good fixes agree (called as ``visit`` is signed).

    Nothing happens when the borrower has a site row already (from visits, or pinned), or
    when their good fixes do not agree yet.
    """
    if sites.stored(visit.borrower_id) is not None:
        return None
    site = sites.site_from_visits(visit.borrower_id)
    if site is None:
        return None
    row = BorrowerSite(
        borrower_id=visit.borrower_id,
        latitude=site.latitude,
        longitude=site.longitude,
        source=SiteSource.VISITS,
        established_at=utcnow(),
    )
    db.session.add(row)
    record(
        "evidence.site_established",
        visit.borrower,
        f"borrower={visit.borrower_id} visits={'+'.join(map(str, site.visit_ids))} "
        f"at {site.latitude:.6f},{site.longitude:.6f}",
    )
    return row


def can_pin(borrower: Borrower, user: User) -> bool:
    """The borrower's officer and the branch head pin a site (admins do not visit)."""
    return user.role in (Role.OFFICER, Role.HEAD) and borrower.visible_to(user)


def can_confirm(borrower: Borrower, user: User) -> bool:
    """The head of the borrower's branch (or an admin) confirms or removes a pin."""
    return user.can_manage_branch(borrower.branch_id)


def pin_site(
    borrower: Borrower,
    user: User,
    latitude: float,
    longitude: float,
    accuracy_m: int | None,
    visit: Visit | None = None,
) -> BorrowerSite:
    """Pin the borrower's site at a good fix: once, in force when the head confirms it.

    ``visit`` names the visit whose fix is pinned; without it the position is the
    tablet's, taken on the site page. The visits' site, if any, stands until then.
    """
    row = sites.stored(borrower.id)
    if row is not None and row.source == SiteSource.PINNED:
        raise EvidenceRefused(
            _l(
                "This borrower's site was pinned already. "
                "The branch head can remove the pin, then it can be pinned again."
            )
        )
    if visit is not None and visit.borrower_id != borrower.id:
        raise EvidenceRefused(_l("Choose a visit of this borrower."), field="visit_id")
    if not rules.is_good_fix(accuracy_m):
        raise EvidenceRefused(
            _l(
                "This position is not precise enough to pin the site: it must be accurate "
                "to %(limit)s m or better. Record it again outdoors.",
                limit=rules.SITE_FIX_ACCURACY_M,
            ),
            field="visit_id" if visit is not None else "latitude",
        )
    if row is None:
        row = BorrowerSite(borrower_id=borrower.id)
        db.session.add(row)
    row.latitude, row.longitude = latitude, longitude
    row.source = SiteSource.PINNED
    row.established_at = utcnow()
    row.pinned_by_id = user.id
    row.confirmed_by_id = None
    row.confirmed_at = None
    origin = f"visit={visit.id}" if visit is not None else "position"
    record(
        "evidence.site_pin",
        borrower,
        f"borrower={borrower.id} {origin} at {latitude:.6f},{longitude:.6f} ±{accuracy_m} m",
        actor=user,
    )
    return row


def confirm_site(borrower: Borrower, user: User) -> BorrowerSite:
    """The head confirms the pinned site: from now on visits are measured against it."""
    row = sites.stored(borrower.id)
    if not sites.is_waiting(row):
        raise EvidenceRefused(_l("There is no pinned site waiting for confirmation."))
    row.confirmed_by_id = user.id
    row.confirmed_at = utcnow()
    record(
        "evidence.site_confirm",
        borrower,
        f"borrower={borrower.id} pinned by user={row.pinned_by_id}",
        actor=user,
    )
    return row


def remove_pin(borrower: Borrower, user: User) -> BorrowerSite | None:
    """The head removes a pin (waiting or confirmed): the visits' site, if any, is back.

    The officer may pin again afterwards.
    """
    row = sites.stored(borrower.id)
    if row is None or row.source != SiteSource.PINNED:
        raise EvidenceRefused(_l("This borrower's site is not pinned."))
    summary = (
        f"borrower={borrower.id} pinned by user={row.pinned_by_id} "
        f"at {row.latitude:.6f},{row.longitude:.6f}"
        + (" (confirmed)" if row.confirmed_at else " (waiting)")
    )
    record("evidence.site_unpin", borrower, summary, actor=user)
    site = sites.site_from_visits(borrower.id)
    if site is None:
        db.session.delete(row)
        return None
    row.latitude, row.longitude = site.latitude, site.longitude
    row.source = SiteSource.VISITS
    row.established_at = utcnow()
    row.pinned_by_id = row.confirmed_by_id = row.confirmed_at = None
    return row


# --- The head's check of a flagged visit, and the officer's answer -----------------------


class ReviewRefused(Refused):
    """A check or an answer that cannot be recorded, with the reason."""


def review_visit(visit: Visit, action: ReviewAction, note: str, head: User) -> VisitReview:
    """The branch head confirms a flagged visit genuine, or asks its officer to explain.

    The newest check is the visit's state; the earlier ones stay as its history.
    """
    state = queries.review_state(visit)
    if action == ReviewAction.CONFIRMED and state == ReviewAction.CONFIRMED:
        raise ReviewRefused(_l("This visit was already confirmed genuine."))
    if action == ReviewAction.ASKED and state == ReviewAction.ASKED:
        raise ReviewRefused(
            _l("The officer was already asked about this visit and has not answered yet.")
        )
    if action == ReviewAction.ASKED and not note:
        raise ReviewRefused(_l("Write the question the officer should answer."), field="note")
    if action not in (ReviewAction.CONFIRMED, ReviewAction.ASKED):
        raise ReviewRefused(_l("Choose: confirmed genuine, or ask the officer."), field="action")
    return _add_review(visit, action, note, head)


def answer_question(visit: Visit, note: str, officer: User) -> VisitReview:
    """The officer answers the head's question; the visit goes back to the head's list."""
    if queries.review_state(visit) != ReviewAction.ASKED:
        raise ReviewRefused(_l("Nobody is waiting for an answer about this visit."))
    if not note:
        raise ReviewRefused(_l("Write your answer to the branch head."), field="note")
    return _add_review(visit, ReviewAction.ANSWERED, note, officer)


def _add_review(visit: Visit, action: ReviewAction, note: str, user: User) -> VisitReview:
    review = VisitReview(
        visit_id=visit.id,
        branch_id=visit.branch_id,
        action=action,
        note=note,
        reviewed_by_id=user.id,
    )
    db.session.add(review)
    db.session.flush()
    record(f"evidence.review_{action.value}", review, f"visit={visit.id}: {note}", actor=user)
    return review
