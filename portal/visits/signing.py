"""The borrower's drawn signature and the content hash that seals a signed visit.

The hash is SHA-256 over a canonical JSON serialisation of every recorded field,
which includes the SHA-256 of the stored signature PNG; docs/visits.md lists the
fields. Changing a single answer, a time or a pixel of the signature changes it.
"""

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from io import BytesIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageChops, UnidentifiedImageError

PNG_DATA_URL_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A finger signature from signature.js is 10–60 KB; 512 KB of PNG is plenty.
MAX_DATA_URL_CHARS = len(PNG_DATA_URL_PREFIX) + (512 * 1024 * 4) // 3 + 4
MAX_SIDE_PX = 4000
MIN_WIDTH_PX, MIN_HEIGHT_PX = 60, 30
# Fewer dark pixels than this is a tap, not a signature.
MIN_INK_PIXELS = 40
STORED_MAX_WIDTH_PX = 1400
HASH_VERSION = "visit-v1"


class SignatureError(Exception):
    """The submitted signature cannot be accepted; ``message`` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


MISSING = _l(
    "The borrower has not signed. Ask the borrower to sign in the box (this needs JavaScript)."
)
UNREADABLE = _l("The signature could not be read. Clear it and ask the borrower to sign again.")
TOO_LARGE = _l("The signature image is too large. Clear it and ask the borrower to sign again.")
BLANK = _l("The signature box is empty. Ask the borrower to sign with a finger or pen.")


def decode_signature(data_url: str | None) -> bytes:
    """Check a ``data:image/png;base64,`` URL by decoding it; return the PNG to store."""
    if not data_url:
        raise SignatureError(MISSING)
    if len(data_url) > MAX_DATA_URL_CHARS:
        raise SignatureError(TOO_LARGE)
    if not data_url.startswith(PNG_DATA_URL_PREFIX):
        raise SignatureError(UNREADABLE)
    try:
        raw = base64.b64decode(data_url[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(UNREADABLE) from None
    image = _open_png(raw)
    if ink_pixels(image) < MIN_INK_PIXELS:
        raise SignatureError(BLANK)
    return _reencode(image)


def _open_png(raw: bytes) -> Image.Image:
    if not raw.startswith(PNG_MAGIC):
        raise SignatureError(UNREADABLE)
    try:
        with Image.open(BytesIO(raw), formats=["PNG"]) as image:
            # The header alone gives the size: refuse before decoding any pixels.
            width, height = image.size
            if width > MAX_SIDE_PX or height > MAX_SIDE_PX:
                raise SignatureError(TOO_LARGE)
            if width < MIN_WIDTH_PX or height < MIN_HEIGHT_PX:
                raise SignatureError(BLANK)
            image.load()
            return image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        raise SignatureError(UNREADABLE) from None


def ink_pixels(image: Image.Image) -> int:
    """Pixels that are both visible (alpha) and dark: what a pen leaves."""
    rgba = image.convert("RGBA")
    visible = rgba.getchannel("A").point(lambda a: 255 if a > 32 else 0)
    dark = rgba.convert("L").point(lambda g: 255 if g < 160 else 0)
    return ImageChops.multiply(visible, dark).histogram()[255]


def _reencode(image: Image.Image) -> bytes:
    # Re-encoding drops whatever chunks the upload carried besides the pixels.
    if image.width > STORED_MAX_WIDTH_PX:
        ratio = STORED_MAX_WIDTH_PX / image.width
        image = image.resize((STORED_MAX_WIDTH_PX, max(1, round(image.height * ratio))))
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coordinate(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


def canonical_record(visit, signature_png: bytes) -> bytes:
    """The signed content of ``visit`` as canonical JSON bytes (sorted keys, UTF-8)."""
    fields = {
        "v": HASH_VERSION,
        "borrower_id": visit.borrower_id,
        "loan_id": visit.loan_id,
        "officer_id": visit.officer_id,
        "branch_id": visit.branch_id,
        "amends_id": visit.amends_id,
        "visited_at": _utc(visit.visited_at),
        "signed_at": _utc(visit.signed_at),
        "place": visit.place,
        "latitude": _coordinate(visit.latitude),
        "longitude": _coordinate(visit.longitude),
        "accuracy_m": visit.accuracy_m,
        "business_state": str(visit.business_state),
        "revenue_trend": str(visit.revenue_trend),
        "funds_use": str(visit.funds_use),
        "repayment_status": str(visit.repayment_status),
        "guarantor_status": str(visit.guarantor_status),
        "collateral_status": str(visit.collateral_status),
        "household_changes": visit.household_changes,
        "risk_signals": list(visit.risk_signals),
        "officer_observations": visit.officer_observations,
        "borrower_opinions": visit.borrower_opinions,
        "services_needed": list(visit.services_needed),
        "services_other": visit.services_other,
        "satisfaction": visit.satisfaction,
        "risk_level": str(visit.risk_level),
        "risk_reason": visit.risk_reason,
        "signature_sha256": hashlib.sha256(signature_png).hexdigest(),
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(visit, signature_png: bytes) -> str:
    """SHA-256 (hex) of the canonical record."""
    return hashlib.sha256(canonical_record(visit, signature_png)).hexdigest()
