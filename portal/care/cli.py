"""``flask care``: the daily greeting job and its retries (see docs/care.md for cron/systemd)."""

import click
from flask.cli import with_appcontext

from portal.care.gateways import ConfigurationError
from portal.core.calendar import local_today


@click.group("care")
def care_cli():
    """Care greetings."""


@care_cli.command("send-due")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to send for (YYYY-MM-DD); default: today in PORTAL_TIMEZONE.",
)
@with_appcontext
def send_due_command(day):
    """Queue the greetings due on the day once each, then send what may be sent."""
    from portal.care.sending import send_due

    try:
        report = send_due(day.date() if day else local_today())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Greetings: {report}.")


@care_cli.command("retry")
@with_appcontext
def retry_command():
    """Send again the failed greetings whose back-off has passed."""
    from portal.care.sending import deliver_due

    try:
        report = deliver_due()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Greetings: {report}.")


@care_cli.command("sms-status")
@with_appcontext
def sms_status_command():
    """Ask the SMS provider about sent greetings no delivery receipt has reached yet."""
    from portal.care.sending import query_statuses

    try:
        report = query_statuses()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"SMS delivery status: {report}.")


@care_cli.command("sms-templates")
@click.argument("path", required=False)
@with_appcontext
def sms_templates_command(path):
    """Check the registry of approved SMS templates (default: SMS_TEMPLATES_FILE) and list it."""
    from flask import current_app

    from portal.care import sms_templates

    try:
        registry = sms_templates.load(path or current_app.config["SMS_TEMPLATES_FILE"])
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    for provider, entries in sorted(registry.templates.items()):
        for key, template in sorted(entries.items()):
            values = ", ".join(f"{variable}={value}" for variable, value in template.variables)
            click.echo(f"{provider}  {key}  {template.code}  {template.kind}  [{values}]")
    click.echo("The registry is fine.")
