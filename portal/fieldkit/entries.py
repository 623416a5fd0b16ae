"""An outbox entry as the tablet sends it: its shape, its content hash, its times.

The tablet (static/js/offline/, docs/field-kit.md) computes the same hash over the same
text: the object below with keys sorted at every level, no spacing, UTF-8. Every value of
``fields`` is a string, so Python and JavaScript print the same text.
"""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

# A body larger than this is not an entry: a signature PNG is at most 512 KB (base64
# ~700 KB), the tablet makes each of the six photos at most 700 KB (base64 ~930 KB).
# The app's request limit (MAX_CONTENT_LENGTH, 8 MB by default) must allow it.
MAX_BODY_BYTES = 8 * 1024 * 1024
# What the tablet generates (a UUID4); also a valid once-only token of the visit form.
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_FIELDS = 100
MAX_VALUES = 50
# Fields of the visit form the tablet never sends: the server fills them.
SERVER_FIELDS = frozenset({"csrf_token", "idempotency_token", "submit"})


class NotAnEntry(ValueError):  # noqa: N818 - the answer "400: this is not an entry"
    """The body is not an outbox entry at all (answered 400)."""


def entry_hash(payload: dict) -> str:
    """The content hash of an entry: SHA-256 of the canonical JSON of its signed part."""
    signed = {
        "borrower_id": payload.get("borrower_id"),
        "client_id": payload.get("client_id"),
        "fields": payload.get("fields"),
        "signed_at": payload.get("signed_at"),
    }
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_matches(payload: dict) -> bool:
    claimed = payload.get("content_hash")
    return isinstance(claimed, str) and hmac.compare_digest(claimed.lower(), entry_hash(payload))


def parse_time(text) -> datetime | None:
    """An ISO 8601 UTC time from the tablet ("2026-11-26T03:12:40Z"), or None."""
    if not isinstance(text, str) or not text.endswith("Z") or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        return None
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Entry:
    """The parts of a received entry the server acts on; ``payload`` is the whole body."""

    payload: dict
    client_id: str
    borrower_id: int | None
    plan_id: int | None
    signed_at: datetime | None
    fields: dict[str, list[str]] | None

    @property
    def text(self) -> str:
        """The body as stored for a held entry: all of it, the signature included."""
        return json.dumps(self.payload, ensure_ascii=False, sort_keys=True)


def _integer(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < 2**63 else None


def _fields(value) -> dict[str, list[str]] | None:
    """``fields`` when it is name → list of strings, else None (held as invalid)."""
    if not isinstance(value, dict) or len(value) > MAX_FIELDS:
        return None
    for values in value.values():
        if not isinstance(values, list) or len(values) > MAX_VALUES:
            return None
        if not all(isinstance(item, str) for item in values):
            return None
    return {name: values for name, values in value.items() if name not in SERVER_FIELDS}


def read_entry(payload) -> Entry:
    """The entry in a decoded JSON body; ``NotAnEntry`` when it has no usable client id.

    Anything else wrong (no borrower, odd fields, a bad time) is still an entry: it is
    held with its reason, so nothing typed and signed is thrown away.
    """
    if not isinstance(payload, dict):
        raise NotAnEntry("not a JSON object")
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise NotAnEntry("no client_id")
    return Entry(
        payload=payload,
        client_id=client_id,
        borrower_id=_integer(payload.get("borrower_id")),
        plan_id=_integer(payload.get("plan_id")),
        signed_at=parse_time(payload.get("signed_at")),
        fields=_fields(payload.get("fields")),
    )
