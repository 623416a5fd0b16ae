"""The one helper every write calls."""

from flask import has_request_context, request
from flask_login import current_user

from portal.audit.models import AuditEntry
from portal.borrowers.masking import mask_numbers_in_text
from portal.extensions import db


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record(action: str, target=None, summary: str = "", actor=None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits)."""
    actor = actor or _actor()
    if target is not None and getattr(target, "id", "") is None:
        db.session.flush()  # the entry must name the record it is about
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system",
        action=action,
        object_type=type(target).__name__ if target is not None else "",
        object_id=str(getattr(target, "id", "") or "") if target is not None else "",
        # The log is not encrypted: a whole ID or phone number never enters it, whoever
        # wrote the summary (docs/privacy.md).
        summary=mask_numbers_in_text(summary)[:2000],
        ip_address=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
