"""``flask retention``: apply the retention schedule by hand, list the legal holds
(docs/privacy.md). The worker runs the schedule every night at 00:35 (docs/jobs.md)."""

from datetime import date

import click
from flask.cli import with_appcontext

from portal.core.calendar import local_date, local_today


@click.group("retention")
def retention_cli():
    """Retention of borrowers' data: deletion, anonymisation, legal holds."""


def _day(_context, _param, value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@retention_cli.command("run")
@click.option("--day", callback=_day, help="The day to apply it as of (default: today).")
@with_appcontext
def run_command(day: date | None) -> None:
    """Delete the optional data that is due and anonymise the borrowers that are due
    (what the worker does at 00:35; for catching up by hand). Commits batch by batch."""
    from portal.retention.run import apply

    day = day or local_today()
    click.echo(f"{apply(day)} (as of {day})")


@retention_cli.command("schedule")
@click.option("--locale", default="en", help="The language of the table (en or zh).")
@with_appcontext
def schedule_command(locale: str) -> None:
    """Print the retention schedule as a Markdown table (docs/privacy.md)."""
    from flask_babel import force_locale

    from portal.retention.schedule import SCHEDULE

    with force_locale(locale):
        click.echo("| What | How long | Why | At the end |")
        click.echo("|---|---|---|---|")
        for rule in SCHEDULE:
            click.echo(f"| {rule.what} | {rule.period} | {rule.why} | {rule.end} |")


@retention_cli.command("holds")
@with_appcontext
def holds_command() -> None:
    """List the legal holds in place: the borrowers the run leaves alone."""
    from portal.retention.run import holds_in_place

    holds = holds_in_place()
    if not holds:
        click.echo("No legal hold is in place.")
        return
    click.echo("hold  borrower  branch  placed on   by          reason")
    for hold in holds:
        by = hold.placed_by.username if hold.placed_by else "-"
        click.echo(
            f"{hold.id:>4}  {hold.borrower_id:>8}  {hold.borrower.branch.code:<6}  "
            f"{local_date(hold.placed_at)}  {by:<10}  {hold.reason}"
        )
