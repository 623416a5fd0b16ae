"""encryption at rest of resident ID numbers, phone numbers and ID-card photos

Revision ID: 0024_encryption_at_rest
Revises: 0023_consents_and_holds
Create Date: 2026-11-26 23:40:00

The borrowers' resident ID, mobile and guarantor phone, the ID-card photos, the
outbox's numbers and the staff's own mobiles are encrypted with the first key of
PORTAL_DATA_KEYS (portal/core/crypto.py), read as the app reads it. The borrowers'
numbers and the outbox's mobile get a blind index (keyed hash) beside them: the unique
constraints move from the numbers to their indexes, the daily SMS limit counts by the
index. Borrower logins named with their mobile number get a name that holds none
(``borrower:<id>``; borrowers still log in by typing their number), and full numbers
already written into the audit log are replaced by their masked form.

Rows are read and written in batches on the migration's own connection (executemany),
not through the ORM. On SQLite the tables are rebuilt (batch mode) with foreign keys
off, so rebuilding ``borrowers`` cannot cascade into the tables that refer to it, and
``secure_delete`` zeroes the clear numbers' old places in the file; on PostgreSQL the
changed tables are rewritten (VACUUM FULL) at the end, so their files keep no dead row
with a clear number either.
"""

import re

import sqlalchemy as sa
from alembic import op

from portal.database import sqlite_outside_transaction

# revision identifiers, used by Alembic.
revision = "0024_encryption_at_rest"
down_revision = "0023_consents_and_holds"
branch_labels = None
depends_on = None

BATCH = 5000
PHOTO_BATCH = 200
REWRITTEN = ("borrowers", "id_card_photos", "care_outbox", "staff_sms", "users", "audit_entries")


def _keyring():
    from flask import current_app

    from portal.core.crypto import keyring_for

    try:
        config = current_app.config
    except RuntimeError:  # alembic run outside Flask: the same settings the app reads
        from portal.settings import from_environment

        config = from_environment({})
    return keyring_for(config)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _raw_sqlite(*statements: str, end: str = "COMMIT") -> None:
    sqlite_outside_transaction(op.get_bind(), *statements, end=end)


def _batches(query: str, key: str = "id", size: int = BATCH):
    """The rows of ``query`` (ordered by ``key``, with ``WHERE key > :after``) in batches."""
    bind = op.get_bind()
    after = -1
    while True:
        rows = bind.execute(sa.text(query), {"after": after, "size": size}).all()
        if not rows:
            return
        yield rows
        after = getattr(rows[-1], key)


def _update(statement: str, rows: list[dict]) -> None:
    if rows:
        op.get_bind().execute(sa.text(statement), rows)


def upgrade():
    if _sqlite():
        # Off for the rebuilds; secure_delete zeroes what the clear numbers leave behind.
        _raw_sqlite("PRAGMA foreign_keys = OFF", "PRAGMA secure_delete = ON")
    try:
        _upgrade()
        if _sqlite():
            problems = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").all()
            if problems:
                raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")
    except BaseException:
        if _sqlite():
            _raw_sqlite("PRAGMA foreign_keys = ON", "PRAGMA secure_delete = OFF", end="ROLLBACK")
        raise
    if _sqlite():
        _raw_sqlite("PRAGMA foreign_keys = ON", "PRAGMA secure_delete = OFF")
    if not _sqlite():
        with op.get_context().autocommit_block():
            for table in REWRITTEN:
                op.execute(f"VACUUM (FULL, ANALYZE) {table}")


def _upgrade():
    ring = _keyring()
    with op.batch_alter_table("borrowers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resident_id_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("mobile_hash", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_borrowers_resident_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_borrowers_mobile"), type_="unique")
        for name, length in (("resident_id", 18), ("mobile", 11), ("guarantor_phone", 20)):
            batch_op.alter_column(
                name,
                existing_type=sa.String(length=length),
                type_=sa.Text(),
                nullable=True,
            )
    with op.batch_alter_table("care_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile_hash", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_care_outbox_mobile_sent")
        batch_op.alter_column(
            "mobile", existing_type=sa.String(length=20), type_=sa.Text(), existing_nullable=True
        )
    with op.batch_alter_table("staff_sms", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile", existing_type=sa.String(length=11), type_=sa.Text(), existing_nullable=False
        )

    renamed = _rename_borrower_logins()
    _encrypt_borrowers(ring)
    _encrypt_photos(ring)
    _encrypt_outbox(ring)
    _encrypt_staff_mobiles(ring)
    _scrub_audit(renamed)

    with op.batch_alter_table("borrowers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_borrowers_resident_id_hash"), ["resident_id_hash"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_borrowers_mobile_hash"), ["mobile_hash"], unique=True)
    with op.batch_alter_table("care_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_care_outbox_mobile_hash_sent", ["mobile_hash", "sent_at"], unique=False
        )


def _rename_borrower_logins() -> dict[str, str]:
    """Borrower logins named with their mobile number: ``borrower:<id>``; old → new name."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT users.id AS user_id, users.username AS username, borrowers.id AS borrower_id "
            "FROM users JOIN borrowers ON borrowers.user_id = users.id "
            "WHERE users.username = borrowers.mobile"
        )
    ).all()
    renamed = {row.username: f"borrower:{row.borrower_id}" for row in rows}
    changes = [{"id": row.user_id, "name": renamed[row.username]} for row in rows]
    for start in range(0, len(changes), BATCH):
        _update("UPDATE users SET username = :name WHERE id = :id", changes[start : start + BATCH])
    return renamed


def _encrypt_borrowers(ring) -> None:
    from portal.core.crypto import blind_index, encrypt_text

    def encrypted(value):
        return None if value is None else encrypt_text(value, ring)

    def indexed(value):
        return blind_index(value, ring) if value else None

    for rows in _batches(
        "SELECT id, resident_id, mobile, guarantor_phone FROM borrowers "
        "WHERE id > :after ORDER BY id LIMIT :size"
    ):
        _update(
            "UPDATE borrowers SET resident_id = :resident_id, resident_id_hash = :resident_id_hash, "
            "mobile = :mobile, mobile_hash = :mobile_hash, guarantor_phone = :guarantor_phone "
            "WHERE id = :id",
            [
                {
                    "id": row.id,
                    "resident_id": encrypted(row.resident_id),
                    "resident_id_hash": indexed(row.resident_id),
                    "mobile": encrypted(row.mobile),
                    "mobile_hash": indexed(row.mobile),
                    "guarantor_phone": encrypted(row.guarantor_phone),
                }
                for row in rows
            ],
        )


def _encrypt_photos(ring) -> None:
    from portal.core.crypto import encrypt_bytes

    for rows in _batches(
        "SELECT borrower_id, content FROM id_card_photos "
        "WHERE borrower_id > :after ORDER BY borrower_id LIMIT :size",
        key="borrower_id",
        size=PHOTO_BATCH,
    ):
        _update(
            "UPDATE id_card_photos SET content = :content WHERE borrower_id = :borrower_id",
            [
                {"borrower_id": row.borrower_id, "content": encrypt_bytes(bytes(row.content), ring)}
                for row in rows
                if row.content is not None
            ],
        )


def _encrypt_outbox(ring) -> None:
    from portal.borrowers.masking import mask_numbers_in_text
    from portal.core.crypto import blind_index, encrypt_text

    for rows in _batches(
        "SELECT id, mobile, last_error FROM care_outbox "
        "WHERE id > :after ORDER BY id LIMIT :size"
    ):
        _update(
            "UPDATE care_outbox SET mobile = :mobile, mobile_hash = :mobile_hash, "
            "last_error = :last_error WHERE id = :id",
            [
                {
                    "id": row.id,
                    "mobile": None if row.mobile is None else encrypt_text(row.mobile, ring),
                    "mobile_hash": blind_index(row.mobile, ring) if row.mobile else None,
                    "last_error": mask_numbers_in_text(row.last_error),
                }
                for row in rows
                if row.mobile is not None or mask_numbers_in_text(row.last_error) != row.last_error
            ],
        )


def _encrypt_staff_mobiles(ring) -> None:
    from portal.core.crypto import encrypt_text

    for rows in _batches(
        "SELECT user_id, mobile FROM staff_sms "
        "WHERE user_id > :after ORDER BY user_id LIMIT :size",
        key="user_id",
    ):
        _update(
            "UPDATE staff_sms SET mobile = :mobile WHERE user_id = :user_id",
            [
                {"user_id": row.user_id, "mobile": encrypt_text(row.mobile or "", ring)}
                for row in rows
            ],
        )


_LOGIN_NAME = re.compile(r"\S+")


def _scrub_audit(renamed: dict[str, str]) -> None:
    """Full numbers out of the audit log: a renamed login by its new name, others masked."""
    from portal.borrowers.masking import mask_numbers_in_text

    def scrubbed(text: str) -> str:
        text = _LOGIN_NAME.sub(lambda word: renamed.get(word.group(), word.group()), text or "")
        return mask_numbers_in_text(text)

    for rows in _batches(
        "SELECT id, actor_name, summary FROM audit_entries "
        "WHERE id > :after ORDER BY id LIMIT :size"
    ):
        changes = []
        for row in rows:
            actor_name, summary = scrubbed(row.actor_name), scrubbed(row.summary)
            if (actor_name, summary) != (row.actor_name or "", row.summary or ""):
                changes.append({"id": row.id, "actor_name": actor_name, "summary": summary})
        _update(
            "UPDATE audit_entries SET actor_name = :actor_name, summary = :summary WHERE id = :id",
            changes,
        )


def downgrade():
    """The numbers decrypted again (the keys are needed); the audit log stays masked."""
    if _sqlite():
        _raw_sqlite("PRAGMA foreign_keys = OFF")
    try:
        _downgrade(_keyring())
    except BaseException:
        if _sqlite():
            _raw_sqlite("PRAGMA foreign_keys = ON", end="ROLLBACK")
        raise
    if _sqlite():
        _raw_sqlite("PRAGMA foreign_keys = ON")


def _downgrade(ring):
    from portal.core.crypto import decrypt_bytes, decrypt_text

    with op.batch_alter_table("care_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_care_outbox_mobile_hash_sent")
    with op.batch_alter_table("borrowers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_borrowers_mobile_hash"))
        batch_op.drop_index(batch_op.f("ix_borrowers_resident_id_hash"))

    def clear(value):
        return None if value is None else decrypt_text(value, ring)

    for rows in _batches(
        "SELECT id, resident_id, mobile, guarantor_phone FROM borrowers "
        "WHERE id > :after ORDER BY id LIMIT :size"
    ):
        _update(
            "UPDATE borrowers SET resident_id = :resident_id, mobile = :mobile, "
            "guarantor_phone = :guarantor_phone WHERE id = :id",
            [
                {
                    "id": row.id,
                    "resident_id": clear(row.resident_id) or "",
                    "mobile": clear(row.mobile) or "",
                    "guarantor_phone": clear(row.guarantor_phone) or "",
                }
                for row in rows
            ],
        )
    for rows in _batches(
        "SELECT borrower_id, content FROM id_card_photos "
        "WHERE borrower_id > :after ORDER BY borrower_id LIMIT :size",
        key="borrower_id",
        size=PHOTO_BATCH,
    ):
        _update(
            "UPDATE id_card_photos SET content = :content WHERE borrower_id = :borrower_id",
            [
                {"borrower_id": r.borrower_id, "content": decrypt_bytes(r.content, ring)}
                for r in rows
            ],
        )
    for rows in _batches(
        "SELECT id, mobile FROM care_outbox WHERE id > :after ORDER BY id LIMIT :size"
    ):
        _update(
            "UPDATE care_outbox SET mobile = :mobile WHERE id = :id",
            [{"id": r.id, "mobile": clear(r.mobile)} for r in rows if r.mobile is not None],
        )
    for rows in _batches(
        "SELECT user_id, mobile FROM staff_sms "
        "WHERE user_id > :after ORDER BY user_id LIMIT :size",
        key="user_id",
    ):
        _update(
            "UPDATE staff_sms SET mobile = :mobile WHERE user_id = :user_id",
            [{"user_id": r.user_id, "mobile": clear(r.mobile) or ""} for r in rows],
        )
    op.execute(
        "UPDATE users SET username = (SELECT borrowers.mobile FROM borrowers "
        "WHERE borrowers.user_id = users.id) "
        "WHERE username LIKE 'borrower:%' AND EXISTS (SELECT 1 FROM borrowers "
        "WHERE borrowers.user_id = users.id AND borrowers.mobile <> '')"
    )

    with op.batch_alter_table("staff_sms", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile", existing_type=sa.Text(), type_=sa.String(length=11),
            existing_nullable=False,
        )
    with op.batch_alter_table("care_outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile", existing_type=sa.Text(), type_=sa.String(length=20),
            existing_nullable=True,
        )
        batch_op.drop_column("mobile_hash")
        batch_op.create_index("ix_care_outbox_mobile_sent", ["mobile", "sent_at"], unique=False)
    with op.batch_alter_table("borrowers", schema=None) as batch_op:
        for name, length in (("resident_id", 18), ("mobile", 11), ("guarantor_phone", 20)):
            batch_op.alter_column(
                name, existing_type=sa.Text(), type_=sa.String(length=length), nullable=False
            )
        batch_op.create_unique_constraint(batch_op.f("uq_borrowers_mobile"), ["mobile"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_borrowers_resident_id"), ["resident_id"]
        )
        batch_op.drop_column("mobile_hash")
        batch_op.drop_column("resident_id_hash")
