"""Repayments imported from the lending system: an upload kept for its preview, the
apply in one transaction, the lending system's keys (docs/imports.md).

Every imported payment goes through ``lifecycle.add_repayments``, every loan's payments
of one import at once. Nothing here commits.
"""

import hashlib
import secrets
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from portal.accounts.models import User
from portal.audit.operations import record
from portal.database import utcnow
from portal.extensions import db
from portal.imports.checks import SOURCE, Preview, Scope, check
from portal.imports.models import ImportToken, RepaymentUpload
from portal.imports.reading import ImportRefused, ImportRow, read_file
from portal.loans import lifecycle

UPLOAD_HOURS = 24  # an upload not applied within a day is deleted
TOKEN_PREFIX = "rpi_"  # noqa: S105 - how a key starts, not a key


class RowsRefused(ImportRefused):
    """Some rows have problems: nothing is imported; ``preview`` says which and why."""

    def __init__(self, preview: Preview):
        count = len(preview.with_problems)
        super().__init__(
            lazy_ngettext(
                "%(num)d row has a problem: nothing was imported.",
                "%(num)d rows have a problem: nothing was imported.",
                count,
            )
        )
        self.preview = preview


def digest_of(content: bytes) -> str:
    """The SHA-256 of a file, in hex: how the audit log names it."""
    return hashlib.sha256(content).hexdigest()


# --- uploads ----------------------------------------------------------------


def store_upload(content: bytes, filename: str, actor: User) -> RepaymentUpload:
    """Keep an uploaded file for its preview; refused when it cannot be read at all."""
    read_file(content, filename)
    _delete_stale_uploads()
    upload = RepaymentUpload(
        digest=digest_of(content),
        filename=filename[-255:],
        content=content,
        uploaded_by_id=actor.id,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def _delete_stale_uploads() -> None:
    cutoff = utcnow() - timedelta(hours=UPLOAD_HOURS)
    db.session.execute(
        sa.delete(RepaymentUpload).where(
            RepaymentUpload.applied_at.is_(None), RepaymentUpload.uploaded_at < cutoff
        )
    )


def preview_upload(upload: RepaymentUpload, actor: User) -> Preview:
    """The upload's rows checked for ``actor`` (their branch, or every branch)."""
    return check(read_file(upload.content, upload.filename), Scope.of(actor))


def apply_upload(upload: RepaymentUpload, actor: User) -> Preview:
    """Import the upload's rows, all checked again now; the bytes are dropped after."""
    if upload.applied_at is not None:
        raise ImportRefused(_l("This file was imported already."))
    rows = read_file(upload.content, upload.filename)
    preview = apply(rows, Scope.of(actor), actor, channel="upload", digest=upload.digest)
    upload.applied_at = utcnow()
    upload.content = None
    upload.imported, upload.skipped = len(preview.ready), len(preview.skipped)
    return preview


# --- the apply --------------------------------------------------------------


def apply(
    rows: list[ImportRow],
    scope: Scope,
    actor: User | None,
    *,
    channel: str,
    digest: str = "",
    token: ImportToken | None = None,
) -> Preview:
    """Import every row in the current transaction, or none: refused (``RowsRefused``)
    when a row has a problem. Rows imported before are skipped; when none is new,
    nothing is written."""
    preview = check(rows, scope, lock=True)
    if not preview.applicable:
        raise RowsRefused(preview)
    ready = preview.ready
    if ready:
        loans = _store(preview, actor)
        record(
            "imports.repayments",
            None,
            _summary(channel, preview, loans, digest, token),
            actor=actor,
        )
    return preview


def _store(preview: Preview, actor: User | None) -> int:
    """Every loan's new payments at once, split on what the check read under lock;
    returns how many loans were paid into."""
    by_loan: dict[int, list] = defaultdict(list)
    for row in preview.ready:
        by_loan[row.loan_id].append((row.paid_on, row.amount, row.reference))
    lifecycle.add_repayments(by_loan, recorded_by=actor, source=SOURCE, tails=preview.tails)
    return len(by_loan)


def _summary(channel: str, preview: Preview, loans: int, digest: str, token) -> str:
    facts = {
        "channel": channel,
        "rows": len(preview.rows),
        "imported": len(preview.ready),
        "skipped": len(preview.skipped),
        "loans": loans,
        "sha256": digest,
        "token": f"{token.id}:{token.name}" if token is not None else "",
    }
    return " ".join(f"{key}={value}" for key, value in facts.items() if value != "")


# --- the lending system's keys --------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(name: str, branch_id: int | None, actor: User | None = None):
    """A new key for ``POST /api/repayments``; returns the token and the key, shown once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ImportToken(name=name.strip()[:100], branch_id=branch_id, token_hash=_hash(secret))
    db.session.add(token)
    db.session.flush()
    record("imports.token_create", token, f"name={token.name} branch={branch_id or 'all'}", actor)
    return token, secret


def token_for(secret: str) -> ImportToken | None:
    """The key's token, unless it is unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return db.session.scalar(
        sa.select(ImportToken).where(
            ImportToken.token_hash == _hash(secret), ImportToken.revoked_at.is_(None)
        )
    )


def revoke_token(token: ImportToken, actor: User | None = None) -> None:
    """The key stops working at once."""
    token.revoked_at = utcnow()
    record("imports.token_revoke", token, f"name={token.name}", actor)
