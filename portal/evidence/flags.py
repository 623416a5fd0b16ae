"""Raising the flags of a just-signed visit (the rules: portal/evidence/rules.py).

``on_visit_signed`` receives ``visits.operations.visit_signed`` (connected in
portal/__init__.py), inside the signing transaction: the flags are stored with the
visit or not at all. They are facts computed once; the visit stays frozen.

Every check is cheap: a primary-key read of the site, and index range reads bounded by
the rule's window or limit (the officer's visits of a few hours or of 90 days at most,
one probe of the signature index, the photo index per photo). Never all visits.
"""

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa

from portal.core.calendar import company_tz
from portal.evidence import operations, rules, sites
from portal.evidence.models import VisitFlag
from portal.evidence.rules import FlagCode
from portal.extensions import db
from portal.visits import photos as visit_photos
from portal.visits.models import Visit, VisitPhoto

Found = tuple[FlagCode, dict]


def on_visit_signed(visit: Visit, **_extra) -> None:
    """Receiver of ``visits.operations.visit_signed``: flag the visit in its own transaction."""
    raise_flags(visit)


def raise_flags(visit: Visit) -> list[VisitFlag]:
    """Store a flag for each rule ``visit`` breaks, in the table's order; return them."""
    found = [*_place(visit), *_time(visit), *_reuse(visit)]
    found.sort(key=lambda pair: rules.flag_order(pair[0]))
    flags = [
        VisitFlag(
            visit_id=visit.id,
            branch_id=visit.branch_id,
            officer_id=visit.officer_id,
            visited_at=visit.visited_at,
            code=code.value,
            detail=detail,
        )
        for code, detail in found
    ]
    db.session.add_all(flags)
    return flags


def _has_fix(visit) -> bool:
    return visit.latitude is not None and visit.longitude is not None


# --- Place ----------------------------------------------------------------------------


def _place(visit: Visit) -> Iterator[Found]:
    if not _has_fix(visit):
        if visit.location_status in rules.NO_FIX_STATUSES:
            yield FlagCode.NO_FIX, {"location_status": visit.location_status}
        return
    if visit.amends_id is None and rules.is_good_fix(visit.accuracy_m):
        operations.establish_site(visit)
    measured = sites.distance_from_site(visit, sites.site_in_force(visit.borrower_id))
    if measured is not None and measured.far:
        yield (
            FlagCode.FAR_FROM_SITE,
            {
                "distance_m": measured.distance_m,
                "accuracy_m": measured.accuracy_m,
                "site": measured.source.value,
            },
        )


# --- Time -----------------------------------------------------------------------------


def signing_seconds(visit: Visit) -> int | None:
    """Seconds from opening the form to signing, on the clock that saw the shorter time.

    The tablet's clock (opened, signed) and the server's (form served, record received)
    each measure it when they saw both ends; a negative reading (a clock set meanwhile)
    is ignored.
    """
    readings = [
        (end - start).total_seconds()
        for start, end in (
            (visit.opened_at, visit.signed_at_device),
            (visit.opened_at_server, visit.received_at),
        )
        if start is not None and end is not None and end >= start
    ]
    return int(min(readings)) if readings else None


def signing_moment(visit: Visit) -> datetime:
    """When the borrower signed: the tablet's time if plausible, else the record's time.

    Plausible: not before the visit began and not after the server received the record
    (each with the clock tolerance). A draft sent from the office hours later was still
    signed in the field.
    """
    device = visit.signed_at_device
    received = visit.received_at or visit.signed_at
    if (
        device is not None
        and visit.visited_at - rules.CLOCK_TOLERANCE <= device
        and device <= received + rules.CLOCK_TOLERANCE
    ):
        return device
    return visit.signed_at


def _time(visit: Visit) -> Iterator[Found]:
    if visit.amends_id is None:
        seconds = signing_seconds(visit)
        if seconds is not None and rules.is_quick(seconds):
            yield FlagCode.QUICK_SIGNING, {"seconds": seconds}
    local = signing_moment(visit).astimezone(company_tz())
    if rules.is_outside_hours(local.time()):
        yield FlagCode.OUTSIDE_HOURS, {"local_time": f"{local:%H:%M}"}
    if visit.amends_id is None and _has_fix(visit):
        yield from _impossible_travel(visit)


def _impossible_travel(visit: Visit) -> Iterator[Found]:
    """The officer's other original visits with a fix within the window: the fastest move."""
    window = rules.TRAVEL_WINDOW
    others = db.session.execute(
        sa.select(
            Visit.id, Visit.latitude, Visit.longitude, Visit.accuracy_m, Visit.visited_at
        ).where(
            Visit.officer_id == visit.officer_id,
            Visit.visited_at >= visit.visited_at - window,
            Visit.visited_at <= visit.visited_at + window,
            Visit.id != visit.id,
            Visit.amends_id.is_(None),
            Visit.latitude.is_not(None),
            Visit.longitude.is_not(None),
        )
    )
    fastest = None
    for other in others:
        distance = rules.distance_m(
            visit.latitude, visit.longitude, other.latitude, other.longitude
        )
        seconds = abs((visit.visited_at - other.visited_at).total_seconds())
        accuracies = (visit.accuracy_m or 0) + (other.accuracy_m or 0)
        if not rules.is_impossible_travel(distance, accuracies, seconds):
            continue
        speed = rules.speed_kmh(distance, seconds)
        if fastest is None or speed > fastest["speed_kmh"]:
            fastest = {
                "other_visit_id": other.id,
                "distance_m": round(distance),
                "minutes": round(seconds / 60),
                "speed_kmh": round(speed),
            }
    if fastest is not None:
        yield FlagCode.IMPOSSIBLE_TRAVEL, fastest


# --- Reuse ----------------------------------------------------------------------------


def _same_record(visit: Visit):
    """WHERE clause: a row of ``visit``'s own record (its original or one of its amendments)."""
    return sa.func.coalesce(Visit.amends_id, Visit.id) == visit.root_id


def _reuse(visit: Visit) -> Iterator[Found]:
    yield from _signature_reused(visit)
    yield from _photo_flags(visit)
    yield from _text_reused(visit)


def _signature_reused(visit: Visit) -> Iterator[Found]:
    """One probe of the signature index: the first visit that carried the same image."""
    if not visit.signature_sha256:
        return
    first = db.session.scalar(
        sa.select(Visit.id)
        .where(
            Visit.signature_sha256 == visit.signature_sha256,
            Visit.id != visit.id,
            ~_same_record(visit),
        )
        .order_by(Visit.id)
        .limit(1)
    )
    if first is not None:
        yield FlagCode.SIGNATURE_REUSED, {"other_visit_id": first}


def _text_reused(visit: Visit) -> Iterator[Found]:
    """The officer's visits of the window before this one, newest first, the most alike."""
    text = rules.normalised_text(visit.officer_observations)
    if len(text) < rules.TEXT_MIN_CHARS:
        return
    earlier = db.session.execute(
        sa.select(Visit.id, Visit.officer_observations)
        .where(
            Visit.officer_id == visit.officer_id,
            Visit.visited_at >= visit.visited_at - rules.TEXT_WINDOW,
            Visit.id < visit.id,
            ~_same_record(visit),
        )
        .order_by(Visit.visited_at.desc())
        .limit(rules.TEXT_CANDIDATES)
    )
    best = None
    for other_id, other_text in earlier:
        similarity = rules.text_similarity(text, rules.normalised_text(other_text))
        if rules.is_text_reused(similarity) and (best is None or similarity > best[1]):
            best = (other_id, similarity)
    if best is not None:
        yield (
            FlagCode.TEXT_REUSED,
            {"other_visit_id": best[0], "similarity": round(best[1], 3)},
        )


def _photo_flags(visit: Visit) -> Iterator[Found]:
    """Each photo: a near-identical photo on another record (the hash index), and its age."""
    photos = db.session.scalars(
        sa.select(VisitPhoto).where(VisitPhoto.visit_id == visit.id).order_by(VisitPhoto.position)
    ).all()
    if not photos:
        return
    own = set(db.session.scalars(sa.select(Visit.id).where(_same_record(visit))))
    for photo in photos:
        for other, bits in visit_photos.similar_photos(
            photo.phash, rules.PHOTO_REUSE_BITS, exclude_visit_id=visit.id
        ):
            if other.visit_id in own:
                continue  # an amendment and the visit it corrects share their photos
            yield (
                FlagCode.PHOTO_REUSED,
                {
                    "photo_id": photo.id,
                    "other_photo_id": other.id,
                    "other_visit_id": other.visit_id,
                    "bits": bits,
                },
            )
            break
    for photo in photos:
        if photo.taken_at is not None and rules.is_old_photo(photo.taken_at, visit.visited_at):
            yield (
                FlagCode.OLD_PHOTO,
                {
                    "photo_id": photo.id,
                    "taken_at": photo.taken_at.isoformat(),
                    "days": rules.photo_age_days(photo.taken_at, visit.visited_at),
                },
            )
