"""Drawn signatures sent by static/js/signature.js: a PNG data URL, checked by decoding.

Visits and training sign-offs both take one; each states its limits and its words in
a ``SignatureRules``. The PNG kept is re-encoded, so no foreign chunk is ever stored.
"""

import base64
import binascii
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageChops, UnidentifiedImageError

PNG_DATA_URL_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class SignatureRules:
    """Limits and messages of one kind of signature."""

    max_png_bytes: int
    max_side_px: int
    missing: object
    not_png: object
    unreadable: object
    too_large: object
    blank: object
    # What a side over ``max_side_px`` is called (too large, or not a drawn PNG).
    oversized: object = None
    min_width_px: int = 1
    min_height_px: int = 1
    # Fewer dark pixels than this is a tap, not a signature.
    min_ink_pixels: int = 1
    stored_max_width_px: int | None = None


class SignatureError(Exception):
    """The submitted signature cannot be accepted; ``message`` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def decode_signature(data_url: str | None, rules: SignatureRules) -> bytes:
    """The PNG to store for ``data_url``, or SignatureError with the rule's message."""
    if not data_url:
        raise SignatureError(rules.missing)
    if not data_url.startswith(PNG_DATA_URL_PREFIX):
        raise SignatureError(rules.not_png)
    encoded = data_url[len(PNG_DATA_URL_PREFIX) :]
    if len(encoded) > (rules.max_png_bytes * 4) // 3 + 4:
        raise SignatureError(rules.too_large)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(rules.unreadable) from None
    image = _open_png(raw, rules)
    if ink_pixels(image) < rules.min_ink_pixels:
        raise SignatureError(rules.blank)
    return _reencode(image, rules.stored_max_width_px)


def _is_other_image(raw: bytes) -> bool:
    try:
        with Image.open(BytesIO(raw)):
            return True
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return False


def _open_png(raw: bytes, rules: SignatureRules) -> Image.Image:
    if not raw.startswith(PNG_MAGIC):
        raise SignatureError(rules.not_png if _is_other_image(raw) else rules.unreadable)
    try:
        with Image.open(BytesIO(raw), formats=["PNG"]) as image:
            # The header alone gives the size: refuse before decoding any pixels.
            width, height = image.size
            if max(width, height) > rules.max_side_px:
                raise SignatureError(rules.oversized or rules.too_large)
            if width < rules.min_width_px or height < rules.min_height_px:
                raise SignatureError(rules.blank)
            image.load()
            return image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        raise SignatureError(rules.unreadable) from None


def ink_pixels(image: Image.Image) -> int:
    """Pixels that are both visible (alpha) and dark: what a pen leaves."""
    rgba = image.convert("RGBA")
    visible = rgba.getchannel("A").point(lambda a: 255 if a > 32 else 0)
    dark = rgba.convert("L").point(lambda g: 255 if g < 160 else 0)
    return ImageChops.multiply(visible, dark).histogram()[255]


def _reencode(image: Image.Image, max_width: int | None) -> bytes:
    if max_width and image.width > max_width:
        ratio = max_width / image.width
        image = image.resize((max_width, max(1, round(image.height * ratio))))
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
