"""``flask demo``: demonstration data, refused in production."""

import click
import sqlalchemy as sa
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


@demo_cli.command("generate")
@click.option("--borrowers", type=click.IntRange(1, 2_000_000), default=100_000, show_default=True)
@click.option("--months", type=click.IntRange(1, 60), default=24, show_default=True)
@click.option("--seed", type=int, default=20261122, show_default=True)
@with_appcontext
def generate_command(borrowers: int, months: int, seed: int):
    """Fill an empty database with a large company (for benchmarks)."""
    import time

    from portal.borrowers.models import Borrower
    from portal.demo.generate import generate
    from portal.tiers.stored import refresh_all

    _refuse_in_production()
    if db.session.scalar(sa.select(sa.func.count(Borrower.id))):
        raise click.ClickException("The database already has borrowers; use an empty one.")
    started = time.perf_counter()
    shape = generate(borrowers, months, seed)
    refresh_all()  # the generator inserts in bulk, past the hooks that keep suggestions
    click.echo(
        f"Generated {shape.branches} branches, {shape.officers} officers, "
        f"{borrowers} borrowers and {months} months of visits "
        f"in {time.perf_counter() - started:.0f} s."
    )
