"""``flask portfolio``: bring the loans' overdue days to a day; print portfolio quality."""

from datetime import date

import click
from flask.cli import with_appcontext

from portal.core.calendar import local_today
from portal.extensions import db
from portal.portfolio.quality import quality_by_branch
from portal.portfolio.standing import refresh


@click.group("portfolio")
def portfolio_cli():
    """Loans' standing and portfolio quality."""


def _day(_context, _param, value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@portfolio_cli.command("standing")
@click.option("--date", "day", callback=_day, help="The day (default: today, company time).")
@with_appcontext
def standing_command(day: date | None) -> None:
    """Set every active loan's overdue days as its schedule gives them on the day
    (what the worker does at 00:05; for catching up by hand)."""
    day = day or local_today()
    changed = refresh(day)
    db.session.commit()
    click.echo(f"{changed} loans changed as of {day}.")


def _percent(ratio) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


@portfolio_cli.command("par")
@click.option("--date", "day", callback=_day, help="The day (default: today, company time).")
@with_appcontext
def par_command(day: date | None) -> None:
    """Print each branch's portfolio at risk on the day."""
    day = day or local_today()
    click.echo("branch  loans  outstanding  PAR1  PAR30  PAR90  written off  repayment rate")
    for branch_id, q in sorted(quality_by_branch(day).items()):
        click.echo(
            f"{branch_id:>6}  {q.loans:>5}  {q.outstanding:>11,.2f}  {_percent(q.par1_ratio)}"
            f"  {_percent(q.par30_ratio)}  {_percent(q.par90_ratio)}"
            f"  {_percent(q.write_off_ratio)}  {_percent(q.repayment_rate)}"
        )
