"""``flask reports``: print the PDF reports from the command line (batch jobs, the benchmark).

Every export is written to the audit log, as from the web, in the name of ``system``.
"""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

OUTPUT = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the PDF.",
)
LOCALE = click.option(
    "--locale",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the report; default PORTAL_DEFAULT_LOCALE.",
)


@click.group("reports")
def reports_cli():
    """PDF reports."""


def _month(text: str):
    from portal.core.calendar import Month

    try:
        return Month.parse(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a month like 2026-11") from error


def _branch(code: str):
    from portal.reports import queries

    branch = queries.branch_by_code(code)
    if branch is None:
        raise click.BadParameter(f"no branch with the code {code!r}")
    return branch


def _export(output: Path, render, kind: str, target, summary: str) -> None:
    """Render (with the read transaction ended: outside a request SQLite reads take the
    write lock), write the file, then audit the export."""
    from portal.extensions import db
    from portal.reports.operations import record_export

    db.session.commit()
    pdf = render()
    output.write_bytes(pdf)
    record_export(kind, target, f"{summary} (command line)")
    db.session.commit()
    click.echo(f"Wrote {output} ({len(pdf):,} bytes).")


def _language(locale: str | None) -> str:
    return locale or current_app.config["BABEL_DEFAULT_LOCALE"]


@reports_cli.command("visit")
@click.argument("visit_id", type=int)
@OUTPUT
@LOCALE
@with_appcontext
def visit_command(visit_id: int, output: Path, locale: str | None):
    """The report of one signed visit."""
    from portal.extensions import db
    from portal.reports import data
    from portal.reports.rendering import render_report
    from portal.visits.models import Visit

    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise click.BadParameter(f"no visit {visit_id}")
    with force_locale(_language(locale)):
        report = data.visit_report(visit.id)
        summary = f"borrower={visit.borrower_id} month={report.month}"
        _export(output, lambda: render_report(report, data.printing(None)), "visit", visit, summary)


@reports_cli.command("branch-month")
@click.argument("branch_code")
@click.argument("month")
@OUTPUT
@LOCALE
@with_appcontext
def branch_month_command(branch_code: str, month: str, output: Path, locale: str | None):
    """The monthly report of a branch (MONTH as YYYY-MM)."""
    from portal.reports import data, monthly
    from portal.reports.rendering import render_report

    branch, shown = _branch(branch_code), _month(month)
    with force_locale(_language(locale)):
        report = monthly.branch_month_report(branch, shown)
        render = lambda: render_report(report, data.printing(None))  # noqa: E731
        _export(output, render, "branch_month", branch, f"{branch.code} {shown}")


@reports_cli.command("visit-pack")
@click.argument("branch_code")
@click.argument("month")
@OUTPUT
@LOCALE
@click.option("--limit", type=click.IntRange(1), help="Only the first N visits of the month.")
@click.option("--workers", type=click.IntRange(1), help="Processes to render with; default: cores.")
@with_appcontext
def visit_pack_command(branch_code, month, output, locale, limit, workers):
    """Every signed visit report of a branch and month in one PDF, rendered in parallel."""
    from portal.reports import data, pack, queries

    branch, shown = _branch(branch_code), _month(month)
    visits = queries.month_visits(branch.id, shown)[:limit]
    whole = pack.Part(1, visits)
    language = _language(locale)
    with force_locale(language):
        cover = data.pack_cover(branch, shown, whole, 1)
        render = lambda: pack.build(cover, whole.visit_ids, data.printing(None), language, workers)  # noqa: E731
        _export(
            output, render, "visit_pack", branch, f"{branch.code} {shown}: {len(visits)} visits"
        )


@reports_cli.command("warnings")
@click.option("--rebuild", is_flag=True, help="Compute every complete month again and store it.")
@click.option("--check", is_flag=True, help="Compare the stored months with the page's query.")
@with_appcontext
def warnings_command(rebuild: bool, check: bool):
    """Store the figures of "Do the warnings work?" for the complete months not stored yet
    (all of them with --rebuild).

    With --check, nothing is written: each stored month is computed again and compared
    with what is stored; exits with status 1 when they differ.
    """
    from portal.extensions import db
    from portal.reports import warnings

    if check:
        differences = warnings.differences()
        db.session.rollback()
        for month, branch_id, level, stored, computed in differences:
            click.echo(
                f"{month} branch {branch_id} {level or 'no visit'}: stored borrowers/in "
                f"trouble/visited {list(stored)}, computed {list(computed)}"
            )
        click.echo(f"{len(differences)} differences.")
        sys.exit(1 if differences else 0)
    months = warnings.rebuild() if rebuild else warnings.build_missing()
    db.session.commit()
    click.echo(
        f"Stored {len(months)} months" + (f": {months[0]} to {months[-1]}." if months else ".")
    )
