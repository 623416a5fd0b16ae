"""The borrower's drawn signature and the content hash that seals a signed visit.

The hash is SHA-256 over a canonical JSON serialisation of every recorded field,
which includes the SHA-256 of the stored signature PNG; docs/visits.md lists the
fields. Changing a single answer, a time or a pixel of the signature changes it.
"""

import hashlib
import json
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l

from portal.core import signatures as core_signatures
from portal.core.signatures import SignatureError, SignatureRules

__all__ = ["SignatureError", "content_hash", "decode_signature"]

HASH_VERSION = "visit-v1"

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
