"""The chain of a borrower's signed visits, verified record by record (docs/visit-evidence.md).

Each record signed under an evidence version (visit-v2 on) signs the content hash of the
borrower's record before it (``previous_hash``; ``signing.GENESIS`` for the first), so
the records form one chain in the order they were stored. Verifying recomputes every
record's hash from its stored answers, signature and photos, and checks every link. A
record changed behind the application's back no longer matches its hash; a record
removed or moved leaves the next one pointing to a hash that is not before it.

Records signed before the evidence version (visit-v1) carry no link: they verify alone
and stand "before the chain". Once a borrower's chain has begun, every later record
must be linked.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.visits import signing
from portal.visits.models import Visit, VisitPhoto, VisitSignature
from portal.visits.photos import erased_of as photo_digests_erased
from portal.visits.photos import photo_digest


class Problem(StrEnum):
    """Why a record breaks its borrower's chain."""

    SIGNATURE_MISSING = "signature_missing"  # the stored signature image is gone
    PHOTO_MISSING = "photo_missing"  # a photo the record lists is gone
    CONTENT = "content"  # the stored record no longer matches its content hash
    LINK = "link"  # its previous hash is not the hash of the record stored before it
    UNCHAINED = "unchained"  # no link, although the borrower's chain began before it


class Part(StrEnum):
    """Which part of a record differs from what was signed, as far as it can be told."""

    SIGNATURE = "signature"
    PHOTO = "photo"
    RECORD = "record"  # the answers or another recorded field


PROBLEM_TEXTS = {
    Problem.SIGNATURE_MISSING: _l("Its stored signature is missing."),
    Problem.PHOTO_MISSING: _l("A photo of the record is missing."),
    Problem.CONTENT: _l("Its stored content no longer matches its hash."),
    Problem.LINK: _l(
        "Its previous hash is not the hash of the record before it: "
        "a record was removed, moved or changed."
    ),
    Problem.UNCHAINED: _l("It is not linked to the record before it, although the chain began."),
}
PART_TEXTS = {
    Part.SIGNATURE: _l("The signature image differs from the one signed."),
    Part.PHOTO: _l("A photo differs from the one signed."),
    Part.RECORD: _l("The answers or other recorded details differ from what was signed."),
}


@dataclass(frozen=True)
class RecordCheck:
    """One record of a borrower's chain as verified, in the chain's order."""

    visit_id: int
    amends_id: int | None
    visited_at: datetime
    signed_at: datetime
    received_at: datetime | None
    officer_name: str
    content_hash: str
    previous_hash: str | None
    version: str | None  # the record version its hash matches; None when it matches none
    problem: Problem | None = None
    part: Part | None = None  # for Problem.CONTENT: what differs

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def before_chain(self) -> bool:
        """Signed before the evidence version: verified alone, with no link."""
        return self.ok and self.version not in signing.EVIDENCE_VERSIONS

    @property
    def first(self) -> bool:
        """The first linked record of the chain."""
        return self.previous_hash == signing.GENESIS

    @property
    def reason(self) -> str:
        """Why the record breaks the chain, in the user's language ("" when it does not)."""
        if self.problem is None:
            return ""
        text = str(PROBLEM_TEXTS[self.problem])
        return f"{text} {PART_TEXTS[self.part]}" if self.part else text


@dataclass(frozen=True)
class ChainCheck:
    """A borrower's records in order, each verified."""

    borrower_id: int
    records: list[RecordCheck]

    @property
    def first_break(self) -> RecordCheck | None:
        """The first record that breaks the chain, or None when the whole chain holds."""
        return next((record for record in self.records if not record.ok), None)

    @property
    def ok(self) -> bool:
        return self.first_break is None

    @property
    def broken(self) -> list[RecordCheck]:
        return [record for record in self.records if not record.ok]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(
    visit: Visit, png: bytes | None, photos
) -> tuple[str | None, Problem | None, Part | None]:
    """The record version its stored content matches, or the problem (and the part)."""
    if png is None:
        return None, Problem.SIGNATURE_MISSING, None
    if photos.missing:
        return None, Problem.PHOTO_MISSING, None
    version = signing.signed_version(visit, png, photos.digests)
    signature_changed = visit.signature_sha256 not in (None, _sha256(png))
    if version is None:
        if signature_changed:
            return None, Problem.CONTENT, Part.SIGNATURE
        return None, Problem.CONTENT, Part.PHOTO if photos.altered else Part.RECORD
    if signature_changed:
        # The hash holds, but the column that finds copied signatures was changed.
        return version, Problem.CONTENT, Part.SIGNATURE
    return version, None, None


def _check(visit: Visit, png: bytes | None, photos, before: Visit | None, chained: bool):
    version, problem, part = _content(visit, png, photos)
    if problem is None:
        if version in signing.EVIDENCE_VERSIONS:
            expected = before.content_hash if before is not None else signing.GENESIS
            if visit.previous_hash != expected:
                problem = Problem.LINK
        elif visit.previous_hash is not None or chained:
            # Signed without a link (or with one its version does not sign) after the
            # chain began: it could have been put anywhere.
            problem = Problem.UNCHAINED
    return RecordCheck(
        visit_id=visit.id,
        amends_id=visit.amends_id,
        visited_at=visit.visited_at,
        signed_at=visit.signed_at,
        received_at=visit.received_at,
        officer_name=visit.officer.display_name,
        content_hash=visit.content_hash,
        previous_hash=visit.previous_hash,
        version=version,
        problem=problem,
        part=part,
    )


def _verified(borrower_id: int, visits: list[Visit], pngs: dict, photos: dict) -> ChainCheck:
    records, before, chained = [], None, False
    for visit in visits:
        record = _check(visit, pngs.get(visit.id), photos[visit.id], before, chained)
        records.append(record)
        chained = chained or visit.previous_hash is not None
        before = visit
    return ChainCheck(borrower_id, records)


def _load(borrower_ids: list[int]) -> tuple[dict[int, list[Visit]], dict[int, bytes], dict]:
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.borrower_id.in_(borrower_ids))
        .options(joinedload(Visit.officer))
        .order_by(Visit.borrower_id, Visit.id)
    ).all()
    ids = [visit.id for visit in visits]
    pngs = dict(
        db.session.execute(
            sa.select(VisitSignature.visit_id, VisitSignature.png).where(
                VisitSignature.visit_id.in_(ids)
            )
        ).all()
    )
    by_borrower: dict[int, list[Visit]] = {}
    for visit in visits:
        by_borrower.setdefault(visit.borrower_id, []).append(visit)
    return by_borrower, pngs, stored_photos(ids)


@dataclass(frozen=True)
class StoredPhotos:
    """A record's photos as stored: what its hash signs, and what is wrong with them."""

    digests: list[tuple[str, str]] = field(default_factory=list)
    missing: bool = False  # a photo without its image, or a gap in their positions
    altered: bool = False  # an image whose bytes no longer give its recorded digest


def stored_photos(visit_ids: Iterable[int]) -> dict[int, StoredPhotos]:
    """The photos of these visits as their records sign them, by visit id.

    Digests are computed from the stored images (never copied from the ``sha256``
    column); the images are streamed, so a batch never holds them all at once. Photos
    the retention run erased are taken as signed from ``erased_visit_photos``.
    """
    ids = list(visit_ids)
    rows = db.session.execute(
        sa.select(
            VisitPhoto.visit_id,
            VisitPhoto.position,
            VisitPhoto.kind,
            VisitPhoto.sha256,
            VisitPhoto.jpeg,
            VisitPhoto.thumb_jpeg,
        )
        .where(VisitPhoto.visit_id.in_(ids))
        .order_by(VisitPhoto.visit_id, VisitPhoto.position)
        .execution_options(yield_per=50)
    )
    found: dict[int, list[tuple[int, str, str, str | None]]] = {}
    for visit_id, position, kind, recorded, jpeg, thumb in rows:
        digest = photo_digest(jpeg, thumb) if jpeg and thumb else None
        found.setdefault(visit_id, []).append((position, kind, recorded, digest))
    # A photo the retention run erased counts as what was kept of it (its kind and digest
    # at its position): erased on purpose, not missing. Any other removal still shows.
    for visit_id, erased in photo_digests_erased(ids).items():
        found[visit_id] = sorted(
            [*found.get(visit_id, []), *((p, kind, sha, sha) for p, (kind, sha) in erased)]
        )
    photos = {}
    for visit_id in ids:
        stored = found.get(visit_id, [])
        photos[visit_id] = StoredPhotos(
            digests=[(kind, digest or "") for _position, kind, _recorded, digest in stored],
            missing=[position for position, *_rest in stored] != list(range(len(stored)))
            or any(digest is None for *_rest, digest in stored),
            altered=any(digest != recorded for _position, _kind, recorded, digest in stored),
        )
    return photos


def verify_chain(borrower_id: int) -> ChainCheck:
    """Verify every record of the borrower's chain, in order; empty when there is none."""
    by_borrower, pngs, photos = _load([borrower_id])
    return _verified(borrower_id, by_borrower.get(borrower_id, []), pngs, photos)


def borrowers_with_visits() -> list[int]:
    """Every borrower with a signed visit, by id."""
    return list(
        db.session.scalars(sa.select(Visit.borrower_id).distinct().order_by(Visit.borrower_id))
    )


def verify_chains(borrower_ids: Iterable[int], batch: int = 200) -> Iterator[ChainCheck]:
    """Verify the chains of these borrowers, loading a batch of borrowers at a time;
    one ChainCheck per borrower that has records, in the order given."""
    ids = list(borrower_ids)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        by_borrower, pngs, photos = _load(chunk)
        for borrower_id in chunk:
            if borrower_id in by_borrower:
                yield _verified(borrower_id, by_borrower[borrower_id], pngs, photos)
