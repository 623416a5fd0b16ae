"""The rules of visit evidence: when a signed visit is flagged for the branch head to check.

Pure module: no database, no request (``describe`` needs only the reader's language).
The table below, ``FLAG_RULES``, and the numbers above it are the single source of the
rules: portal/evidence/flags.py applies them when a visit is signed,
docs/visit-evidence.md restates them row for row, and tests/evidence/test_flags.py
raises each flag with one visit and misses it with another.

A flag is a reason to look, not a refusal: a borrower met at the market is normal, and
the officer says why in the place note. Flags are facts computed once, when the visit is
signed, inside the same transaction; the visit itself stays frozen. Changing a number
here changes the visits signed afterwards, never the flags already raised.

Amendments are flagged like any visit, except where a rule says otherwise: an amendment
is never flagged for reusing the text, photos or signature of the visit it corrects (or
of that visit's other amendments).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from difflib import SequenceMatcher
from enum import StrEnum

from flask_babel import (
    LazyString,
    format_decimal,
    format_percent,
    format_time,
    gettext,
    ngettext,
)
from flask_babel import lazy_gettext as _l

from portal.core.i18n import TIME_PATTERN, date_text


class FlagCode(StrEnum):
    """Why a visit is flagged. Declared most telling first: the order a visit lists them."""

    SIGNATURE_REUSED = "signature_reused"
    PHOTO_REUSED = "photo_reused"
    TEXT_REUSED = "text_reused"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    FAR_FROM_SITE = "far_from_site"
    NO_FIX = "no_fix"
    QUICK_SIGNING = "quick_signing"
    OLD_PHOTO = "old_photo"
    OUTSIDE_HOURS = "outside_hours"


# --- Place ------------------------------------------------------------------------------
# Distances are great-circle distances on a sphere of EARTH_RADIUS_M: over a county the
# error against the ellipsoid is a few metres in a kilometre, far below a tablet's fix.
EARTH_RADIUS_M = 6_371_000

# The borrower's site. A fix is *good* when its accuracy is at most SITE_FIX_ACCURACY_M:
# a tablet's GPS outdoors says 5-30 m, one positioned by mobile cells or Wi-Fi says
# 100-2,000 m, which cannot tell one farm from the next. The site is established by the
# first two good fixes of the borrower's visits (originals, not amendments) that lie
# within SITE_FIXES_AGREE_M of each other: a homestead with its sheds and plots spans a
# few hundred metres, so two fixes that close are the same place, and a single fix might
# be the market. The site is the midpoint of that pair. Only the borrower's first
# SITE_FIXES_LOOKED_AT good fixes are compared (a year of monthly visits): a borrower
# whose fixes never agree is met somewhere else each time, and the officer pins the site.
# A site pinned by the officer (from a visit's fix or the tablet's position, itself a
# good fix) takes the place of the visits' site once the branch head confirms it.
SITE_FIX_ACCURACY_M = 100
SITE_FIXES_AGREE_M = 300
SITE_FIXES_LOOKED_AT = 12

# far_from_site: the visit's fix lies more than FAR_FROM_SITE_M from the site beyond the
# fix's own accuracy (distance - accuracy > 1,000 m; an unknown accuracy counts as 0).
# A village here spans well under a kilometre, so a kilometre past the fix's own doubt
# is another village, the township market or the branch office. Visits signed before
# the site exists are not measured.
FAR_FROM_SITE_M = 1_000

# no_fix: the visit has no position, and the tablet said why: the permission was denied,
# the position was unavailable, locating timed out, or the officer never pressed the
# button ("not_asked"). A tablet that has no location at all ("unsupported") could not
# give one, and a record whose form reported nothing (signed before the evidence
# existed, or built by a script) is not held against anyone.
NO_FIX_STATUSES = frozenset({"denied", "unavailable", "timeout", "not_asked"})

# --- Time -------------------------------------------------------------------------------
# quick_signing: the borrower signed fewer than QUICK_SIGNING_S seconds after the form
# was opened. Reading a dozen questions with the borrower, looking at the business and
# writing the observations takes several minutes even for an uneventful visit; three
# minutes is a floor, not a typical time. The time is measured on each clock that saw
# both ends (the tablet: opened and signed; the server: form served and record
# received) and the shorter counts: a clock can only make a real visit look longer
# (the server's includes the way there and back), never shorter. Amendments are not
# measured: the form comes filled in from the visit it corrects.
QUICK_SIGNING_S = 180

# impossible_travel: two original visits of one officer (amendments keep their
# original's visit time, so their time and position do not go together) whose fixes
# are more than TRAVEL_MIN_DISTANCE_M apart and whose visit times are so close that the
# officer would have moved faster than TRAVEL_SPEED_KMH in a straight line. The
# fixes' accuracies are taken off the distance first (the benefit of the doubt); the
# figures shown are the plain distance and speed. Roads wind (a straight line is
# roughly two thirds of the road) and a visit itself takes time, so 60 km/h in a
# straight line is out of reach on a motorbike between villages. Below 5 km two
# neighbouring villages' fixes are not worth a question. Only visits within
# TRAVEL_WINDOW of each other are compared: three hours at 60 km/h is 180 km, farther
# than any two borrowers of a branch lie apart.
TRAVEL_SPEED_KMH = 60
TRAVEL_MIN_DISTANCE_M = 5_000
TRAVEL_WINDOW = timedelta(hours=3)

# outside_hours: the borrower signed before WORKDAY_START or at or after WORKDAY_END,
# company time (portal/core/calendar.py). Farmers start early and summer evenings are
# long, so the day is wide; a signature at night is a form filled at home. The signing
# time is the tablet's when it recorded one that is not later than the server received
# the record (a draft sent hours later was still signed in the field), else the time
# the record counts as signed.
WORKDAY_START = time(7, 0)
WORKDAY_END = time(20, 0)
# How far ahead of the server a tablet's clock may run (as for the visit time).
CLOCK_TOLERANCE = timedelta(minutes=5)

# --- Reuse ------------------------------------------------------------------------------
# photo_reused: a photo whose perceptual hash (64 bits, portal/visits/photos.py) differs
# in at most PHOTO_REUSE_BITS bits from a photo on another visit, of the same borrower
# or another (not the visit an amendment corrects). Measured on 30 made-up camera
# scenes (docs/visits.md): the same picture re-encoded or resized stays at 0-2 bits;
# with 3 % cut off each side, median 6, 90 % within 10, at most 12; unrelated photos
# lie 24-38 bits apart (median 32). 10 catches nine in ten slightly cropped copies and
# stays far from other scenes; the index probes the same band values for 8 to 11 bits,
# so it costs no more than 8. A photo taken again of the same scene from the same spot,
# framed a little differently, can come as close: the head sees the two side by side.
# The nearest such photo is named. (The index answers up to 15 bits,
# photos.MAX_SEARCH_BITS.)
PHOTO_REUSE_BITS = 10

# old_photo: the photo's capture time (kept from its EXIF data) is more than
# OLD_PHOTO_DAYS before the visit time. A photo from an earlier month cannot show this
# month's visit; a tablet's clock or a photo of the collateral taken the week before
# are not worth a question.
OLD_PHOTO_DAYS = 30

# text_reused: the officer's observations, normalised (full-width forms folded, case,
# spaces and punctuation dropped), have at least TEXT_MIN_CHARS characters and are at
# least TEXT_SIMILARITY alike (difflib's ratio) to the observations of an earlier visit
# by the same officer in the TEXT_WINDOW before this visit's time. Short boilerplate
# ("经营正常", "正常") is what every officer writes and proves nothing; twenty Chinese
# characters are a sentence of the officer's own, and a sentence copied whole with a
# word changed is still 90 % alike. Only the officer's newest TEXT_CANDIDATES visits
# of that window are read (more than an officer's three months).
TEXT_MIN_CHARS = 20
TEXT_SIMILARITY = 0.9
TEXT_WINDOW = timedelta(days=90)
TEXT_CANDIDATES = 500

# signature_reused: the stored signature image is byte for byte the same as an earlier
# visit's (its SHA-256, an indexed column). Two signatures drawn by hand never give the
# same image, so equality means a copied file. The first visit that carried it is named.
# (The benchmark's generated visits all share one signature image; real ones never do.)


@dataclass(frozen=True)
class FlagRule:
    """A row of the table: a flag's name for people and the figures its reason is told with."""

    label: LazyString
    detail: tuple[str, ...]  # the keys of VisitFlag.detail


# The table: every flag, in the order a visit lists them (FlagCode's order).
FLAG_RULES: dict[FlagCode, FlagRule] = {
    FlagCode.SIGNATURE_REUSED: FlagRule(_l("Signature reused"), ("other_visit_id",)),
    FlagCode.PHOTO_REUSED: FlagRule(
        _l("Photo reused"), ("photo_id", "other_photo_id", "other_visit_id", "bits")
    ),
    FlagCode.TEXT_REUSED: FlagRule(_l("Observations reused"), ("other_visit_id", "similarity")),
    FlagCode.IMPOSSIBLE_TRAVEL: FlagRule(
        _l("Impossible travel"), ("other_visit_id", "distance_m", "minutes", "speed_kmh")
    ),
    FlagCode.FAR_FROM_SITE: FlagRule(
        _l("Far from the borrower's site"), ("distance_m", "accuracy_m", "site")
    ),
    FlagCode.NO_FIX: FlagRule(_l("No position"), ("location_status",)),
    FlagCode.QUICK_SIGNING: FlagRule(_l("Signed quickly"), ("seconds",)),
    FlagCode.OLD_PHOTO: FlagRule(_l("Old photo"), ("photo_id", "taken_at", "days")),
    FlagCode.OUTSIDE_HOURS: FlagRule(_l("Outside working hours"), ("local_time",)),
}

_ORDER = {code: i for i, code in enumerate(FLAG_RULES)}
# What normalising drops: everything but letters and digits (spaces, punctuation, "_").
_NOT_LETTERS = re.compile(r"[\W_]+")

# Why the tablet gave no position, as the reason says it.
NO_FIX_REASONS: dict[str, LazyString] = {
    "denied": _l("the location permission was denied"),
    "unavailable": _l("the tablet could not find its position"),
    "timeout": _l("locating took too long"),
    "not_asked": _l("the officer did not record the position"),
}

SITE_LABELS: dict[str, LazyString] = {
    "visits": _l("established by the first visits"),
    "pinned": _l("pinned by the officer, confirmed by the head"),
}


# --- The rules as functions (flags.py gathers their inputs) ------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two positions in degrees (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_good_fix(accuracy_m: int | None) -> bool:
    """Whether a fix with this accuracy may establish (or pin) a borrower's site."""
    return accuracy_m is not None and accuracy_m <= SITE_FIX_ACCURACY_M


def is_far_from_site(distance: float, accuracy_m: int | None) -> bool:
    """far_from_site: more than FAR_FROM_SITE_M beyond the fix's own accuracy."""
    return distance - (accuracy_m or 0) > FAR_FROM_SITE_M


def is_quick(seconds: float) -> bool:
    """quick_signing: signed fewer than QUICK_SIGNING_S seconds after opening."""
    return 0 <= seconds < QUICK_SIGNING_S


def is_impossible_travel(distance: float, accuracies: int, seconds: float) -> bool:
    """impossible_travel: beyond the minimum distance and too fast, accuracies taken off.

    ``accuracies`` is the sum of both fixes' accuracies; visit times are kept to the
    minute, so two visits in the same minute count as one minute apart.
    """
    certain = distance - accuracies
    if certain <= TRAVEL_MIN_DISTANCE_M:
        return False
    return speed_kmh(certain, seconds) > TRAVEL_SPEED_KMH


def speed_kmh(distance: float, seconds: float) -> float:
    """Straight-line speed in km/h; under a minute counts as a minute."""
    return distance / 1000 / (max(seconds, 60) / 3600)


def is_outside_hours(local: time) -> bool:
    """outside_hours: a company-time clock reading before the day starts or after it ends."""
    return not WORKDAY_START <= local < WORKDAY_END


def photo_age_days(taken_at: datetime, visited_at: datetime) -> int:
    """Whole days from a photo's capture to the visit."""
    return (visited_at - taken_at) // timedelta(days=1)


def is_old_photo(taken_at: datetime, visited_at: datetime) -> bool:
    """old_photo: taken more than OLD_PHOTO_DAYS before the visit."""
    return visited_at - taken_at > timedelta(days=OLD_PHOTO_DAYS)


def normalised_text(text: str | None) -> str:
    """Observations as compared: NFKC (full-width folded), lower case, letters and digits only."""
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def text_similarity(a: str, b: str) -> float | None:
    """How alike two normalised texts are (0-1), or None when not worth comparing.

    None when either is shorter than TEXT_MIN_CHARS, or when their lengths alone make
    TEXT_SIMILARITY unreachable (the quick bounds spare the full comparison).
    """
    if min(len(a), len(b)) < TEXT_MIN_CHARS:
        return None
    if 2 * min(len(a), len(b)) / (len(a) + len(b)) < TEXT_SIMILARITY:
        return None  # the lengths alone are too far apart
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < TEXT_SIMILARITY or matcher.quick_ratio() < TEXT_SIMILARITY:
        return None
    return matcher.ratio()


def is_text_reused(similarity: float | None) -> bool:
    return similarity is not None and similarity >= TEXT_SIMILARITY


# --- The reason in words -------------------------------------------------------------------


def flag_label(code: str) -> str:
    """A flag's short name in the reader's language ("Photo reused")."""
    return str(FLAG_RULES[FlagCode(code)].label)


def flag_order(code: str) -> int:
    """Sort key: the table's order, most telling first."""
    return _ORDER[FlagCode(code)]


def distance_text(metres: float) -> str:
    """A distance for people: "850 m", "1.2 km", "23 km" in the reader's number format."""
    if metres < 1000:
        return gettext("%(num)s m", num=format_decimal(round(metres)))
    kilometres = metres / 1000
    shown = round(kilometres, 1) if kilometres < 10 else round(kilometres)
    return gettext("%(num)s km", num=format_decimal(shown))


def _visit_ref(detail: Mapping) -> str:
    return gettext("visit no. %(id)s", id=detail["other_visit_id"])


def describe(flag) -> str:
    """The reason of a flag (anything with ``code`` and ``detail``) in the reader's language."""
    detail = flag.detail or {}
    code = FlagCode(flag.code)
    if code is FlagCode.FAR_FROM_SITE:
        accuracy = detail.get("accuracy_m")
        if accuracy is None:
            return gettext(
                "Signed %(distance)s from the borrower's site (%(site)s); "
                "the accuracy of the position is unknown.",
                distance=distance_text(detail["distance_m"]),
                site=SITE_LABELS.get(detail.get("site"), ""),
            )
        return gettext(
            "Signed %(distance)s from the borrower's site (%(site)s); "
            "the position was accurate to %(accuracy)s.",
            distance=distance_text(detail["distance_m"]),
            site=SITE_LABELS.get(detail.get("site"), ""),
            accuracy=distance_text(accuracy),
        )
    if code is FlagCode.NO_FIX:
        status = detail.get("location_status", "")
        return gettext(
            "No position was recorded: %(reason)s.",
            reason=NO_FIX_REASONS.get(status, status),
        )
    if code is FlagCode.QUICK_SIGNING:
        return ngettext(
            "Signed %(num)d second after the form was opened.",
            "Signed %(num)d seconds after the form was opened.",
            detail["seconds"],
        )
    if code is FlagCode.IMPOSSIBLE_TRAVEL:
        return ngettext(
            "%(distance)s from the officer's %(visit)s, %(num)d minute apart: "
            "%(speed)s km/h in a straight line.",
            "%(distance)s from the officer's %(visit)s, %(num)d minutes apart: "
            "%(speed)s km/h in a straight line.",
            detail["minutes"],
            distance=distance_text(detail["distance_m"]),
            visit=_visit_ref(detail),
            speed=format_decimal(detail["speed_kmh"]),
        )
    if code is FlagCode.OUTSIDE_HOURS:
        return gettext(
            "Signed at %(time)s, outside working hours (%(start)s-%(end)s).",
            time=detail["local_time"],
            start=format_time(WORKDAY_START, TIME_PATTERN),
            end=format_time(WORKDAY_END, TIME_PATTERN),
        )
    if code is FlagCode.PHOTO_REUSED:
        return ngettext(
            "A photo is nearly identical to a photo of %(visit)s "
            "(their fingerprints differ in %(num)d bit).",
            "A photo is nearly identical to a photo of %(visit)s "
            "(their fingerprints differ in %(num)d bits).",
            detail["bits"],
            visit=_visit_ref(detail),
        )
    if code is FlagCode.OLD_PHOTO:
        return ngettext(
            "A photo was taken on %(date)s, %(num)d day before the visit.",
            "A photo was taken on %(date)s, %(num)d days before the visit.",
            detail["days"],
            date=date_text(datetime.fromisoformat(detail["taken_at"])),
        )
    if code is FlagCode.TEXT_REUSED:
        return gettext(
            "The officer's observations are %(percent)s the same as on %(visit)s.",
            percent=format_percent(detail["similarity"]),
            visit=_visit_ref(detail),
        )
    return gettext(
        "The signature image is identical to the one on %(visit)s.", visit=_visit_ref(detail)
    )
