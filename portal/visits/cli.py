"""``flask visits``: verify the borrowers' chains of signed visits (docs/visit-evidence.md),
build the compliance counts (docs/visits.md)."""

import sys

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

# Borrowers verified per read transaction: on SQLite a command's transaction holds the
# write lock, so it is ended between batches and the app's writers wait only briefly.
BATCH = 50


@click.group("visits")
def visits_cli():
    """Signed follow-up visits."""


def _line(record) -> str:
    if not record.ok:
        state = f"BREAKS THE CHAIN: {record.reason}"
    elif record.before_chain:
        state = "verified alone (before the chain)"
    else:
        state = "verified"
    amends = f" amends {record.amends_id}" if record.amends_id else ""
    return (
        f"  visit {record.visit_id}{amends} signed {record.signed_at:%Y-%m-%d %H:%M:%S}Z "
        f"hash {record.content_hash[:16]}: {state}"
    )


def _summary(check) -> str:
    broken = check.first_break
    if broken is None:
        return f"Borrower {check.borrower_id}: the chain holds ({len(check.records)} records)."
    return (
        f"Borrower {check.borrower_id}: the chain breaks at visit {broken.visit_id}: "
        f"{broken.reason}"
    )


@visits_cli.command("verify-chain")
@click.option("--borrower", "borrower_id", type=int, help="Verify this borrower's chain.")
@click.option("--all", "every", is_flag=True, help="Verify every borrower's chain.")
@with_appcontext
def verify_chain_command(borrower_id: int | None, every: bool):
    """Recompute each signed visit's hash and check each link of the borrower's chain.

    Exits with status 1 when a chain breaks, naming the first record that breaks it.
    """
    from portal.borrowers.models import Borrower
    from portal.extensions import db
    from portal.visits import chain

    if (borrower_id is None) == (not every):
        raise click.UsageError("Give either --borrower ID or --all.")
    with force_locale("en"):
        if not every:
            if db.session.get(Borrower, borrower_id) is None:
                raise click.BadParameter(f"no borrower {borrower_id}", param_hint="--borrower")
            check = chain.verify_chain(borrower_id)
            for record in check.records:
                click.echo(_line(record))
            click.echo(_summary(check))
            db.session.rollback()
            sys.exit(0 if check.ok else 1)
        ids = chain.borrowers_with_visits()
        db.session.rollback()
        borrowers = records = breaks = 0
        for start in range(0, len(ids), BATCH):
            for check in chain.verify_chains(ids[start : start + BATCH]):
                borrowers += 1
                records += len(check.records)
                if not check.ok:
                    breaks += 1
                    click.echo(_summary(check))
            db.session.rollback()  # the read transaction ends between batches
        if breaks:
            click.echo(f"{breaks} of {borrowers} chains break ({records} records verified).")
            sys.exit(1)
        click.echo(f"All {borrowers} chains hold ({records} records verified).")


@visits_cli.command("counts")
@click.option("--rebuild", is_flag=True, help="Forget every count and count every month again.")
@click.option("--check", is_flag=True, help="Compare the kept counts with a count from scratch.")
@with_appcontext
def counts_command(rebuild: bool, check: bool):
    """Build the compliance counts of the months not counted yet (all of them with --rebuild).

    With --check, nothing is written: each built month is counted from scratch and
    compared with the kept counts; exits with status 1 when they differ.
    """
    from portal.extensions import db
    from portal.visits import counts

    if check:
        differences = counts.differences()
        db.session.rollback()
        for month, branch_id, officer_id, kept, counted in differences:
            click.echo(
                f"{month} branch {branch_id} officer {officer_id}: "
                f"kept owed/done {kept}, counted {counted}"
            )
        click.echo(f"{len(differences)} differences.")
        sys.exit(1 if differences else 0)
    months = counts.rebuild() if rebuild else counts.build_missing()
    db.session.commit()
    click.echo(
        f"Counted {len(months)} months" + (f": {months[0]} to {months[-1]}." if months else ".")
    )
