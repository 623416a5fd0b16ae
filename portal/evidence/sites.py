"""The borrower's site: where the business is, against which each visit's position is measured.

Reads only; the writes (establishing, pinning, confirming) are in operations.py. The
rules (what a good fix is, when two fixes agree) are in rules.py.

One row per borrower in ``borrower_sites``:

- ``source == "visits"``: established from the first two good fixes that agree (their
  midpoint). In force at once.
- ``source == "pinned"``: pinned by the officer (or the head), from a visit's fix or the
  tablet's position. In force once the branch head confirmed it (``confirmed_at``);
  until then the visits' site stands, worked out again from the same visits.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.evidence import rules
from portal.evidence.models import BorrowerSite, SiteSource
from portal.extensions import db
from portal.visits.models import Visit


@dataclass(frozen=True)
class Fix:
    """A visit's position, as the site rules read it."""

    visit_id: int
    latitude: float
    longitude: float
    accuracy_m: int | None
    visited_at: datetime | None = None

    def distance_to(self, other) -> float:
        return rules.distance_m(self.latitude, self.longitude, other.latitude, other.longitude)


@dataclass(frozen=True)
class Site:
    """A borrower's site in force: where, and how it was established."""

    latitude: float
    longitude: float
    source: SiteSource
    # The visits whose fixes established it (source "visits"), oldest first.
    visit_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SiteDistance:
    """How far a visit's fix lies from the borrower's site in force."""

    distance_m: int
    accuracy_m: int | None
    source: SiteSource
    far: bool


def stored(borrower_id: int) -> BorrowerSite | None:
    """The borrower's site row, in force or waiting for the head."""
    return db.session.get(BorrowerSite, borrower_id)


def is_in_force(row: BorrowerSite) -> bool:
    """A visits' site is in force at once; a pinned one once the head confirmed it."""
    return row.source == SiteSource.VISITS or row.confirmed_at is not None


def is_waiting(row: BorrowerSite | None) -> bool:
    """A pin the head has not confirmed yet."""
    return row is not None and not is_in_force(row)


def site_in_force(borrower_id: int) -> Site | None:
    """The site each visit of the borrower is measured against, or None (not known yet)."""
    row = stored(borrower_id)
    if row is None:
        return None
    if is_in_force(row):
        return Site(row.latitude, row.longitude, row.source)
    return site_from_visits(borrower_id)  # the pin waits: the visits' site stands meanwhile


def good_fixes(borrower_id: int, limit: int = rules.SITE_FIXES_LOOKED_AT) -> list[Fix]:
    """The borrower's first ``limit`` good fixes, of original visits, in the order signed."""
    rows = db.session.execute(
        sa.select(Visit.id, Visit.latitude, Visit.longitude, Visit.accuracy_m, Visit.visited_at)
        .where(
            Visit.borrower_id == borrower_id,
            Visit.amends_id.is_(None),
            Visit.latitude.is_not(None),
            Visit.longitude.is_not(None),
            Visit.accuracy_m <= rules.SITE_FIX_ACCURACY_M,
        )
        .order_by(Visit.id)
        .limit(limit)
    )
    return [Fix(*row) for row in rows]


def agreeing_pair(fixes: list[Fix]) -> tuple[Fix, Fix] | None:
    """The first two fixes (by the later one's turn, then the earlier) that agree."""
    for later_index, later in enumerate(fixes):
        for earlier in fixes[:later_index]:
            if later.distance_to(earlier) <= rules.SITE_FIXES_AGREE_M:
                return earlier, later
    return None


def site_from_visits(borrower_id: int) -> Site | None:
    """The site the borrower's first agreeing good fixes establish: their midpoint."""
    pair = agreeing_pair(good_fixes(borrower_id))
    if pair is None:
        return None
    first, second = pair
    return Site(
        round((first.latitude + second.latitude) / 2, 6),
        round((first.longitude + second.longitude) / 2, 6),
        SiteSource.VISITS,
        (first.visit_id, second.visit_id),
    )


def distance_from_site(visit: Visit, site: Site | None) -> SiteDistance | None:
    """How far ``visit``'s fix lies from ``site``; None without a fix or a site."""
    if site is None or visit.latitude is None or visit.longitude is None:
        return None
    distance = rules.distance_m(visit.latitude, visit.longitude, site.latitude, site.longitude)
    return SiteDistance(
        round(distance),
        visit.accuracy_m,
        site.source,
        rules.is_far_from_site(distance, visit.accuracy_m),
    )


def visit_site_distance(visit: Visit) -> SiteDistance | None:
    """The visit page's "distance from the borrower's site" (template helper; one or two reads)."""
    if visit.latitude is None or visit.longitude is None:
        return None
    return distance_from_site(visit, site_in_force(visit.borrower_id))


def recent_fixes(borrower_id: int, limit: int = 12) -> list[Fix]:
    """The borrower's newest visits with a position (amendments too), newest first."""
    rows = db.session.execute(
        sa.select(Visit.id, Visit.latitude, Visit.longitude, Visit.accuracy_m, Visit.visited_at)
        .where(
            Visit.borrower_id == borrower_id,
            Visit.latitude.is_not(None),
            Visit.longitude.is_not(None),
        )
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(limit)
    )
    return [Fix(*row) for row in rows]
