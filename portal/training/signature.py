"""The borrower's drawn signature on an integrity-training sign-off."""

from flask_babel import lazy_gettext as _l

from portal.core import signatures
from portal.core.signatures import SignatureError, SignatureRules

__all__ = ["SignatureError", "decode_signature"]

NOT_PNG = _l("The signature must be a PNG image drawn in the box.")
RULES = SignatureRules(
    max_png_bytes=200 * 1024,
    max_side_px=4096,  # a 3x tablet canvas is about 2100 px wide
    missing=_l("The borrower must sign in the box."),
    not_png=NOT_PNG,
    unreadable=_l("The signature could not be read. Please sign again."),
    too_large=_l("The signature image is too large."),
    blank=_l("The signature box is empty: the borrower must sign."),
    oversized=NOT_PNG,
)


def decode_signature(value: str | None) -> bytes:
    """The sign-off's signature as clean PNG bytes, or SignatureError."""
    return signatures.decode_signature(value, RULES)
