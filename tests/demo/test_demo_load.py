"""``flask demo load``: the README's logins, idempotent, refused in production."""

import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.branches.models import Branch
from portal.extensions import db, limiter
from portal.visits import counts as compliance_counts


def _counts(app):
    with app.app_context():
        users = db.session.scalar(sa.select(sa.func.count(User.id)))
        branches = db.session.scalar(sa.select(sa.func.count(Branch.id)))
        borrowers = db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.role == Role.BORROWER)
        )
    return users, branches, borrowers


def test_demo_load_creates_the_readme_logins_and_is_idempotent(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = _counts(app)
    assert counts == (7 + 40, 2, 40)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert _counts(app) == counts
    # The months of the demo's loans are counted, and the counts agree with a recount.
    with app.app_context():
        assert compliance_counts.months_with_loans()
        assert compliance_counts.build_missing() == []
        assert compliance_counts.differences() == []
    for username in ("admin", "head1", "head2", "officer1", "officer4", "borrower1", "borrower40"):
        assert client.login(username).status_code == 302, username
        client.logout()
        limiter.reset()  # the suite's limit is 5 logins a minute from one address


def test_demo_borrowers_have_chinese_names(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    with app.app_context():
        names = db.session.scalars(
            sa.select(User.display_name).where(User.role == Role.BORROWER)
        ).all()
    assert all("\u4e00" <= name[0] <= "\u9fff" for name in names)


def test_load_if_empty_leaves_a_used_database_alone(app, world):
    result = app.test_cli_runner().invoke(args=["demo", "load-if-empty"])
    assert "not loaded" in result.output
    assert _counts(app)[1] == 2


def test_demo_data_is_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "refused" in result.output
    assert _counts(app) == (0, 0, 0)
