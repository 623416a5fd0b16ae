"""Visits signed through the real operation with crafted evidence, for the flag and site tests.

Every visit gets a signature of its own (the visit tests' helper draws the same one every
time, which the signature rule rightly calls copied), a position where the test says,
and observations that resemble nothing unless the test says so.
"""

from datetime import date, datetime, time, timedelta
from io import BytesIO
from random import Random

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFilter

from portal.core.calendar import company_tz, local_today
from portal.evidence.models import VisitFlag
from portal.extensions import db
from portal.visits.operations import VisitEvidence, active_loan, sign_visit
from tests.visits.helpers import answers

_tokens = iter(range(10**9))

# A village in Siyang county (泗阳县), and a point about 1 km east of it per KM_EAST.
HOME = (33.7200, 118.6800)
KM_EAST = 1 / (111.32 * 0.8319)  # degrees of longitude per kilometre at 33.72° N


def east_of(place: tuple[float, float], km: float) -> tuple[float, float]:
    """The position ``km`` kilometres east of ``place`` (to 6 decimals, as the form keeps it)."""
    return place[0], round(place[1] + km * KM_EAST, 6)


def drawn_signature(seed: int) -> bytes:
    """A PNG of a few pen strokes, different for every ``seed`` (a hand never draws twice alike)."""
    rng = Random(seed)
    image = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for _ in range(3):
        points = [(rng.randint(20, 680), rng.randint(20, 280)) for _ in range(5)]
        pen.line(points, fill=(0, 0, 0, 255), width=5)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def camera_photo(seed: int, taken_at: datetime | None = None, crop: float = 0.0) -> bytes:
    """A JPEG like a tablet's camera gives (1600 x 1200), different for every ``seed``.

    ``taken_at`` goes into its EXIF (DateTimeOriginal, company time); ``crop`` cuts that
    share off every side, as someone reusing a photo might.
    """
    rng = Random(seed)
    image = Image.new("RGB", (1600, 1200), tuple(rng.randint(60, 200) for _ in range(3)))
    pen = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randint(-200, 1600), rng.randint(-200, 1200)
        size = rng.randint(80, 600)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = pen.ellipse if rng.random() < 0.5 else pen.rectangle
        shape([x, y, x + size, y + rng.randint(80, 600)], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    if crop:
        dx, dy = round(image.width * crop), round(image.height * crop)
        image = image.crop((dx, dy, image.width - dx, image.height - dy))
    exif = Image.Exif()
    if taken_at is not None:
        stamp = taken_at.astimezone(company_tz()).strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(0x8769)[0x9003] = stamp
    out = BytesIO()
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` company time on ``day``, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), company_tz())


def yesterday_at(hour: int, minute: int = 0) -> datetime:
    return local(local_today() - timedelta(days=1), hour, minute)


def sign(
    borrower,
    officer,
    visited_at: datetime,
    *,
    at: tuple[float, float] | None = HOME,
    accuracy: int | None = 15,
    signed_after: timedelta = timedelta(minutes=20),
    signature: bytes | None = None,
    observations: str | None = None,
    amends=None,
    **evidence,
):
    """A visit signed ``signed_after`` its time, at position ``at`` (None: no fix).

    ``evidence`` goes to VisitEvidence; the location status is "fix" with a position and
    must be given without one.
    """
    number = next(_tokens)
    latitude, longitude = at if at else (None, None)
    evidence.setdefault("location_status", "fix" if at else None)
    loan = amends.loan if amends else active_loan(borrower)
    visit = sign_visit(
        borrower,
        loan,
        officer,
        answers(
            visited_at,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy if at else None,
            officer_observations=observations or f"第{number}次：圈舍{number}号。",
        ),
        signature or drawn_signature(number),
        token=f"evidence-token-{number:012d}",
        amends=amends,
        recorded_at=visited_at + signed_after,
        evidence=VisitEvidence(**evidence),
    )
    db.session.flush()
    return visit


def flags_of(visit) -> dict[str, dict]:
    """The visit's flags: {code: detail} (the last of a code when a photo raised several)."""
    rows = db.session.scalars(
        sa.select(VisitFlag).where(VisitFlag.visit_id == visit.id).order_by(VisitFlag.id)
    )
    return {row.code: row.detail for row in rows}
