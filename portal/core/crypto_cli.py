"""``flask encryption``: new keys, and the stored values re-encrypted after a key change.

Changing the data key (docs/privacy.md, "Encryption at rest"):

1. ``flask encryption new-key`` prints a new key;
2. put it first in PORTAL_DATA_KEYS, keeping the old ones after it, and restart: new
   writes use it, old values still decrypt;
3. ``flask encryption rotate`` re-encrypts every stored value with the first key, in
   batches, while the portal runs;
4. remove the old keys from PORTAL_DATA_KEYS and restart.

Changing the index key (PORTAL_INDEX_KEY): stop the portal (exact lookups by the old
indexes fail meanwhile), set the new key, run ``flask encryption rotate --reindex``,
start it again.
"""

import secrets

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portal.core import crypto
from portal.extensions import db

BATCH = 2000


@click.group("encryption")
def encryption_cli():
    """Keys of the encryption at rest (docs/privacy.md)."""


@encryption_cli.command("new-key")
@click.option("--index", is_flag=True, help="A key for PORTAL_INDEX_KEY instead.")
def new_key(index: bool):
    """Print a new key for PORTAL_DATA_KEYS (or, with --index, PORTAL_INDEX_KEY)."""
    click.echo(secrets.token_urlsafe(32) if index else crypto.generate_data_key())


@encryption_cli.command("rotate")
@click.option(
    "--reindex", is_flag=True, help="Also recompute the blind indexes (the index key changed)."
)
@click.option("--batch", default=BATCH, show_default=True, help="Rows per transaction.")
@with_appcontext
def rotate(reindex: bool, batch: int):
    """Re-encrypt every encrypted column with the first key of PORTAL_DATA_KEYS."""
    for column, done in rotate_all(reindex=reindex, batch=batch):
        click.echo(f"{column}: {done} values re-encrypted")


def encrypted_columns() -> list[tuple[sa.Table, sa.Column, sa.Column | None]]:
    """(table, encrypted column, its blind index column or None) for every mapped table."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, crypto.EncryptedText | crypto.EncryptedBytes):
                found.append((table, column, table.columns.get(f"{column.name}_hash")))
    return found


def rotate_all(*, reindex: bool = False, batch: int = BATCH):
    """Re-encrypt each column in batches, each committed; yields (column, count)."""
    ring = crypto.keyring()
    for table, column, index in encrypted_columns():
        yield (
            f"{table.name}.{column.name}",
            _rotate_column(ring, table, column, index if reindex else None, batch),
        )


def _rotate_column(ring, table: sa.Table, column: sa.Column, index, batch: int) -> int:
    (key,) = table.primary_key.columns
    # Lightweight columns without the types: the stored tokens as they are, not decrypted.
    raw_key, raw_value = sa.column(key.name), sa.column(column.name)
    raw_index = sa.column(index.name) if index is not None else None
    plain = sa.table(table.name, *(c for c in (raw_key, raw_value, raw_index) if c is not None))
    rotate_one = crypto.rotate_text
    if isinstance(column.type, crypto.EncryptedBytes):  # photos: fewer to a batch
        rotate_one, batch = crypto.rotate_bytes, max(10, batch // 20)
    assignments = {column.name: sa.bindparam("new")}
    if raw_index is not None:
        assignments[index.name] = sa.bindparam("new_index")
    # Only where the value is still the one read: a row the portal changed meanwhile
    # was written with the first key already.
    update = (
        sa.update(plain)
        .where(raw_key == sa.bindparam("row_key"), raw_value == sa.bindparam("old"))
        .values(assignments)
    )
    done, after = 0, None
    while True:
        stmt = (
            sa.select(raw_key, raw_value)
            .where(raw_value.is_not(None))
            .order_by(raw_key)
            .limit(batch)
        )
        if after is not None:
            stmt = stmt.where(raw_key > after)
        rows = db.session.execute(stmt).all()
        if not rows:
            return done
        changes = []
        for row_key, stored in rows:
            change = {"row_key": row_key, "old": stored, "new": rotate_one(stored, ring)}
            if raw_index is not None:
                clear = crypto.decrypt_text(stored, ring)
                change["new_index"] = crypto.blind_index(clear, ring) if clear else None
            changes.append(change)
        db.session.execute(update, changes)
        db.session.commit()
        done += len(changes)
        after = rows[-1][0]
