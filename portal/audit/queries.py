"""Reading the audit log."""

from datetime import timedelta

import sqlalchemy as sa

from portal.audit.forms import AuditSearchForm
from portal.audit.models import AuditEntry
from portal.core.calendar import local_midnight


def search_statement(form: AuditSearchForm) -> sa.Select:
    """The newest-first query matching the filled-in filters."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if form.actor.data:
        stmt = stmt.where(AuditEntry.actor_name == form.actor.data.strip().lower())
    if form.action.data:
        stmt = stmt.where(AuditEntry.action.startswith(form.action.data.strip()))
    if form.object_type.data:
        stmt = stmt.where(AuditEntry.object_type == form.object_type.data.strip())
    if form.object_id.data:
        stmt = stmt.where(AuditEntry.object_id == form.object_id.data.strip())
    if form.since.data:
        stmt = stmt.where(AuditEntry.created_at >= local_midnight(form.since.data))
    if form.until.data:
        stmt = stmt.where(
            AuditEntry.created_at < local_midnight(form.until.data + timedelta(days=1))
        )
    return stmt
