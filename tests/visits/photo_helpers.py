"""Camera-like photos for the photo tests: varied scenes, so perceptual hashes mean something."""

import io
import random
from datetime import datetime, timedelta

from PIL import Image, ImageDraw, TiffImagePlugin

from portal.extensions import db
from portal.visits.operations import VisitEvidence, active_loan, sign_visit
from portal.visits.photos import prepare
from tests.visits.helpers import answers, signature_png

THREE_MP = (2048, 1536)
_tokens = iter(range(10**9))


def scene(seed: int, size: tuple[int, int] = THREE_MP) -> Image.Image:
    """A made-up scene: a background, forty shapes of random colours, and sensor noise.

    The same ``seed`` always gives the same picture."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    pen = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = x0 + rng.randrange(width // 40, width // 2)
        y1 = y0 + rng.randrange(height // 40, height // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("rectangle", "ellipse", "line", "polygon"))
        if shape == "rectangle":
            pen.rectangle([x0, y0, x1, y1], fill=colour)
        elif shape == "ellipse":
            pen.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == "line":
            pen.line([x0, y0, x1, y1], fill=colour, width=rng.randrange(5, 40))
        else:
            points = [(rng.randrange(width), rng.randrange(height)) for _ in range(5)]
            pen.polygon(points, fill=colour)
    # Sensor noise, from the same seed: the scene is the same in every run.
    noise = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    return Image.blend(image, noise, 0.1)


def camera_exif(
    taken: str | None = "2026:11:05 14:30:12",
    offset: str | None = None,
    position: tuple[float, float] | None = (33.720431, 118.681905),
    orientation: int | None = None,
) -> Image.Exif:
    """An EXIF block as a camera writes it: make, capture time, GPS, orientation."""
    exif = Image.Exif()
    exif[0x010F] = "TabletCam"  # Make
    exif[0x0131] = "Camera 1.0"  # Software
    if orientation:
        exif[0x0112] = orientation
    details = {}
    if taken:
        details[0x9003] = taken
    if offset:
        details[0x9011] = offset
    if details:
        exif[0x8769] = details
    if position:
        rational = TiffImagePlugin.IFDRational
        latitude, longitude = position

        def dms(value):
            degrees = int(abs(value))
            minutes = int((abs(value) - degrees) * 60)
            seconds = (abs(value) - degrees - minutes / 60) * 3600
            return (
                rational(degrees, 1),
                rational(minutes, 1),
                rational(round(seconds * 1000), 1000),
            )

        exif[0x8825] = {
            1: "N" if latitude >= 0 else "S",
            2: dms(latitude),
            3: "E" if longitude >= 0 else "W",
            4: dms(longitude),
        }
    return exif


def jpeg(image: Image.Image, quality: int = 92, exif: Image.Exif | None = None, **kwargs) -> bytes:
    output = io.BytesIO()
    if exif is not None:
        kwargs["exif"] = exif
    image.save(output, format="JPEG", quality=quality, **kwargs)
    return output.getvalue()


def camera_photo(seed: int, size: tuple[int, int] = THREE_MP, **exif) -> bytes:
    """A 3-megapixel camera JPEG of scene ``seed`` (about 1.5 MB, as cameras save them) with
    its EXIF block and an ICC profile."""
    return jpeg(
        scene(seed, size), quality=96, exif=camera_exif(**exif), icc_profile=b"fake-icc" * 16
    )


def photo_visit(borrower, officer, visited_at: datetime, seeds=(1,), kinds=None, size=THREE_MP):
    """A signed visit carrying the camera photos of ``seeds``."""
    kinds = kinds or ["business"] * len(seeds)
    prepared = tuple(
        prepare(camera_photo(seed, size), kind) for seed, kind in zip(seeds, kinds, strict=True)
    )
    visit = sign_visit(
        borrower,
        active_loan(borrower),
        officer,
        answers(visited_at),
        signature_png(),
        token=f"photo-token-{next(_tokens):012d}",
        recorded_at=visited_at + timedelta(hours=1),
        evidence=VisitEvidence(photos=prepared),
    )
    db.session.flush()
    return visit
