"""Drawn signatures sent by static/js/signature.js: a PNG data URL, checked by decoding.

The decoding is ``portal.core.images.decode_upload``, which refuses a PNG cut short.

Visits and training sign-offs both take one; each states its limits and its words in
a ``SignatureRules``. The PNG kept is re-encoded, so no foreign chunk is ever stored.
"""

import base64
import binascii
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageChops

from portal.core.images import ImageRefusedError, ImageTooLargeError, decode_upload, is_image

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


def _open_png(raw: bytes, rules: SignatureRules) -> Image.Image:
    if not raw.startswith(PNG_MAGIC):
        raise SignatureError(rules.not_png if is_image(raw) else rules.unreadable)
    try:
        image = decode_upload(raw, ("PNG",), rules.max_side_px)
    except ImageTooLargeError:
        raise SignatureError(rules.oversized or rules.too_large) from None
    except ImageRefusedError:
        raise SignatureError(rules.unreadable) from None
    if image.width < rules.min_width_px or image.height < rules.min_height_px:
        raise SignatureError(rules.blank)
    return image.convert("RGBA")


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
