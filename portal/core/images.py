"""The one place an uploaded image is decoded: ID-card photos and drawn signatures.

"Checked by decoding" only holds if a file that ends early is refused. Pillow has a
process-wide switch, ``ImageFile.LOAD_TRUNCATED_IMAGES``, that makes it fill the
missing part with grey instead, and WeasyPrint turns it on for the whole process
when it is imported. Every upload is therefore decoded here with the switch off,
whatever another library set.
"""

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

from PIL import Image, ImageFile, UnidentifiedImageError

# Pillow reads the switch at decode time; the lock keeps two uploads from
# restoring each other's value. A PDF rendered in another thread meanwhile is
# strict too, which only matters for broken images, and we store none.
_strict_lock = threading.Lock()

DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


class ImageRefusedError(Exception):
    """The upload is not a complete image of an allowed format."""


class ImageTooLargeError(ImageRefusedError):
    """A side is longer than allowed (known from the header, before any pixel is decoded)."""


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Pillow refuses truncated files inside this block, whatever the process-wide setting."""
    with _strict_lock:
        tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def decode_upload(
    data: bytes,
    formats: tuple[str, ...],
    max_side: int,
    *,
    max_pixels: int | None = None,
    reduce_to: int | None = None,
) -> Image.Image:
    """Every pixel of ``data`` decoded, or ImageRefusedError; a file cut short is always refused.

    ``max_pixels`` refuses a larger image from its header, like ``max_side``.
    ``reduce_to`` lets a JPEG decode at 1/2, 1/4 or 1/8 of its size while its longest
    side stays at least that long (the whole file is still read and checked): a large
    photo that is to be made smaller anyway decodes several times faster.
    """
    try:
        with strict_decoding(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=list(formats))
            # The header alone gives the size: refuse before decoding any pixels.
            width, height = image.size
            if max(width, height) > max_side:
                raise ImageTooLargeError
            if max_pixels is not None and width * height > max_pixels:
                raise ImageTooLargeError
            if reduce_to is not None and max(width, height) > reduce_to:
                scale = reduce_to / max(width, height)
                image.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
            image.load()
    except ImageRefusedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError from None
    except DECODE_ERRORS as error:
        raise ImageRefusedError(str(error)) from None
    return image


def is_image(data: bytes) -> bool:
    """Whether Pillow recognises ``data`` as an image of any format (its header only)."""
    try:
        with Image.open(BytesIO(data)):
            return True
    except DECODE_ERRORS:
        return False
