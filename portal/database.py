"""Declarative base, column types and engine tuning shared by every feature."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic's batch mode alter SQLite tables and keep
# migrations identical on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Store naive UTC, hand back aware UTC, refuse naive input."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Model(DeclarativeBase):
    """Base of every mapped class."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _write_lock_wanted() -> bool:
    # Reads start deferred so they never wait for a writer (WAL); anything
    # that may write takes the lock up front so two writers cannot deadlock
    # upgrading from a shared to a reserved lock, and a write never meets a snapshot
    # older than another writer's commit (which SQLite refuses at once, busy or not).
    if not has_request_context():
        return True
    return request.method not in READ_METHODS or g.get("portal_request_writes", False)


def request_writes() -> None:
    """Say that this request writes although its method only reads (a GET that writes
    an audit row, e.g. an export): its next transactions take the write lock up front."""
    g.portal_request_writes = True


def listen_once(target, hooks) -> None:
    """Connect each (event name, function) of ``hooks`` to ``target``, once however often
    the app is assembled (the session hooks that keep stored figures current)."""
    for name, hook in hooks:
        if not sa.event.contains(target, name, hook):
            sa.event.listen(target, name, hook)


def tune_sqlite(engine: Engine, busy_timeout_ms: int = 5000) -> None:
    """Foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE for writers."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let us issue BEGIN ourselves instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_lock_wanted() else "BEGIN")


def enum_type(enum_class: type, length: int = 32) -> sa.Enum:
    """Store a StrEnum by its value, as a plain string column on every database."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def render_migration_type(type_, obj, autogen_context):
    """Write our column types into migrations as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def sqlite_outside_transaction(connection, *statements: str, end: str = "COMMIT") -> None:
    """Run statements SQLite takes only outside a transaction (``PRAGMA foreign_keys``)
    on a migration's ``connection``: its transaction is ended (``end``), they run, a new
    one begins.

    A migration that rebuilds a table other tables point to (Alembic's batch mode on
    SQLite copies it, then drops the old one) turns foreign keys off around the rebuild:
    with them on, dropping the old table fails, or deletes the rows pointing to it
    (``ON DELETE CASCADE``). It checks ``PRAGMA foreign_key_check`` before turning them
    back on.
    """
    raw = connection.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute(end)
    for statement in statements:
        raw.execute(statement)
    raw.execute("BEGIN IMMEDIATE")
