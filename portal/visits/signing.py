"""The borrower's drawn signature and the content hash that seals a signed visit.

The hash is SHA-256 over a canonical JSON serialisation of every recorded field,
which includes the SHA-256 of the stored signature PNG; docs/visits.md lists the
fields. Changing a single answer, a time or a pixel of the signature changes it.

The layout is versioned and written out here, not derived from the form's
declaration: a visit signed under a version verifies under it for ever. A new
question gets a new version naming it (``RECORD_VERSIONS``) and becomes
``CURRENT_VERSION`` for new visits; tests/visits/test_questions.py checks that the
current version names every declared question.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum

from flask_babel import lazy_gettext as _l

from portal.core import signatures as core_signatures
from portal.core.signatures import SignatureError, SignatureRules

__all__ = ["SignatureError", "content_hash", "decode_signature", "signed_version"]

# The answers each version of the record signs, by question name; the version tag
# itself is signed too (``"v"``), so a hash matches only the version it was made with.
RECORD_VERSIONS: dict[str, tuple[str, ...]] = {
    "visit-v1": (
        "business_state",
        "revenue_trend",
        "funds_use",
        "repayment_status",
        "guarantor_status",
        "collateral_status",
        "household_changes",
        "risk_signals",
        "officer_observations",
        "borrower_opinions",
        "services_needed",
        "services_other",
        "satisfaction",
    ),
}
# Version 2 adds the visit's evidence (docs/visit-evidence.md): the form's opening and
# signing times, when the server received it, what the tablet said of its position,
# the officer's note on the place, the photos (kind and SHA-256 of the stored JPEG, in
# order) and the previous record's hash, which makes each borrower's records a chain.
RECORD_VERSIONS["visit-v2"] = RECORD_VERSIONS["visit-v1"]
EVIDENCE_VERSIONS = frozenset({"visit-v2"})
CURRENT_VERSION = "visit-v2"
EVIDENCE_TIMES = ("opened_at", "opened_at_server", "signed_at_device", "received_at")
EVIDENCE_FIELDS = (*EVIDENCE_TIMES, "location_status", "place_note", "previous_hash")
# ``previous_hash`` of the first record of a borrower's chain.
GENESIS = "0" * 64

MISSING = _l(
    "The borrower has not signed. Ask the borrower to sign in the box (this needs JavaScript)."
)
UNREADABLE = _l("The signature could not be read. Clear it and ask the borrower to sign again.")
TOO_LARGE = _l("The signature image is too large. Clear it and ask the borrower to sign again.")
BLANK = _l("The signature box is empty. Ask the borrower to sign with a finger or pen.")
RULES = SignatureRules(
    # A finger signature from signature.js is 10–60 KB; 512 KB of PNG is plenty.
    max_png_bytes=512 * 1024,
    max_side_px=4000,
    missing=MISSING,
    not_png=UNREADABLE,
    unreadable=UNREADABLE,
    too_large=TOO_LARGE,
    blank=BLANK,
    min_width_px=60,
    min_height_px=30,
    min_ink_pixels=40,
    stored_max_width_px=1400,
)


def decode_signature(data_url: str | None) -> bytes:
    """Check the visit's signature by decoding it; return the PNG to store."""
    return core_signatures.decode_signature(data_url, RULES)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coordinate(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


def _answer(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _optional_utc(moment: datetime | None) -> str | None:
    return None if moment is None else _utc(moment)


def canonical_record(
    visit,
    signature_png: bytes,
    version: str = CURRENT_VERSION,
    photos: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The signed content of ``visit`` under ``version``, as canonical JSON bytes.

    Sorted keys, UTF-8, no spaces. An answer the record lacks (a bulk generator's row
    without a newer question) is signed as null, as the column reads it back.
    ``photos`` are the visit's photos in order, as (kind, SHA-256 of the stored JPEG).
    """
    answers = {name: _answer(getattr(visit, name, None)) for name in RECORD_VERSIONS[version]}
    fields = {
        "v": version,
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
        **answers,
        "risk_level": str(visit.risk_level),
        "risk_reason": visit.risk_reason,
        "signature_sha256": hashlib.sha256(signature_png).hexdigest(),
    }
    if version in EVIDENCE_VERSIONS:
        evidence = {name: getattr(visit, name, None) for name in EVIDENCE_FIELDS}
        fields |= {
            **{name: _optional_utc(evidence[name]) for name in EVIDENCE_TIMES},
            "location_status": evidence["location_status"],
            "place_note": evidence["place_note"],
            "previous_hash": evidence["previous_hash"],
            "photos": [{"kind": kind, "sha256": digest} for kind, digest in photos],
        }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(
    visit,
    signature_png: bytes,
    version: str = CURRENT_VERSION,
    photos: Sequence[tuple[str, str]] = (),
) -> str:
    """SHA-256 (hex) of the canonical record under ``version`` (new visits: the current one)."""
    return hashlib.sha256(canonical_record(visit, signature_png, version, photos)).hexdigest()


def signed_version(
    visit, signature_png: bytes, photos: Sequence[tuple[str, str]] = ()
) -> str | None:
    """The record version ``visit.content_hash`` was made with, or None: it matches none."""
    for version in reversed(RECORD_VERSIONS):
        if content_hash(visit, signature_png, version, photos) == visit.content_hash:
            return version
    return None
