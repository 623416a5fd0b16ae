"""Checking a drawn signature sent by static/js/signature.js (a PNG data URL)."""

import base64
import binascii
import io

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

PREFIX = "data:image/png;base64,"
MAX_BYTES = 200 * 1024
MAX_SIDE = 4096  # a 3x tablet canvas is about 2100 px wide


class SignatureError(ValueError):
    """The submitted signature cannot be accepted; the message says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def decode_signature(value: str | None) -> bytes:
    """The signature as clean PNG bytes, or SignatureError.

    Checks the prefix, strict base64, the size, that Pillow decodes a PNG, and
    that something was drawn; re-encodes so no foreign chunks are stored.
    """
    if not value:
        raise SignatureError(_l("The borrower must sign in the box."))
    if not value.startswith(PREFIX):
        raise SignatureError(_l("The signature must be a PNG image drawn in the box."))
    encoded = value[len(PREFIX) :]
    if len(encoded) > (MAX_BYTES * 4) // 3 + 4:
        raise SignatureError(_l("The signature image is too large."))
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(_l("The signature could not be read. Please sign again.")) from None
    return _clean_png(raw)


def _clean_png(raw: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG" or max(image.size) > MAX_SIDE:
                raise SignatureError(_l("The signature must be a PNG image drawn in the box."))
            image.load()
            pixels = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise SignatureError(_l("The signature could not be read. Please sign again.")) from None
    if _is_blank(pixels):
        raise SignatureError(_l("The signature box is empty: the borrower must sign."))
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _is_blank(image: Image.Image) -> bool:
    # Ink is any pixel that is neither transparent nor white.
    alpha = image.getchannel("A").point(lambda a: 255 if a > 16 else 0)
    darkness = image.convert("L").point(lambda v: 255 if v < 240 else 0)
    ink = Image.new("L", image.size)
    ink.paste(darkness, mask=alpha)
    return ink.getbbox() is None
