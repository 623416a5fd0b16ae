"""The officer's day plan: who is offered, in which order, saving and re-planning, the head's view."""

import re

import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.core.calendar import current_month, local_today
from portal.extensions import db
from portal.fieldkit import queries
from portal.fieldkit.models import DayPlan
from portal.loans.models import LoanStatus
from tests.factories import make_borrower, make_loan
from tests.fieldkit.conftest import earlier_today
from tests.fieldkit.helpers import make_plan
from tests.visits.helpers import make_visit

OFFERED = re.compile(r'name="borrower_ids" value="(\d+)"[^>]*?( checked)?>')


def _offered(response) -> list[tuple[int, bool]]:
    return [(int(i), bool(c)) for i, c in OFFERED.findall(response.get_data(as_text=True))]


def _plan(app, officer_id):
    with app.app_context():
        plan = queries.plan_of(officer_id, local_today())
        if plan is None:
            return None
        return {
            "ids": [s.borrower_id for s in plan.stops],
            "created_at": plan.created_at,
            "replanned_at": plan.replanned_at,
        }


def test_the_month_page_links_to_the_plan(client, world):
    client.login("officer")
    page = client.get("/visits/month").get_data(as_text=True)
    assert 'href="/field/plan"' in page


def test_due_and_overdue_first_grouped_by_village_most_urgent_first(client, world, villages):
    client.login("officer")
    response = client.get("/field/plan")
    assert response.status_code == 200
    offered = _offered(response)
    ids = [i for i, _ in offered]
    v = {key: ref.id for key, ref in villages.items()}
    # Overdue villages first (西村 and the World's own borrower never visited), then 东村:
    # red before green; visited this month (南村) last; nobody of another officer.
    assert ids.index(v["west_never"]) < ids.index(v["east_red"]) < ids.index(v["east_green"])
    assert ids[-1] == v["south_done"]
    assert world.own_borrower.id in ids and world.foreign_borrower.id not in ids
    # The suggested plan: the borrowers still to visit, ticked; the visited one not.
    checked = {i for i, c in offered if c}
    assert checked == {world.own_borrower.id, v["west_never"], v["east_red"], v["east_green"]}


def test_saving_then_replanning_the_same_day_replaces_the_list(client, app, world, villages):
    client.login("officer")
    east = [villages["east_red"].id, villages["east_green"].id]
    response = client.submit("/field/plan", {"borrower_ids": east})
    assert response.status_code == 302
    first = _plan(app, world.officer.id)
    assert first["ids"] == east and first["replanned_at"] is None
    # The page now ticks the saved plan.
    assert {i for i, c in _offered(client.get("/field/plan")) if c} == set(east)

    response = client.submit("/field/plan", {"borrower_ids": [villages["west_never"].id]})
    assert response.status_code == 302
    second = _plan(app, world.officer.id)
    assert second["ids"] == [villages["west_never"].id]
    assert second["created_at"] == first["created_at"] and second["replanned_at"] is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DayPlan.id))) == 1
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("fieldkit.%"))
        ).all()
        assert actions == ["fieldkit.plan", "fieldkit.replan"]


def test_only_the_officers_own_borrowers_can_be_planned(client, app, world, villages):
    client.login("officer")
    response = client.submit(
        "/field/plan", {"borrower_ids": [villages["east_red"].id, world.foreign_borrower.id]}
    )
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.get_data(as_text=True)
    assert _plan(app, world.officer.id) is None
    response = client.submit("/field/plan", {})
    assert response.status_code == 200 and _plan(app, world.officer.id) is None


def test_only_officers_plan(client, world):
    for who in ("head", "admin", "borrower"):
        client.login(who)
        assert client.get("/field/plan").status_code == 403
        client.logout()


def test_the_head_sees_planned_vs_done_for_the_month(client, app, world, villages):
    with app.app_context():
        make_plan(
            world.officer.id,
            [villages["east_red"].id, villages["east_green"].id, villages["west_never"].id],
        )
        officer = db.session.get(User, world.officer.id)
        make_visit(db.session.get(Borrower, villages["east_red"].id), officer, earlier_today(30))
        db.session.commit()
        rows = queries.planned_vs_done(world.branch.id, current_month())
        assert [(r.officer_id, r.plans, r.planned, r.done) for r in rows] == [
            (world.officer.id, 1, 3, 1)
        ]
        assert queries.planned_vs_done(world.other_branch.id, current_month()) == []
    client.login("head")
    page = client.get("/visits/compliance").get_data(as_text=True)
    table = page[page.index('data-testid="planned-vs-done"') :]
    row = table[table.index(f'data-officer="{world.officer.id}"') :].split("</tr>")[0]
    assert re.findall(r'<td class="text-end">(\d+)', row) == ["1", "3", "1"]


def test_a_loan_closed_since_the_20th_is_not_offered(client, app, world, villages):
    """It owed this month's visit, but without an active loan there is nothing to follow up."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        month = current_month()
        closed = make_borrower(officer, village="东村")
        make_loan(closed, LoanStatus.CLOSED, disbursed_on=month.day(1), closed_on=month.day(21))
        db.session.commit()
        closed_id = closed.id
    client.login("officer")
    offered = [i for i, _ in _offered(client.get("/field/plan"))]
    assert villages["east_red"].id in offered and closed_id not in offered
    response = client.submit("/field/plan", {"borrower_ids": [closed_id]})
    assert _plan(app, world.officer.id) is None and response.status_code == 200
