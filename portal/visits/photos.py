"""The visit's photos: decoded, re-encoded and stored with the signed record.

An officer attaches up to six photos to a visit (the business, the stock or livestock,
the collateral, the guarantor), online or through the field kit. Each upload is
decoded completely here (``prepare``): a file that does not decode to the last pixel,
is not a JPEG, PNG or WebP, or is too large is refused with a message in the user's
language. What is kept:

- the photo turned upright (EXIF orientation), at most ``FULL_SIDE`` pixels on its
  longest side, as a new JPEG, and a thumbnail of at most ``THUMB_SIDE``; neither
  carries any metadata (no EXIF, no ICC profile, no comment);
- two facts read from the upload's EXIF before it is dropped: when the photo was taken
  (DateTimeOriginal, read in its own offset when the camera wrote one, else as the
  company's local time) and where (the GPS position);
- the perceptual hash (pHash, 64 bits, ImageHash) of the upright, resized picture, so
  a photo reused from an earlier visit is found even re-encoded, resized or slightly
  cropped (``similar_photos``).

The signed record (portal/visits/signing.py) signs each photo as its kind and
``sha256``, the digest of both stored JPEGs (``photo_digest``): changing a byte of the
photo or of its thumbnail makes the record fail verification.

``similar_photos`` answers from an index, never by reading every photo: the 64-bit
hash is split into ``BANDS`` interleaved 16-bit bands, each an indexed column. Two
hashes at most ``max_bits`` apart agree within ``r = (max_bits + 1) // BANDS`` bits
(rounded up, less one) on at least one band (pigeonhole); the search asks each band's
index for the values within ``r`` bits of the photo's own (1 + 16 + … values per
band), then counts the bits of the few candidates in Python.
"""

import base64
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations

import imagehash
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, TiffImagePlugin
from sqlalchemy.orm import undefer

from portal.core.actions import Refused
from portal.core.calendar import company_tz
from portal.core.images import ImageRefusedError, ImageTooLargeError, decode_upload
from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.visits.models import ERASING_PHOTOS, PHOTO_KINDS, ErasedVisitPhoto, VisitPhoto

MAX_PHOTOS = 6

# An upload: the formats a tablet's camera gives, its size in bytes and in pixels (a
# 3-megapixel camera photo is 1-3 MB; a "decompression bomb" is a small file that
# claims a huge picture).
FORMATS = ("JPEG", "PNG", "WEBP")
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_UPLOAD_SIDE = 12_000
MAX_UPLOAD_PIXELS = 50_000_000
# What is stored: the photo and its thumbnail, as JPEG.
FULL_SIDE = 1600
FULL_QUALITY = 82
THUMB_SIDE = 320
THUMB_QUALITY = 75

# The request limits of the forms that carry photos (portal/visits/views.py): six
# uploads at their largest plus the rest of the form, and a form field of text big
# enough for a photo sent again as a data URL after the form was refused.
MAX_FORM_BYTES = MAX_PHOTOS * MAX_UPLOAD_BYTES + 4 * 1024 * 1024
MAX_FIELD_BYTES = 4 * 1024 * 1024

# The perceptual-hash index: 4 bands of 16 bits, bit i of the hash in band i % 4.
BANDS = 4
BAND_BITS = 64 // BANDS
# The largest distance the index answers completely (band radius 3: 697 values a band).
MAX_SEARCH_BITS = 15

UNREADABLE = _l(
    "This file is not a complete JPEG, PNG or WebP photo. Take the photo again and attach it once more."
)
UNKNOWN_KIND = _l("Choose what the photo shows.")

# EXIF tags read before the metadata is dropped.
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132


def too_many():
    return _l("Attach at most %(max)d photos to a visit.", max=MAX_PHOTOS)


class PhotoRefused(Refused):
    """A photo the server will not store: the message says why and what to do."""


@dataclass(frozen=True)
class PreparedPhoto:
    """One photo as the server re-encoded it, ready to store with a visit."""

    kind: str
    jpeg: bytes
    sha256: str  # photo_digest(jpeg, thumb_jpeg): what the record signs
    thumb_jpeg: bytes = b""
    width: int = 0
    height: int = 0
    taken_at: datetime | None = None  # UTC, from the upload's EXIF
    latitude: float | None = None
    longitude: float | None = None
    phash: str = ""  # 16 hex digits (64 bits)


def photo_digest(jpeg: bytes, thumb_jpeg: bytes) -> str:
    """SHA-256 (hex) of a stored photo: the digests of the photo and of its thumbnail."""
    inner = hashlib.sha256(jpeg).digest() + hashlib.sha256(thumb_jpeg).digest()
    return hashlib.sha256(inner).hexdigest()


# --- Preparing an upload ------------------------------------------------------------------


def prepare_many(uploads: list[tuple[bytes, str, str | None]]) -> list:
    """``prepare`` for several (data, kind, field) uploads, side by side on the machine's cores.

    Returns, in order, a PreparedPhoto or the PhotoRefused of each upload. Pillow lets
    other threads run while it decodes, resizes and encodes.
    """
    zone = company_tz()

    def one(upload):
        data, kind, field = upload
        try:
            return prepare(data, kind, field, zone=zone)
        except PhotoRefused as refusal:
            return refusal

    if len(uploads) < 2:
        return [one(upload) for upload in uploads]
    with ThreadPoolExecutor(max_workers=min(len(uploads), os.cpu_count() or 1, 4)) as pool:
        return list(pool.map(one, uploads))


def prepare(data: bytes, kind: str, field: str | None = None, zone=None) -> PreparedPhoto:
    """Decode ``data`` completely and make the photo that is stored, or PhotoRefused.

    ``field`` names the form field a refusal is about; ``zone`` is the company's time
    zone (read from the calendar when not given), for a capture time without offset.
    """
    if kind not in PHOTO_KINDS:
        raise PhotoRefused(UNKNOWN_KIND, field=field)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRefused(
            _l(
                "This photo is larger than %(mb)d MB. Take it again at a smaller size.",
                mb=MAX_UPLOAD_BYTES // 2**20,
            ),
            field=field,
        )
    try:
        upload = decode_upload(
            data,
            FORMATS,
            MAX_UPLOAD_SIDE,
            max_pixels=MAX_UPLOAD_PIXELS,
            reduce_to=FULL_SIDE,
        )
        taken_at, latitude, longitude = _facts(upload, zone or company_tz())
        picture = _upright_rgb(upload)
    except ImageTooLargeError:
        raise PhotoRefused(
            _l(
                "This photo has more than %(mp)d megapixels. Take it again at a smaller size.",
                mp=MAX_UPLOAD_PIXELS // 10**6,
            ),
            field=field,
        ) from None
    except (ImageRefusedError, OSError, ValueError, SyntaxError):
        raise PhotoRefused(UNREADABLE, field=field) from None
    picture = _fit(picture, FULL_SIDE)
    thumb = _fit(picture, THUMB_SIDE)
    jpeg = _jpeg(picture, FULL_QUALITY)
    thumb_jpeg = _jpeg(thumb, THUMB_QUALITY)
    return PreparedPhoto(
        kind=kind,
        jpeg=jpeg,
        sha256=photo_digest(jpeg, thumb_jpeg),
        thumb_jpeg=thumb_jpeg,
        width=picture.width,
        height=picture.height,
        taken_at=taken_at,
        latitude=latitude,
        longitude=longitude,
        # From the thumbnail: pHash looks at a 32x32 grey copy, and making that from
        # 320 pixels rather than 1600 is six times faster for the same bits.
        phash=str(imagehash.phash(thumb)),
    )


def _upright_rgb(image: Image.Image) -> Image.Image:
    """The picture as the camera held it, in RGB; transparency on white."""
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _fit(image: Image.Image, side: int) -> Image.Image:
    """``image`` with its longest side at most ``side`` pixels."""
    if max(image.size) <= side:
        return image
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: a large step (the thumbnail's) first averages whole blocks of pixels.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    # No exif=, icc_profile= or comment=: Pillow writes none of the upload's metadata.
    # (optimize=True would save about 5% of the bytes for twice the encoding time.)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=quality)
    return output.getvalue()


def _facts(image: Image.Image, zone) -> tuple[datetime | None, float | None, float | None]:
    """When and where the upload says the photo was taken (EXIF), before it is dropped."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # a broken EXIF block is no fact, not a broken photo
        return None, None, None
    taken = details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    return (
        _taken_at(taken, details.get(_OFFSET_TIME_ORIGINAL), zone),
        *_position(gps),
    )


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _taken_at(value, offset, zone) -> datetime | None:
    """EXIF "2026:11:05 14:30:12" as UTC: in its own offset ("+08:00") when the camera
    wrote one, else read as the company's local time (a tablet set to local time)."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1990 <= moment.year <= 2100:
        return None
    local = moment.replace(tzinfo=_offset(_text(offset)) or zone)
    return local.astimezone(UTC)


def _offset(text: str | None):
    if not text:
        return None
    try:
        return datetime.strptime(text, "%z").tzinfo
    except ValueError:
        return None


def _degrees(value) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return degrees + minutes / 60 + seconds / 3600


def _position(gps) -> tuple[float | None, float | None]:
    """The EXIF GPS position as signed decimal degrees, or (None, None)."""
    if not gps:
        return None, None
    latitude, longitude = _degrees(gps.get(2)), _degrees(gps.get(4))
    if latitude is None or longitude is None:
        return None, None
    if _text(gps.get(1)) == "S":
        latitude = -latitude
    if _text(gps.get(3)) == "W":
        longitude = -longitude
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    if latitude == 0 and longitude == 0:  # a camera without a fix writes zeros
        return None, None
    return round(latitude, 6), round(longitude, 6)


# --- Storing and reading back -------------------------------------------------------------


BAND_COLUMNS = tuple(f"band{band}" for band in range(BANDS))


def bands(phash: str) -> tuple[int, ...]:
    """The hash's ``BANDS`` interleaved bands: bit i of the hash goes to band i % BANDS."""
    value = int(phash, 16)
    out = [0] * BANDS
    for bit in range(64):
        if value >> bit & 1:
            out[bit % BANDS] |= 1 << (bit // BANDS)
    return tuple(out)


def store(visit, photos: tuple[PreparedPhoto, ...]) -> None:
    """Store ``photos`` with the just-flushed ``visit``, in their order."""
    if len(photos) > MAX_PHOTOS:
        raise PhotoRefused(too_many())
    for position, photo in enumerate(photos):
        db.session.add(
            VisitPhoto(
                visit_id=visit.id,
                position=position,
                kind=photo.kind,
                sha256=photo.sha256,
                width=photo.width,
                height=photo.height,
                taken_at=photo.taken_at,
                latitude=photo.latitude,
                longitude=photo.longitude,
                phash=photo.phash,
                **dict(zip(BAND_COLUMNS, bands(photo.phash), strict=True)),
                jpeg=photo.jpeg,
                thumb_jpeg=photo.thumb_jpeg,
            )
        )
    if photos:
        db.session.flush()


def digests(visit) -> list[tuple[str, str]]:
    """The visit's photos as its record signs them: (kind, SHA-256), in order.

    Computed from the stored bytes, never copied from the ``sha256`` column, so a
    changed byte shows. Photos loaded already with both images (the reports load them
    for many visits at once) are not asked for again. A photo the retention run erased
    is signed as what was kept of it (``erase``).
    """
    loaded = sa.inspect(visit).dict.get("photos")
    if loaded is not None and all(
        {"jpeg", "thumb_jpeg"} <= sa.inspect(photo).dict.keys() for photo in loaded
    ):
        rows = [(photo.position, photo.kind, photo.jpeg, photo.thumb_jpeg) for photo in loaded]
    else:
        rows = db.session.execute(
            sa.select(VisitPhoto.position, VisitPhoto.kind, VisitPhoto.jpeg, VisitPhoto.thumb_jpeg)
            .where(VisitPhoto.visit_id == visit.id)
            .order_by(VisitPhoto.position)
        ).all()
    signed = {position: (kind, photo_digest(jpeg, thumb)) for position, kind, jpeg, thumb in rows}
    erased = sa.inspect(visit).dict.get("erased_photos")
    if erased is not None:
        signed |= {photo.position: (photo.kind, photo.sha256) for photo in erased}
    else:
        signed |= dict(erased_of([visit.id]).get(visit.id, []))
    return [signed[position] for position in sorted(signed)]


def erased_of(visit_ids) -> dict[int, list[tuple[int, tuple[str, str]]]]:
    """The erased photos of these visits: (position, (kind, digest)) by visit id."""
    found: dict[int, list[tuple[int, tuple[str, str]]]] = {}
    rows = db.session.execute(
        sa.select(
            ErasedVisitPhoto.visit_id,
            ErasedVisitPhoto.position,
            ErasedVisitPhoto.kind,
            ErasedVisitPhoto.sha256,
        )
        .where(ErasedVisitPhoto.visit_id.in_(list(visit_ids)))
        .order_by(ErasedVisitPhoto.visit_id, ErasedVisitPhoto.position)
    )
    for visit_id, position, kind, digest in rows:
        found.setdefault(visit_id, []).append((position, (kind, digest)))
    return found


def photos_of(visit) -> dict:
    """The stored photos of ``visit`` with both images, by position."""
    return {
        photo.position: photo
        for photo in db.session.scalars(
            sa.select(VisitPhoto)
            .where(VisitPhoto.visit_id == visit.id)
            .options(undefer(VisitPhoto.jpeg), undefer(VisitPhoto.thumb_jpeg))
        )
    }


def copy_of(photo: VisitPhoto, kind: str) -> PreparedPhoto:
    """A stored photo, byte for byte, for an amendment of its visit (``kind`` may be corrected).

    The digest is computed from the bytes again: a copy never carries a changed photo
    as if it were signed.
    """
    if kind not in PHOTO_KINDS:
        raise PhotoRefused(UNKNOWN_KIND)
    return PreparedPhoto(
        kind=kind,
        jpeg=photo.jpeg,
        sha256=photo_digest(photo.jpeg, photo.thumb_jpeg),
        thumb_jpeg=photo.thumb_jpeg,
        width=photo.width,
        height=photo.height,
        taken_at=photo.taken_at,
        latitude=photo.latitude,
        longitude=photo.longitude,
        phash=photo.phash,
    )


# --- Finding a photo used before ----------------------------------------------------------


def _within(value: int, radius: int) -> list[int]:
    """Every BAND_BITS-bit value within ``radius`` bits of ``value``."""
    found = [value]
    for flips in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flips):
            mask = 0
            for bit in bits:
                mask |= 1 << bit
            found.append(value ^ mask)
    return found


def band_radius(max_bits: int) -> int:
    """How far each band is searched so that no hash within ``max_bits`` is missed."""
    if not 0 <= max_bits <= MAX_SEARCH_BITS:
        raise ValueError(f"max_bits must be between 0 and {MAX_SEARCH_BITS}")
    return (max_bits + 1 + BANDS - 1) // BANDS - 1


def similar_photos(phash: str, max_bits: int, exclude_visit_id: int | None = None, limit: int = 20):
    """Stored photos whose hash is at most ``max_bits`` bits from ``phash``, nearest first.

    A list of (VisitPhoto, bits), at most ``limit`` long, without the photos of
    ``exclude_visit_id``. Answered from the band indexes (module docstring): the
    candidates are the photos agreeing with ``phash`` within the band radius on some
    band, read from the indexes alone; only the matches are loaded.
    """
    wanted = int(phash, 16)
    radius = band_radius(max_bits)
    probes = []
    for column, value in zip(BAND_COLUMNS, bands(phash), strict=True):
        band = getattr(VisitPhoto, column)
        query = sa.select(VisitPhoto.id, VisitPhoto.phash).where(band.in_(_within(value, radius)))
        if exclude_visit_id is not None:
            query = query.where(VisitPhoto.visit_id != exclude_visit_id)
        probes.append(query)
    distances: dict[int, int] = {}
    for photo_id, other in db.session.execute(sa.union(*probes)):
        bits = (int(other, 16) ^ wanted).bit_count()
        if bits <= max_bits:
            distances[photo_id] = bits
    nearest = sorted(distances, key=lambda photo_id: (distances[photo_id], photo_id))[:limit]
    if not nearest:
        return []
    photos = {
        photo.id: photo
        for photo in db.session.scalars(sa.select(VisitPhoto).where(VisitPhoto.id.in_(nearest)))
    }
    return [(photos[photo_id], distances[photo_id]) for photo_id in nearest]


# --- A photo carried over when a form is shown again --------------------------------------

DATA_URL_PREFIXES = ("data:image/jpeg;base64,", "data:image/png;base64,", "data:image/webp;base64,")


def image_of(visit_id: int, position: int, thumb: bool = False) -> bytes | None:
    """The stored JPEG of one photo of a visit (or its thumbnail), or None."""
    column = VisitPhoto.thumb_jpeg if thumb else VisitPhoto.jpeg
    return db.session.scalar(
        sa.select(column).where(VisitPhoto.visit_id == visit_id, VisitPhoto.position == position)
    )


def from_data_url(text: str) -> bytes | None:
    """The bytes of an image data URL (the field kit's photos, a kept photo), or None."""
    prefix = next((p for p in DATA_URL_PREFIXES if text.startswith(p)), None)
    if prefix is None:
        return None
    try:
        return base64.b64decode(text[len(prefix) :], validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return None


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def kept_data_url(photo: PreparedPhoto) -> str:
    """``photo`` as a data URL the refused form sends again: the stored JPEG with its two
    facts written back as EXIF (in UTC), so preparing it again keeps them."""
    exif = Image.Exif()
    if photo.taken_at is not None:
        exif[_EXIF_IFD] = {
            _DATETIME_ORIGINAL: photo.taken_at.astimezone(UTC).strftime("%Y:%m:%d %H:%M:%S"),
            _OFFSET_TIME_ORIGINAL: "+00:00",
        }
    if photo.latitude is not None and photo.longitude is not None:
        exif[_GPS_IFD] = {
            1: "N" if photo.latitude >= 0 else "S",
            2: _rational_degrees(photo.latitude),
            3: "E" if photo.longitude >= 0 else "W",
            4: _rational_degrees(photo.longitude),
        }
    if not len(exif):
        return _data_url(photo.jpeg)
    block = exif.tobytes()
    segment = b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block
    return _data_url(photo.jpeg[:2] + segment + photo.jpeg[2:])  # right after the JPEG's SOI


def _rational_degrees(value: float) -> tuple:
    zero = TiffImagePlugin.IFDRational(0, 1)
    return (TiffImagePlugin.IFDRational(round(abs(value) * 10**6), 10**6), zero, zero)


def thumb_data_url(photo: PreparedPhoto) -> str:
    """The thumbnail as a data URL, for the form shown again."""
    return _data_url(photo.thumb_jpeg)


# --- Erasing the photos (the retention run, docs/privacy.md) ------------------------------


def erase(visit_ids: list[int]) -> int:
    """Delete the photos of these visits, keeping what their records sign of them.

    Each photo's kind and digest move to ``erased_visit_photos`` at its position, so the
    chain check still verifies the record; the images, the capture time and place and the
    perceptual hash go. Returns how many photos were erased. In the caller's transaction.
    """
    if not visit_ids:
        return 0
    photos = sa.select(VisitPhoto).where(VisitPhoto.visit_id.in_(visit_ids))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(photos.subquery()))
    if not count:
        return 0
    db.session.execute(
        sa.insert(ErasedVisitPhoto).from_select(
            ["visit_id", "position", "kind", "sha256", "erased_at"],
            sa.select(
                VisitPhoto.visit_id,
                VisitPhoto.position,
                VisitPhoto.kind,
                VisitPhoto.sha256,
                sa.literal(utcnow(), UTCDateTime()),
            ).where(VisitPhoto.visit_id.in_(visit_ids)),
        )
    )
    db.session.execute(
        sa.delete(VisitPhoto)
        .where(VisitPhoto.visit_id.in_(visit_ids))
        .execution_options(**{ERASING_PHOTOS: True})
    )
    return count
