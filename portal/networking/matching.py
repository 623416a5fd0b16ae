"""Supply–demand matches: one borrower's offer meets another's need.

Matches are proposed per borrower: for each borrower on the page (those the user
sees and who have a business profile), the best counterparts — the same branch
first, then the same region (Branch.region, when the branch has one), then those whose
offer and need agree on season or quantity (portal/networking/details.py), more shared
tags first. Pairs further apart are not proposed.

The work is bounded by the page, not by the data: for each profile entry of the
page's borrowers, one index range scan fetches at most ``limit`` counterparts of
the same branch and ``limit`` of the rest of the region, all in one UNION ALL
query. A branch where every borrower has a profile has millions of possible pairs;
counting or sorting all of them on every page view is what this avoids.

Of a counterpart the user does not see, only the name and branch are shown
(docs/care.md, "Matches and privacy"). A borrower without the consent to networking
(portal/privacy) is in no match, on either side.
"""

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.i18n import list_separator
from portal.extensions import db
from portal.networking.details import agreements, describe
from portal.networking.models import DETAIL_FIELDS, EntryDetails, ProfileEntry, ProfileSide
from portal.privacy import consents
from portal.privacy.models import Purpose

SAME_BRANCH, SAME_REGION = 0, 1
UNION_TERMS = 250
OPPOSITE = {ProfileSide.OFFER: ProfileSide.NEED, ProfileSide.NEED: ProfileSide.OFFER}


@dataclass(frozen=True)
class Party:
    """One side of a match, with only what the viewer may see of them."""

    id: int
    name: str
    branch: str
    visible: bool


@dataclass(frozen=True)
class Match:
    """A supplier, a buyer, where they are from each other and why they match.

    ``details`` holds, per shared tag, the supplier's and the buyer's quantity, season
    and price in words ("" when not given); ``fits`` where they agree, in words.
    """

    supplier: Party
    buyer: Party
    scope: int
    tags: tuple[str, ...]
    details: tuple[tuple[str, str], ...] = ()
    fits: tuple[str, ...] = ()

    @property
    def same_branch(self) -> bool:
        return self.scope == SAME_BRANCH

    @property
    def reasons(self) -> list[str]:
        """ "Feed: A offers, B needs", once per shared tag, with quantities and seasons;
        then why the match ranks higher, when the offer and the need agree."""
        details = self.details or (("", ""),) * len(self.tags)
        reasons = [
            _(
                "%(tag)s: %(supplier)s offers, %(buyer)s needs",
                tag=tag,
                supplier=_with_details(self.supplier.name, offered),
                buyer=_with_details(self.buyer.name, needed),
            )
            for tag, (offered, needed) in zip(self.tags, details, strict=True)
        ]
        if self.fits:
            reasons.append(
                _("Ranked higher: %(reasons)s", reasons=list_separator().join(self.fits))
            )
        return reasons


def _with_details(name: str, details: str) -> str:
    return f"{name} ({details})" if details else name


@dataclass(frozen=True)
class Proposal:
    """One borrower and their best matches."""

    borrower: Party
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class _Entry:
    id: int
    borrower_id: int
    side: ProfileSide
    match_key: str
    label: str
    branch_id: int
    region: str
    details: EntryDetails


def profiled_statement(user: User, among: sa.Select | None = None) -> sa.Select:
    """Borrowers the user sees who have a business profile they agreed to show, by name."""
    profiled = sa.select(ProfileEntry.borrower_id)
    stmt = (
        sa.select(Borrower)
        .where(
            Borrower.visible_filter(user),
            Borrower.id.in_(profiled),
            consents.given_filter(Purpose.NETWORKING),
        )
        .order_by(Borrower.full_name, Borrower.id)
    )
    return stmt if among is None else stmt.where(Borrower.id.in_(among))


def _entries(borrower_ids: list[int], locale: str) -> list[_Entry]:
    rows = db.session.execute(
        sa.select(ProfileEntry, Borrower.branch_id, Branch.region)
        .join(Borrower, ProfileEntry.borrower_id == Borrower.id)
        .join(Branch, Borrower.branch_id == Branch.id)
        .where(ProfileEntry.borrower_id.in_(borrower_ids))
        .order_by(ProfileEntry.id)
    )
    return [
        _Entry(
            e.id, e.borrower_id, e.side, e.match_key, e.label(locale), branch_id, region, e.details
        )
        for e, branch_id, region in rows
    ]


def _details_of(entry_ids: set[int]) -> dict[int, EntryDetails]:
    """The quantities, seasons and prices of the counterparts' entries, in one query."""
    if not entry_ids:
        return {}
    rows = db.session.execute(
        sa.select(ProfileEntry.id, *(getattr(ProfileEntry, name) for name in DETAIL_FIELDS)).where(
            ProfileEntry.id.in_(entry_ids)
        )
    )
    return {row[0]: EntryDetails(*row[1:]) for row in rows}


def _counterparts(entry: _Entry, limit: int) -> list[sa.Select]:
    """At most ``limit`` counterparts in the entry's branch, and as many elsewhere in its region."""
    # Plain mapped columns, no aliases: each part is its own SELECT inside the UNION,
    # and building ORM aliases for every entry of a page costs more than the query.
    other = ProfileEntry
    base = (
        sa.select(
            sa.literal(entry.id).label("entry_id"),
            other.borrower_id,
            Borrower.branch_id,
            other.id.label("other_entry_id"),
        )
        .join(Borrower, Borrower.id == other.borrower_id)
        .where(
            other.match_key == entry.match_key,
            other.side == OPPOSITE[entry.side],
            other.borrower_id != entry.borrower_id,
            # A counterpart whose consent to networking is not given is never proposed.
            consents.given_filter(Purpose.NETWORKING, other.borrower_id),
        )
        .order_by(other.borrower_id)
        .limit(limit)
    )
    parts = [base.where(Borrower.branch_id == entry.branch_id)]
    if entry.region:
        region = sa.select(Branch.id).where(Branch.region == entry.region)
        parts.append(
            base.where(Borrower.branch_id != entry.branch_id, Borrower.branch_id.in_(region))
        )
    return parts


def _candidate_rows(entries: list[_Entry], limit: int) -> list:
    parts = [part for entry in entries for part in _counterparts(entry, limit)]
    rows = []
    # SQLite allows 500 terms in one compound SELECT; a page seldom needs more than one go.
    for start in range(0, len(parts), UNION_TERMS):
        chunk = parts[start : start + UNION_TERMS]
        # Each part keeps its own ORDER BY/LIMIT inside a subquery, as both databases require.
        rows += db.session.execute(sa.union_all(*(p.subquery().select() for p in chunk))).all()
    return rows


def _parties(ids: set[int], user: User) -> dict[int, Party]:
    rows = db.session.execute(
        sa.select(Borrower, Branch.name)
        .join(Branch, Borrower.branch_id == Branch.id)
        .where(Borrower.id.in_(ids))
    )
    return {b.id: Party(b.id, b.full_name, branch, b.visible_to(user)) for b, branch in rows}


def proposals(
    user: User, borrower_ids: list[int], locale: str, per_borrower: int = 5
) -> list[Proposal]:
    """The best ``per_borrower`` matches of each borrower, in a fixed number of queries.

    Counterparts come from the borrower's own branch and region only, so when the
    borrowers are all of one branch or region, so are their counterparts.
    """
    entries = {entry.id: entry for entry in _entries(borrower_ids, locale)}
    rows = _candidate_rows(list(entries.values()), per_borrower)
    theirs = _details_of({row[3] for row in rows})
    found: dict[tuple, dict] = {}
    for entry_id, other_id, other_branch, other_entry_id in rows:
        entry = entries[entry_id]
        scope = SAME_BRANCH if other_branch == entry.branch_id else SAME_REGION
        pair = found.setdefault(
            (entry.borrower_id, other_id, entry.side),
            {"scope": scope, "tags": [], "details": [], "fits": []},
        )
        mine, other = entry.details, theirs.get(other_entry_id, EntryDetails())
        offer, need = (mine, other) if entry.side == ProfileSide.OFFER else (other, mine)
        pair["tags"].append(entry.label)
        pair["details"].append((describe(offer), describe(need)))
        pair["fits"] += [f"{entry.label}: {fit}" for fit in agreements(offer, need)]
    parties = _parties(set(borrower_ids) | {key[1] for key in found}, user)
    ranked = defaultdict(list)
    for (me, other, side), pair in found.items():
        supplier, buyer = (me, other) if side == ProfileSide.OFFER else (other, me)
        match = Match(
            parties[supplier],
            parties[buyer],
            pair["scope"],
            tuple(pair["tags"]),
            tuple(pair["details"]),
            tuple(pair["fits"]),
        )
        ranked[me].append(match)
    return [
        Proposal(
            parties[borrower_id],
            tuple(sorted(ranked[borrower_id], key=_rank)[:per_borrower]),
        )
        for borrower_id in borrower_ids
        if borrower_id in parties
    ]


@dataclass(frozen=True)
class InviteRow:
    """One borrower on the invite page, once, with every match of theirs the page shows."""

    borrower: Party
    matches: tuple[Match, ...]


def invite_rows(page_proposals: list[Proposal]) -> list[InviteRow]:
    """One row per borrower: the page's borrowers first, then their counterparts.

    A pair shows under both of its borrowers; each borrower has one row, so one
    checkbox, however many matches name them.
    """
    parties: dict[int, Party] = {}
    matches: dict[int, list[Match]] = defaultdict(list)
    for proposal in page_proposals:
        parties.setdefault(proposal.borrower.id, proposal.borrower)
        for match in proposal.matches:
            for party in (match.supplier, match.buyer):
                parties.setdefault(party.id, party)
                if match not in matches[party.id]:
                    matches[party.id].append(match)
    return [InviteRow(party, tuple(matches[party_id])) for party_id, party in parties.items()]


def _rank(match: Match):
    """Nearer first; then those that agree on season or quantity; then more shared tags."""
    return (match.scope, -len(match.fits), -len(match.tags), match.supplier.id, match.buyer.id)
