"""``flask imports``: the nightly import of a lending system's export, and the keys."""

from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.imports.cli import imports_cli
from portal.imports.models import ImportToken
from portal.imports.operations import token_for
from tests.imports.helpers import csv_bytes, loan_of, scheduled_loan, stored_state, xlsx_bytes


def _run(app, *args):
    return app.test_cli_runner().invoke(imports_cli, list(args))


def test_the_preview_lists_the_problems_and_exits_1_writing_nothing(app, world, tmp_path):
    number = scheduled_loan(app, world)
    path = tmp_path / "repayments.csv"
    path.write_bytes(
        csv_bytes(
            [
                [number, "2026-03-01", "1120.00", "R1", "11000.00"],
                ["NOPE", "2026-03-01", "100", "R2", ""],
            ]
        )
    )
    before = stored_state(app)
    for args in ((), ("--apply",)):
        result = _run(app, "repayments", str(path), *args)
        assert result.exit_code == 1, result.output
        assert "2 rows: 1 to import, 0 imported before, 1 with a problem." in result.output
        assert "row 3 NOPE R2: Unknown contract number." in result.output
    assert stored_state(app) == before


def test_apply_imports_once_however_often_it_runs(app, world, tmp_path):
    number = scheduled_loan(app, world, foreign=True)  # every branch's loans
    path = tmp_path / "repayments.xlsx"
    path.write_bytes(xlsx_bytes([[number, "2026-03-01", "1120.00", "R1", "11000.00"]]))
    preview = _run(app, "repayments", str(path))
    assert preview.exit_code == 0 and "add --apply to import 1 rows" in preview.output
    assert stored_state(app)[0] == []
    applied = _run(app, "repayments", str(path), "--apply")
    assert applied.exit_code == 0, applied.output
    assert "Imported 1; skipped 0" in applied.output
    assert loan_of(app, number).outstanding_balance == Decimal("11000.00")
    after = stored_state(app)
    assert "channel=command" in after[3][0]
    again = _run(app, "repayments", str(path), "--apply")
    assert again.exit_code == 0 and "Imported 0; skipped 1" in again.output
    assert stored_state(app) == after


def test_a_file_that_cannot_be_read_exits_1(app, world, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    result = _run(app, "repayments", str(path))
    assert result.exit_code == 1
    assert "Upload a CSV file or an Excel workbook (.xlsx)." in result.output


def test_keys_are_made_shown_once_listed_and_revoked(app, world):
    made = _run(app, "token", "create", "core lending", "--branch", world.branch.name)
    assert made.exit_code == 0, made.output
    secret = made.output.splitlines()[1]
    with app.app_context():
        token = token_for(secret)
        assert token.branch_id == world.branch.id
        assert secret not in {token.token_hash, token.name}
        token_id = token.id
    listed = _run(app, "token", "list")
    assert f"{token_id}\tcore lending\t{world.branch.name}" in listed.output
    assert secret not in listed.output
    assert _run(app, "token", "revoke", str(token_id)).exit_code == 0
    with app.app_context():
        assert token_for(secret) is None
        assert db.session.scalar(sa.select(ImportToken.revoked_at)) is not None
    assert _run(app, "token", "create", "x", "--branch", "NOPE").exit_code == 2
