"""The visit's photos: decoded, re-encoded and stored with the signed record.

(Skeleton: the photo feature fills this module in.)
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PreparedPhoto:
    """One photo as the server re-encoded it, ready to store with a visit."""

    kind: str
    jpeg: bytes
    sha256: str


def store(visit, photos: tuple[PreparedPhoto, ...]) -> None:
    """Store ``photos`` with the just-flushed ``visit``, in their order."""
    if photos:
        raise NotImplementedError("visit photos are not stored yet")


def digests(visit) -> list[tuple[str, str]]:
    """The visit's photos as its record signs them: (kind, SHA-256), in order."""
    return []
