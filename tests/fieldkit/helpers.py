"""Outbox entries as the tablet sends them, plans and held entries for the field-kit tests."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit import operations
from portal.fieldkit.entries import entry_hash, read_entry
from tests.visits.conftest import local_input, visit_form_data

SERVER_FIELDS = ("idempotency_token", "csrf_token")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def form_fields(**overrides) -> dict[str, list[str]]:
    """The visit form's fields as the tablet keeps them: name → list of strings."""
    data = visit_form_data("x" * 28, **overrides)
    fields = {}
    for name, value in data.items():
        if name in SERVER_FIELDS:
            continue
        fields[name] = list(value) if isinstance(value, list | tuple) else [str(value)]
    return fields


def make_entry(
    borrower_id,
    plan_id=None,
    *,
    signed_at: datetime | None = None,
    visited_at: datetime | None = None,
    client_id: str | None = None,
    fields: dict | None = None,
    **overrides,
) -> dict:
    """A complete outbox entry with its content hash, signed a few minutes ago."""
    now = utcnow()
    visited_at = visited_at or now - timedelta(minutes=30)
    signed_at = signed_at or now - timedelta(minutes=10)
    if fields is None:
        fields = form_fields(visited_at=local_input(visited_at), **overrides)
    entry = {
        "client_id": client_id or str(uuid.uuid4()),
        "borrower_id": borrower_id,
        "plan_id": plan_id,
        "opened_at": utc_text(signed_at - timedelta(minutes=12)),
        "signed_at": utc_text(signed_at),
        "fields": fields,
    }
    entry["content_hash"] = entry_hash(entry)
    return entry


def post_entry(client, entry: dict, token: str | None = None):
    """POST an entry as the tablet does: JSON, CSRF token in the header."""
    token = token or client.get("/field/token").get_json()["csrf_token"]
    return client.post(
        "/field/entries",
        data=json.dumps(entry, ensure_ascii=False),
        content_type="application/json",
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def post_status(client, client_ids: list, token: str | None = None):
    token = token or client.get("/field/token").get_json()["csrf_token"]
    return client.post(
        "/field/entries/status",
        json={"client_ids": client_ids},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def make_plan(officer_id: int, borrower_ids: list[int], created_at: datetime | None = None):
    """Today's plan of the officer, made ``created_at`` (default: an hour ago)."""
    officer = db.session.get(User, officer_id)
    borrowers = [db.session.get(Borrower, i) for i in borrower_ids]
    return operations.save_plan(
        officer, local_today(), borrowers, now=created_at or utcnow() - timedelta(hours=1)
    )


def make_held(officer_id: int, borrower_id: int):
    """A held entry (hash mismatch) of the officer for the borrower, stored as received."""
    entry = make_entry(borrower_id)
    entry["content_hash"] = "0" * 64
    held, _ = operations.receive(read_entry(entry), db.session.get(User, officer_id))
    return held
