"""``flask imports``: repayments from a lending system's export (the nightly job), and the
keys the lending system pushes with (docs/imports.md)."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

LOCALES = click.Choice(["en", "zh"])


@click.group("imports")
def imports_cli():
    """Repayments imported from the lending system."""


def _line(row) -> str:
    if row.problems:
        state = "; ".join(str(problem.message) for problem in row.problems)
        return f"  row {row.line} {row.contract_number or '-'} {row.reference or '-'}: {state}"
    return ""


@imports_cli.command("repayments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "applying", is_flag=True, help="Import the rows (all or none).")
@click.option(
    "--locale", type=LOCALES, default="en", show_default=True, help="Language of the problems."
)
@with_appcontext
def repayments_command(path: Path, applying: bool, locale: str):
    """Check a CSV or Excel (.xlsx) export of repayments, every branch's loans; with
    --apply, import it in one transaction. Exits with status 1 when a row has a problem
    (nothing is imported then)."""
    from portal.core.actions import Refused
    from portal.extensions import db
    from portal.imports import checks, operations, reading

    content = path.read_bytes()
    with force_locale(locale):
        try:
            rows = reading.read_file(content, path.name)
            if applying:
                preview = operations.apply(
                    rows,
                    checks.Scope(None),
                    None,
                    channel="command",
                    digest=operations.digest_of(content),
                )
            else:
                preview = checks.check(rows, checks.Scope(None))
        except operations.RowsRefused as refusal:
            db.session.rollback()
            _report(refusal.preview)
            click.echo(str(refusal), err=True)
            sys.exit(1)
        except Refused as refusal:
            db.session.rollback()
            click.echo(f"{path.name}: {refusal}", err=True)
            sys.exit(1)
        _report(preview)
        if applying:
            db.session.commit()
            click.echo(
                f"Imported {len(preview.ready)}; skipped {len(preview.skipped)} imported before."
            )
        else:
            db.session.rollback()
            click.echo(f"Nothing written (add --apply to import {len(preview.ready)} rows).")
    sys.exit(0 if preview.applicable else 1)


def _report(preview) -> None:
    click.echo(
        f"{len(preview.rows)} rows: {len(preview.ready)} to import, "
        f"{len(preview.skipped)} imported before, {len(preview.with_problems)} with a problem."
    )
    for row in preview.with_problems:
        click.echo(_line(row))


@imports_cli.group("token")
def token_cli():
    """The keys a lending system pushes repayments with (POST /api/repayments)."""


@token_cli.command("create")
@click.argument("name")
@click.option("--branch", "branch_code", help="Only this branch's loans (its code); else all.")
@with_appcontext
def token_create(name: str, branch_code: str | None):
    """Make a key; it is printed once and stored only as its hash."""
    import sqlalchemy as sa

    from portal.branches.models import Branch
    from portal.extensions import db
    from portal.imports import operations

    branch_id = None
    if branch_code:
        branch_id = db.session.scalar(sa.select(Branch.id).where(Branch.code == branch_code))
        if branch_id is None:
            raise click.UsageError(f"No branch has the code {branch_code}.")
    token, secret = operations.create_token(name, branch_id)
    db.session.commit()
    click.echo(f"Key {token.id} ({token.name}, {branch_code or 'every branch'}):")
    click.echo(secret)
    click.echo("Keep it now: it is not stored and cannot be shown again.")


@token_cli.command("list")
@with_appcontext
def token_list():
    """Every key: its id, name, branch, and when it was made, last used or revoked."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.imports.models import ImportToken

    for token in db.session.scalars(sa.select(ImportToken).order_by(ImportToken.id)):
        branch = token.branch.code if token.branch else "every branch"
        used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}Z" if token.last_used_at else "unused"
        revoked = f", REVOKED {token.revoked_at:%Y-%m-%d}" if token.revoked_at else ""
        click.echo(
            f"{token.id}\t{token.name}\t{branch}\tmade {token.created_at:%Y-%m-%d}, {used}{revoked}"
        )


@token_cli.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int):
    """Stop a key at once."""
    from portal.extensions import db
    from portal.imports import operations
    from portal.imports.models import ImportToken

    token = db.session.get(ImportToken, token_id)
    if token is None:
        raise click.UsageError(f"No key has the id {token_id}.")
    operations.revoke_token(token)
    db.session.commit()
    click.echo(f"Key {token.id} ({token.name}) revoked.")
