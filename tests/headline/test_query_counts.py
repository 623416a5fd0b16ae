"""Both pages run a fixed number of queries, whatever the number of branches, loans and visits."""

from datetime import date

import pytest

from portal.accounts.models import Role
from portal.branches.models import Branch
from portal.core.calendar import Month
from portal.extensions import db
from portal.visits import counts
from tests.factories import BranchFactory, make_borrower, make_user
from tests.headline import dataset
from tests.visits.test_query_counts import counted

PAGES = [
    ("admin", f"/headline/company?{dataset.PERIOD}"),
    ("admin", "/headline/company"),
    ("head", f"/headline/branch?{dataset.PERIOD}"),
    ("admin", "/headline/branch?branch={branch}&from=2025-01&to=2026-11"),
]


def _grow(app, world, built: str) -> None:
    """The hand-made company, then three more branches with borrowers, loans and visits."""
    with app.app_context():
        dataset.build(world, built)
        for n in range(3):
            branch = BranchFactory()
            officer = make_user(f"grown{n}", Role.OFFICER, branch)
            for _ in range(4):
                borrower = make_borrower(officer)
                dataset.lend(borrower, "5000", date(2026, 3, 1), paid_until=date(2026, 5, 1))
                dataset.make_visit(borrower, officer, dataset.local(2026, 4, 9))
        db.session.commit()
        assert db.session.query(Branch).count() == 5


@pytest.mark.parametrize("built", ["never", "after"])
@pytest.mark.parametrize(("username", "path"), PAGES, ids=[p for _, p in PAGES])
def test_the_query_count_does_not_grow(app, client, world, username, path, built):
    path = path.format(branch=world.branch.id)
    if built == "after":  # every month of the pages built, before and after the growth
        with app.app_context():
            counts.build([Month(2015, 1).shift(n) for n in range(12 * 12)])
            db.session.commit()
    client.login(username)

    def measure() -> int:
        client.get(path)  # warm: the first request may load what later ones keep
        with counted(app) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    small = measure()
    _grow(app, world, built)
    assert measure() == small
