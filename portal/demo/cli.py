"""``flask demo``: demonstration data, refused in production."""

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


def _refuse_in_production() -> None:
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("Demo data is refused when PORTAL_ENV=production.")


@click.group("demo")
def demo_cli():
    """Demonstration data."""


@demo_cli.command("load")
@with_appcontext
def load_command():
    """Load the demo branches, staff and borrowers (safe to run again)."""
    from portal.demo.loader import load_demo

    _refuse_in_production()
    summary = load_demo()
    db.session.commit()
    click.echo(summary)


@demo_cli.command("load-if-empty")
@with_appcontext
def load_if_empty_command():
    """Load the demo data only when the database has no accounts yet."""
    from portal.demo.loader import database_is_empty, load_demo

    if not database_is_empty():
        click.echo("Database already has data; demo data not loaded.")
        return
    _refuse_in_production()
    summary = load_demo()
    db.session.commit()
    click.echo(summary)
