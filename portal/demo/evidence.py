"""Demo visit evidence: where the borrowers are, and a few planted fakes of every kind.

Each demo borrower's business lies a little way from the branch (within a couple of
kilometres: a township and its villages), and the ordinary demo visits record a
position there (portal/demo/visits.py), so each borrower's site is established by
the real rules and most visits raise no flag.

Then, in each branch, over the last few days, visits that should not be trusted are
signed through the real ``sign_visit`` with crafted evidence, so the real rules flag
them (docs/visit-evidence.md): a photo reused from another visit, an old photo, a
copied signature, copied observations, a visit far from the site, one with no
position, one signed in seconds, two visits too far apart for the time between them,
and one signed at night. The branch head has confirmed one of them genuine and asked
about another, so "visits to check" shows every state. Fixed tokens make running
again create nothing new.
"""

import io
import math
import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.calendar import company_tz
from portal.database import utcnow
from portal.evidence import operations as evidence
from portal.evidence.models import BorrowerSite, ReviewAction, VisitFlag, VisitReview
from portal.extensions import db
from portal.visits import operations
from portal.visits.models import Visit, VisitSignature
from portal.visits.operations import VisitEvidence
from portal.visits.photos import prepare

SEED = 7_2026
# Where each branch's township is; its borrowers live within SPREAD degrees of it
# (about 1.6 km north-south, 1.8 km east-west), so no two of them are 5 km apart.
TOWNSHIPS = {"SY01": (33.7213, 118.6952), "SQ02": (33.9491, 118.3302)}
DEFAULT_TOWNSHIP = (33.8, 118.5)
SPREAD = (0.0145, 0.0195)
METRES_PER_DEGREE = 111_195

FAR_NOTE = "借款人在镇上集市摆摊，在集市见的面。"
CONFIRM_NOTE = "已电话联系借款人核实，当天确在集市见面，走访属实。"
ASK_NOTE = "这次走访没有定位，请说明当时的情况。"
COPIED_TEXT = "羊圈新添了十二只湖羊，饲草储备够用到开春，借款人打算年后再扩建一间圈舍。"


# --- Where the borrowers are -------------------------------------------------------------


def home_of(borrower: Borrower) -> tuple[float, float]:
    """The position of the borrower's business (stable for the demo borrower)."""
    rng = random.Random(SEED * 7919 + borrower.id)
    centre = TOWNSHIPS.get(borrower.branch.code, DEFAULT_TOWNSHIP)
    return (
        round(centre[0] + rng.uniform(-SPREAD[0], SPREAD[0]) / 2, 6),
        round(centre[1] + rng.uniform(-SPREAD[1], SPREAD[1]) / 2, 6),
    )


def _moved(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = point
    return (
        round(lat + north_m / METRES_PER_DEGREE, 6),
        round(lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))), 6),
    )


def fix_at_home(rng: random.Random, borrower: Borrower) -> dict:
    """A good GPS fix in the borrower's yard: a few tens of metres off, accurate to 8-35 m."""
    position = _moved(home_of(borrower), rng.uniform(-40, 40), rng.uniform(-40, 40))
    return {"latitude": position[0], "longitude": position[1], "accuracy_m": rng.randint(8, 35)}


# --- Pictures drawn for the demo -----------------------------------------------------------


def farm_photo(seed: int, size: tuple[int, int] = (1280, 960)) -> Image.Image:
    """A drawn farmyard (sky, field, a shed and some pigs), different for every seed."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (135 + rng.randint(0, 60), 180 + rng.randint(0, 40), 230))
    pen = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.35, 0.55))
    pen.rectangle([0, horizon, width, height], fill=(90 + rng.randint(0, 50), 140, 60))
    for _ in range(rng.randint(2, 4)):
        left = rng.randint(0, width - 300)
        top = horizon - rng.randint(120, 260)
        shed = (150 + rng.randint(0, 60), 90 + rng.randint(0, 40), 60)
        pen.rectangle([left, top, left + rng.randint(200, 380), horizon + 40], fill=shed)
        pen.polygon(
            [(left - 20, top), (left + 200, top - 90), (left + 420, top)], fill=(120, 40, 30)
        )
    for _ in range(rng.randint(4, 9)):
        x, y = rng.randint(40, width - 160), rng.randint(horizon + 60, height - 80)
        pen.ellipse([x, y, x + rng.randint(90, 150), y + rng.randint(50, 80)], fill=(240, 190, 180))
    return image


def jpeg_of(image: Image.Image, quality: int = 90, taken: datetime | None = None) -> bytes:
    """``image`` as a camera would send it; ``taken`` written as the EXIF capture time."""
    exif = Image.Exif()
    if taken is not None:
        local = taken.astimezone(company_tz())
        exif[0x8769] = {0x9003: local.strftime("%Y:%m:%d %H:%M:%S")}
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def reused(image: Image.Image) -> Image.Image:
    """The same picture sent again: a per cent cropped off each edge, and shrunk."""
    width, height = image.size
    cropped = image.crop(
        (width // 100, height // 100, width - width // 100, height - height // 100)
    )
    return cropped.resize((cropped.width * 3 // 4, cropped.height * 3 // 4))


# --- The planted fakes ---------------------------------------------------------------------


def _token(branch_code: str, name: str) -> str:
    return f"demo-evidence-{branch_code}-{name}"


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), company_tz())


class _Planter:
    """Signs the fakes of one branch, each once."""

    def __init__(self, code: str, borrowers: list[Borrower], today: date, sign):
        self.code = code
        self.borrowers = borrowers
        self.today = today
        self.sign = sign  # (borrower, visited_at, answers rng) → the signing function of visits.py
        self.seed = SEED + 13 * sum(map(ord, code))  # the branch's own pictures
        self.rng = random.Random(self.seed)

    def visit(self, name: str, borrower: Borrower, visited_at: datetime, minutes: int = 35, **kw):
        token = _token(self.code, name)
        existing = operations.visit_by_token(token)
        if existing is not None:
            return existing
        signed_at = min(visited_at + timedelta(minutes=minutes), utcnow())
        evidence = VisitEvidence(
            opened_at=visited_at,
            signed_at_device=signed_at,
            location_status="fix" if "latitude" in kw.get("place", {}) else "denied",
        )
        evidence = replace(evidence, **kw.pop("evidence", {}))
        return self.sign(borrower, visited_at, signed_at, token, evidence, **kw)


def seed_evidence(borrowers: list[Borrower], today: date | None, sign) -> int:
    """Plant the fakes in each branch of ``borrowers``; return how many visits were signed.

    ``sign(borrower, visited_at, signed_at, token, evidence, place=, observations=,
    signature=)`` signs one visit with the demo's answers (portal/demo/visits.py).
    """
    today = today or utcnow().astimezone(company_tz()).date()
    before = db.session.scalar(sa.select(sa.func.count(Visit.id)))
    by_branch: dict[str, list[Borrower]] = {}
    for borrower in borrowers:
        if operations.active_loan(borrower) is not None:
            by_branch.setdefault(borrower.branch.code, []).append(borrower)
    for code, branch_borrowers in sorted(by_branch.items()):
        if len(branch_borrowers) >= 4:
            _plant(_Planter(code, branch_borrowers, today, sign))
    db.session.flush()
    return db.session.scalar(sa.select(sa.func.count(Visit.id))) - before


def _plant(p: _Planter) -> None:
    b = p.borrowers
    pick = lambda i: b[i % len(b)]  # noqa: E731
    days = [p.today - timedelta(days=n) for n in (3, 2, 1)]
    rng = p.rng

    # A genuine visit with a photo, its own signature and a sentence of the officer's own;
    # later visits copy each of them.
    original_photo = farm_photo(p.seed)
    first = p.visit(
        "original",
        pick(0),
        _at(days[0], 9, 30),
        place=fix_at_home(rng, pick(0)),
        observations=COPIED_TEXT,
        evidence={"photos": (prepare(jpeg_of(original_photo), "business"),)},
    )
    copied = db.session.get(VisitSignature, first.id).png

    # photo_reused: the first visit's photo, cropped and sent again for another borrower.
    p.visit(
        "photo-reused",
        pick(1),
        _at(days[1], 10, 0),
        place=fix_at_home(rng, pick(1)),
        evidence={"photos": (prepare(jpeg_of(reused(original_photo), 80), "stock"),)},
    )
    # old_photo: a photo the camera took two and a half months earlier.
    taken = _at(days[1] - timedelta(days=75), 15, 20)
    p.visit(
        "old-photo",
        pick(2),
        _at(days[1], 11, 15),
        place=fix_at_home(rng, pick(2)),
        evidence={"photos": (prepare(jpeg_of(farm_photo(p.seed + 1), taken=taken), "collateral"),)},
    )
    # signature_reused: the first visit's signature image, byte for byte.
    p.visit(
        "signature-reused",
        pick(3),
        _at(days[1], 14, 30),
        place=fix_at_home(rng, pick(3)),
        signature=copied,
    )
    # text_reused: the first visit's observations, copied for the officer's next borrower.
    officer_mate = next(
        (x for x in b[1:] if x.officer_id == pick(0).officer_id and x.id != pick(0).id), pick(4)
    )
    p.visit(
        "text-reused",
        officer_mate,
        _at(days[1], 16, 0),
        place=fix_at_home(rng, officer_mate),
        observations=COPIED_TEXT.replace("十二", "十三"),
    )
    # far_from_site: signed 6 km away, with the officer's note; the head confirmed it.
    with_site = _with_site(b) or pick(5)
    far = _moved(home_of(with_site), 4200, -4300)
    far_visit = p.visit(
        "far-from-site",
        with_site,
        _at(days[2], 9, 45),
        place={"latitude": far[0], "longitude": far[1], "accuracy_m": 15},
        evidence={"place_note": FAR_NOTE},
    )
    _review(far_visit, ReviewAction.CONFIRMED, CONFIRM_NOTE)
    # no_fix: the location permission denied; the head asked the officer why.
    no_fix = p.visit("no-fix", pick(6), _at(days[2], 10, 30), place={})
    _review(no_fix, ReviewAction.ASKED, ASK_NOTE)
    # quick_signing: signed 42 seconds after the form was opened.
    quick_at = _at(days[2], 11, 10)
    p.visit(
        "quick-signing",
        pick(7),
        quick_at,
        minutes=1,
        place=fix_at_home(rng, pick(7)),
        evidence={"opened_at": quick_at, "signed_at_device": quick_at + timedelta(seconds=42)},
    )
    # impossible_travel: the same officer 25 minutes later, 31 km away (at home in town).
    officer_first = pick(8)
    mate = next(
        (x for x in b if x.officer_id == officer_first.officer_id and x.id != officer_first.id),
        officer_first,
    )
    p.visit(
        "travel-from", officer_first, _at(days[2], 14, 0), place=fix_at_home(rng, officer_first)
    )
    town = _moved(home_of(officer_first), 22_000, 22_000)
    p.visit(
        "travel-to",
        mate,
        _at(days[2], 14, 25),
        place={"latitude": town[0], "longitude": town[1], "accuracy_m": 20},
    )
    # outside_hours: filled in and signed at night.
    night = _at(days[0], 21, 40)
    p.visit(
        "outside-hours",
        pick(9),
        night,
        minutes=28,
        place=fix_at_home(rng, pick(9)),
    )


def _with_site(borrowers: list[Borrower]) -> Borrower | None:
    """A borrower whose site the earlier visits established already."""
    ids = set(
        db.session.scalars(
            sa.select(BorrowerSite.borrower_id).where(
                BorrowerSite.borrower_id.in_([b.id for b in borrowers])
            )
        )
    )
    return next((b for b in borrowers[5:] + borrowers[:5] if b.id in ids), None)


def _review(visit: Visit, action: ReviewAction, note: str) -> None:
    """The branch head's check of a flagged visit, once."""
    done = db.session.scalar(sa.select(VisitReview.id).where(VisitReview.visit_id == visit.id))
    flagged = db.session.scalar(sa.select(VisitFlag.id).where(VisitFlag.visit_id == visit.id))
    if done is not None or flagged is None:
        return
    head = db.session.scalar(
        sa.select(User)
        .where(User.role == Role.HEAD, User.branch_id == visit.branch_id, User.active)
        .order_by(User.id)
        .limit(1)
    )
    if head is not None:
        evidence.review_visit(visit, action, note, head)
