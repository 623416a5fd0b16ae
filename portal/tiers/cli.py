"""``flask tiers``: the nightly refresh of the stored suggestions (docs/tiers.md)."""

import time

import click
from flask.cli import with_appcontext

from portal.core.calendar import local_today


@click.group("tiers")
def tiers_cli():
    """Client tiers."""


@tiers_cli.command("refresh")
@with_appcontext
def refresh_command():
    """Judge every borrower's suggested tier afresh, one branch per transaction.

    Run it each night (after midnight, company time): years with the company and the
    12-month visit window move with the calendar, not with any write.
    """
    from portal.tiers.stored import refresh_all

    started, today = time.perf_counter(), local_today()
    count = refresh_all(today)
    click.echo(
        f"Tier suggestions: {count} borrowers as of {today} "
        f"in {time.perf_counter() - started:.1f} s."
    )
