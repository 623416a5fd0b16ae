"""``flask db backup PATH`` and ``flask db restore PATH`` for SQLite and PostgreSQL."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_cli

from portal.extensions import db


class BackupError(click.ClickException):
    """A backup or restore that could not be done; the message says why."""


def _url() -> sa.URL:
    return db.engine.url


def _libpq_url(url: sa.URL) -> str:
    """The URL pg_dump and pg_restore understand, without the password (see _pg_env)."""
    return url.set(drivername="postgresql", password=None).render_as_string()


def _pg_env(url: sa.URL) -> dict:
    """The password goes through the environment, never the process list."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} not found: install the PostgreSQL client (postgresql-client).")
    return path


def backup_sqlite(source: str, target: Path) -> None:
    """Copy a live SQLite database with the online backup API (consistent under writes)."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


def restore_sqlite(backup: Path, target: str) -> None:
    """Replace the database ``target`` with the content of ``backup``, then check it."""
    with sqlite3.connect(backup) as source:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{backup} is damaged; nothing was restored.")
        with sqlite3.connect(target) as live:
            source.backup(live)


def backup_postgres(url: sa.URL, target: Path) -> None:
    """pg_dump in its custom format, which pg_restore reads."""
    subprocess.run(  # noqa: S603 - an argv list from our own configuration, no shell
        [_require("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
        check=True,
        capture_output=True,
        env=_pg_env(url),
    )


def restore_postgres(backup: Path, url: sa.URL) -> None:
    """pg_restore into ``url``, replacing what is there, in one transaction."""
    subprocess.run(  # noqa: S603 - an argv list from our own configuration, no shell
        [
            _require("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(backup),
        ],
        check=True,
        capture_output=True,
        env=_pg_env(url),
    )


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path):
    """Write a consistent copy of the database to PATH."""
    url = _url()
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file name.")
    if url.get_backend_name() == "sqlite":
        backup_sqlite(url.database, path)
    elif url.get_backend_name() == "postgresql":
        try:
            backup_postgres(url, path)
        except subprocess.CalledProcessError as error:
            raise BackupError(error.stderr.decode(errors="replace").strip()) from error
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")


@db_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool):
    """Replace the database with the backup at PATH."""
    url = _url()
    if current_app.config["PORTAL_ENV"] == "production" and not yes:
        click.confirm(f"Replace the database {url.database} with {path}?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old file open
    if url.get_backend_name() == "sqlite":
        restore_sqlite(path, url.database)
    elif url.get_backend_name() == "postgresql":
        try:
            restore_postgres(path, url)
        except subprocess.CalledProcessError as error:
            raise BackupError(error.stderr.decode(errors="replace").strip()) from error
    else:
        raise BackupError(f"no restore method for {url.get_backend_name()}")
    click.echo(f"Database restored from {path}.")
