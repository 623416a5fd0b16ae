"""``flask reminders``: the periodic reminders by hand (the worker runs them on its own)."""

import click
from flask.cli import with_appcontext

from portal.care.gateways import ConfigurationError

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group("reminders")
def reminders_cli():
    """Reminders to officers, heads, the admin and borrowers."""


def _run(step) -> None:
    try:
        click.echo(step())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error


@reminders_cli.command("morning")
@click.option("--date", "day", type=DATE, help="The morning (YYYY-MM-DD); default: today.")
@with_appcontext
def morning_command(day):
    """Remind each officer of the visits due and overdue this month (once a day)."""
    from portal.reminders.runs import morning

    _run(lambda: morning(day.date() if day else None))


@reminders_cli.command("escalate")
@with_appcontext
def escalate_command():
    """Alert the branch heads and the admin of red warnings past their deadline (once each)."""
    from portal.reminders.runs import escalation

    _run(escalation)


@reminders_cli.command("sessions")
@click.option("--date", "day", type=DATE, help="The day before the sessions; default: today.")
@with_appcontext
def sessions_command(day):
    """Remind the borrowers of tomorrow's group sessions (once per session date)."""
    from portal.reminders.runs import sessions

    _run(lambda: sessions(day.date() if day else None))
