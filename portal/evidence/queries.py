"""Reads of the evidence feature: the head's "visits to check", one visit's check, the counts.

The list of a branch and month is read from ``visit_flags`` through its index on
(branch_id, visited_at): a page costs the same few queries whatever the branch's size.
A visit's review state is its newest ``VisitReview``: none yet, asked, answered or
confirmed.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.calendar import Month, company_tz, current_month
from portal.core.forms import optional_id
from portal.core.statements import UserParameters, user_parameters
from portal.evidence import rules, sites
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from portal.visits.models import Visit

# What the list shows: the visits still to check (no review yet, or the officer answered),
# those waiting for the officer, those confirmed genuine, or all.
SHOW_CHOICES = ("open", "asked", "confirmed", "all")
# The head's menu badge counts the visits to check of this month and the one before it:
# a visit may be recorded up to a week late, so last month is checked into this one.
BADGE_MONTHS = 2


def newest_action(visit_id):
    """The action of the newest review of the visit ``visit_id`` (a column), or NULL."""
    return (
        sa.select(VisitReview.action)
        .where(VisitReview.visit_id == visit_id)
        .order_by(VisitReview.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _state_filter(state, show: str):
    if show == "open":
        # One test of the state, so the newest check is looked up once per visit.
        unchecked_or_answered = ("", ReviewAction.ANSWERED.value)
        return sa.func.coalesce(sa.cast(state, sa.String), "").in_(unchecked_or_answered)
    if show == "asked":
        return state == ReviewAction.ASKED
    if show == "confirmed":
        return state == ReviewAction.CONFIRMED
    return sa.true()


def _flagged_in(branch_id: int, start: datetime, end: datetime):
    """(visit_id, visited_at) of the branch's flagged visits in [start, end), one row each."""
    return (
        sa.select(
            VisitFlag.visit_id.label("visit_id"),
            sa.func.max(VisitFlag.visited_at).label("visited_at"),
        )
        .where(
            VisitFlag.branch_id == branch_id,
            VisitFlag.visited_at >= start,
            VisitFlag.visited_at < end,
        )
        .group_by(VisitFlag.visit_id)
        .subquery()
    )


def to_check(branch_id: int, month: Month, show: str = "open"):
    """SELECT of the branch's flagged visits of ``month`` in ``show``'s state, newest first.

    Rows of (visit_id, visited_at, state); ``page_of`` turns a page of them into
    what the list shows.
    """
    start, end = month.bounds(company_tz())
    flagged = _flagged_in(branch_id, start, end)
    state = newest_action(flagged.c.visit_id).label("state")
    inner = sa.select(flagged.c.visit_id, flagged.c.visited_at, state).subquery()
    return (
        sa.select(inner)
        .where(_state_filter(inner.c.state, show))
        .order_by(inner.c.visited_at.desc(), inner.c.visit_id.desc())
    )


@dataclass
class Reason:
    """One flag of a visit (a row with ``code`` and ``detail``), told in words."""

    flag: object
    text: str

    @property
    def code(self) -> str:
        return self.flag.code


@dataclass
class FlaggedVisit:
    """A flagged visit as the lists show it: the visit, its reasons, its review state.

    ``visit`` is a row (id, visited_at, borrower_id, borrower_name, village,
    officer_name, branch_id); each review a row of the review with ``reviewer_name``.
    The lists read plain rows: a page of 25 visits costs a few milliseconds.
    """

    visit: object
    reasons: list[Reason] = field(default_factory=list)
    reviews: list = field(default_factory=list)

    @property
    def review(self):
        """The newest review, which is the visit's state."""
        return self.reviews[-1] if self.reviews else None

    @property
    def state(self) -> ReviewAction | None:
        return self.review.action if self.review else None


def describe_flags(flags) -> list[Reason]:
    """Each flag with its reason in the user's language, in the rule table's order."""
    ordered = sorted(flags, key=lambda flag: (rules.flag_order(flag.code), flag.id))
    return [Reason(flag, rules.describe(flag)) for flag in ordered]


def _flags_of(visit_ids: list[int]) -> dict[int, list]:
    flags = defaultdict(list)
    for flag in db.session.execute(
        sa.select(VisitFlag.id, VisitFlag.visit_id, VisitFlag.code, VisitFlag.detail)
        .where(VisitFlag.visit_id.in_(visit_ids))
        .order_by(VisitFlag.visit_id, VisitFlag.id)
    ):
        flags[flag.visit_id].append(flag)
    return flags


def _reviews_of(visit_ids: list[int]) -> dict[int, list]:
    reviews = defaultdict(list)
    for review in db.session.execute(
        sa.select(
            VisitReview.id,
            VisitReview.visit_id,
            VisitReview.action,
            VisitReview.note,
            VisitReview.reviewed_at,
            VisitReview.reviewed_by_id,
            User.display_name.label("reviewer_name"),
        )
        .join(User, User.id == VisitReview.reviewed_by_id)
        .where(VisitReview.visit_id.in_(visit_ids))
        .order_by(VisitReview.visit_id, VisitReview.id)
    ):
        reviews[review.visit_id].append(review)
    return reviews


def flagged_visits(visit_ids: list[int]) -> list[FlaggedVisit]:
    """The visits ``visit_ids`` (in that order) with their flags and reviews: three queries."""
    if not visit_ids:
        return []
    visits = {
        row.id: row
        for row in db.session.execute(
            sa.select(
                Visit.id,
                Visit.visited_at,
                Visit.branch_id,
                Visit.borrower_id,
                Borrower.full_name.label("borrower_name"),
                Borrower.village,
                User.display_name.label("officer_name"),
            )
            .join(Borrower, Borrower.id == Visit.borrower_id)
            .join(User, User.id == Visit.officer_id)
            .where(Visit.id.in_(visit_ids))
        )
    }
    flags, reviews = _flags_of(visit_ids), _reviews_of(visit_ids)
    return [
        FlaggedVisit(visits[i], describe_flags(flags[i]), reviews[i])
        for i in visit_ids
        if i in visits
    ]


def page_of(rows) -> list[FlaggedVisit]:
    """What a page of ``to_check`` rows shows."""
    return flagged_visits([row.visit_id for row in rows])


def check_branch(user: User, requested: str | None) -> Branch | None:
    """The branch whose visits the user checks: a head's own; for admins the one asked for."""
    if user.role == Role.HEAD:
        return user.branch
    branch_id = optional_id(requested)
    if branch_id is not None:
        chosen = db.session.get(Branch, branch_id)
        if chosen is not None:
            return chosen
    return db.session.scalars(sa.select(Branch).where(Branch.active).order_by(Branch.code)).first()


def open_count(user: User) -> int:
    """The head's menu badge: visits of the branch still to check, this month and the last."""
    if user.role != Role.HEAD or user.branch_id is None:
        return 0
    if "evidence_open_count" not in g:
        this_month = current_month()
        start = this_month.shift(1 - BADGE_MONTHS).bounds(company_tz())[0]
        end = this_month.bounds(company_tz())[1]
        g.evidence_open_count = db.session.scalar(
            _open_count_stmt(), {"branch_id": user.branch_id, "start": start, "end": end}
        )
    return g.evidence_open_count


@cache
def _open_count_stmt():
    """The head's badge as one COUNT, built once (portal/core/statements.py)."""
    flagged = _flagged_in(sa.bindparam("branch_id"), sa.bindparam("start"), sa.bindparam("end"))
    state = newest_action(flagged.c.visit_id)
    return sa.select(sa.func.count()).select_from(flagged).where(_state_filter(state, "open"))


def _questions_stmt(officer: User):
    """Visits of the officer's borrowers whose newest review asks the officer to explain."""
    state = newest_action(Visit.id)
    return (
        sa.select(Visit.id)
        .join(Borrower, Borrower.id == Visit.borrower_id)
        .where(Borrower.officer_id == officer.id, state == ReviewAction.ASKED)
    )


def questions(officer: User):
    """SELECT of the visits the head asked the officer about, newest visit first."""
    return (
        _questions_stmt(officer)
        .add_columns(Visit.visited_at)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    )


def question_count(user: User) -> int:
    """The officer's menu badge: the head's questions waiting for an answer."""
    if user.role != Role.OFFICER:
        return 0
    if "evidence_question_count" not in g:
        g.evidence_question_count = db.session.scalar(_question_count_stmt(), user_parameters(user))
    return g.evidence_question_count


@cache
def _question_count_stmt():
    """The officer's badge as one COUNT, built once (portal/core/statements.py)."""
    officer = UserParameters(Role.OFFICER)
    return sa.select(sa.func.count()).select_from(_questions_stmt(officer).subquery())


# --- One visit's check ----------------------------------------------------------------


@dataclass
class PhotoPair:
    """A photo of the visit and the earlier one it resembles."""

    photo: object  # VisitPhoto
    other: object | None  # VisitPhoto, None when it is gone
    other_visit: Visit | None
    other_visible: bool  # the user may see the other visit (and so its photo)
    bits: int


@dataclass
class VisitCheck:
    """Everything the check page of one flagged visit shows."""

    flagged: FlaggedVisit
    photos: list  # the visit's VisitPhoto rows, in order
    pairs: list[PhotoPair]
    site: sites.Site | None  # the borrower's site in force now
    earlier_fixes: list[tuple[float, float]]
    related: dict[int, Visit]  # other visits the reasons name, by id


def _visit_photos(visit_ids) -> list:
    from portal.visits.models import VisitPhoto

    if not visit_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(VisitPhoto)
            .where(VisitPhoto.visit_id.in_(visit_ids))
            .order_by(VisitPhoto.visit_id, VisitPhoto.position)
        )
    )


def _photos_by_id(photo_ids) -> dict:
    from portal.visits.models import VisitPhoto

    if not photo_ids:
        return {}
    return {
        photo.id: photo
        for photo in db.session.scalars(sa.select(VisitPhoto).where(VisitPhoto.id.in_(photo_ids)))
    }


def _visits_by_id(visit_ids) -> dict[int, Visit]:
    if not visit_ids:
        return {}
    return {
        visit.id: visit
        for visit in db.session.scalars(
            sa.select(Visit)
            .where(Visit.id.in_(visit_ids))
            .options(
                joinedload(Visit.borrower),
                joinedload(Visit.officer).load_only(User.display_name),
            )
        )
    }


def flags_of(visit: Visit) -> list[VisitFlag]:
    return _flags_of([visit.id])[visit.id]


def visit_check(visit: Visit, user: User) -> VisitCheck | None:
    """The check of a flagged ``visit`` as ``user`` sees it; None when it carries no flag."""
    flags = flags_of(visit)
    if not flags:
        return None
    flagged = FlaggedVisit(visit, describe_flags(flags), _reviews_of([visit.id])[visit.id])
    reused = [f for f in flags if f.code == "photo_reused"]
    photo_ids = {f.detail.get(key) for f in reused for key in ("photo_id", "other_photo_id")}
    named = {
        f.detail.get("other_visit_id") for f in flags if f.detail.get("other_visit_id") is not None
    }
    photos = _visit_photos([visit.id])
    by_id = {photo.id: photo for photo in photos} | _photos_by_id(
        {i for i in photo_ids if isinstance(i, int)} - {photo.id for photo in photos}
    )
    related = _visits_by_id({i for i in named if isinstance(i, int)} - {visit.id})
    pairs = []
    for flag in reused:
        photo = by_id.get(flag.detail.get("photo_id"))
        if photo is None:
            continue
        other = by_id.get(flag.detail.get("other_photo_id"))
        other_visit = related.get(flag.detail.get("other_visit_id"))
        visible = other_visit is not None and other_visit.visible_to(user)
        pairs.append(PhotoPair(photo, other, other_visit, visible, flag.detail.get("bits", 0)))
    return VisitCheck(
        flagged=flagged,
        photos=photos,
        pairs=pairs,
        site=sites.site_in_force(visit.borrower_id),
        earlier_fixes=[
            (fix.latitude, fix.longitude)
            for fix in sites.recent_fixes(visit.borrower_id)
            if fix.visit_id != visit.id
        ],
        related=related,
    )


def review_state(visit: Visit) -> ReviewAction | None:
    """The action of the visit's newest review, or None when nobody checked it yet."""
    return db.session.scalar(
        sa.select(VisitReview.action)
        .where(VisitReview.visit_id == visit.id)
        .order_by(VisitReview.id.desc())
        .limit(1)
    )


def branches() -> list[Branch]:
    """The active branches, for the admin's chooser."""
    return list(db.session.scalars(sa.select(Branch).where(Branch.active).order_by(Branch.code)))
