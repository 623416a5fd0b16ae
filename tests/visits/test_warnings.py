"""A red visit lands in the branch head's queue at once; the head records the action taken."""

import re

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.visits.models import VisitWarning
from tests.visits.conftest import english, only_visit

RED_ANSWERS = {"repayment_status": "overdue", "business_state": "suspended"}


def _red_visit(client, world, visit_form) -> int:
    client.login("officer")
    response = client.submit(
        f"/borrowers/{world.own_borrower.id}/visits/new", visit_form(**RED_ANSWERS)
    )
    client.logout()
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _badge(page: str) -> str | None:
    found = re.search(r'data-testid="warning-count"[^>]*>(\d+)<', page)
    return found.group(1) if found else None


def _warning(app) -> VisitWarning:
    with app.app_context():
        warning = db.session.scalars(sa.select(VisitWarning)).one()
        db.session.expunge(warning)
        return warning


def test_a_red_visit_reaches_the_heads_queue_and_is_acknowledged(client, world, app, visit_form):
    visit_id = _red_visit(client, world, visit_form)
    assert _warning(app).is_open
    client.login("head")
    queue = client.get("/visits/warnings").text
    assert f"/visits/{visit_id}" in queue and world.own_borrower.name in queue
    assert _badge(queue) == "1"  # the menu badge
    assert "红色：还款逾期 + 经营停顿或关闭" in queue
    detail = client.get(f"/visits/{visit_id}").text
    assert 'name="action_taken"' in detail
    response = client.submit(
        f"/visits/{visit_id}/acknowledge",
        {"action_taken": "已约借款人和担保人面谈，暂停续贷。"},
        page=f"/visits/{visit_id}",
    )
    assert response.headers["Location"] == "/visits/warnings"
    warning = _warning(app)
    assert not warning.is_open
    assert (warning.acknowledged_by_id, warning.action_taken) == (
        world.head.id,
        "已约借款人和担保人面谈，暂停续贷。",
    )
    queue = client.get("/visits/warnings").text
    assert f"/visits/{visit_id}" not in queue and "warning-count" not in queue
    assert "已约借款人和担保人面谈" in client.get("/visits/warnings?show=all").text
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "visit.warning_acknowledge" in actions
    again = client.submit(
        f"/visits/{visit_id}/acknowledge", {"action_taken": "再次"}, page="/visits/warnings"
    )
    assert "此预警已经处理过了。" in client.get(again.headers["Location"]).text
    assert _warning(app).action_taken == "已约借款人和担保人面谈，暂停续贷。"
    assert only_visit(app).content_hash  # the signed visit itself is untouched


def test_acknowledging_needs_the_action_taken(client, world, app, visit_form):
    visit_id = _red_visit(client, world, visit_form)
    client.login("head")
    page = client.submit(
        f"/visits/{visit_id}/acknowledge", {"action_taken": "  "}, page=f"/visits/{visit_id}"
    ).text
    assert "请填写针对此预警采取的措施。" in page
    english(client)
    page = client.submit(
        f"/visits/{visit_id}/acknowledge", {"action_taken": ""}, page=f"/visits/{visit_id}"
    ).text
    assert "Describe the action taken on this warning." in page
    long = client.submit(
        f"/visits/{visit_id}/acknowledge", {"action_taken": "x" * 2001}, page=f"/visits/{visit_id}"
    ).text
    assert "Keep this under 2000 characters." in long
    assert _warning(app).is_open


def test_only_the_branch_head_and_admins_see_and_handle_the_warning(client, world, app, visit_form):
    visit_id = _red_visit(client, world, visit_form)
    client.login("otherhead")
    assert "warning-count" not in client.get("/visits/warnings").text
    assert world.own_borrower.name not in client.get("/visits/warnings?show=all").text
    refused = client.submit(
        f"/visits/{visit_id}/acknowledge", {"action_taken": "越权处理"}, page="/visits/warnings"
    )
    assert refused.status_code == 403
    client.logout()
    client.login("officer")
    assert client.get("/visits/warnings").status_code == 403
    assert 'name="action_taken"' not in client.get(f"/visits/{visit_id}").text
    client.logout()
    client.login("admin")
    assert _badge(client.get("/visits/warnings").text) == "1"
    assert _warning(app).is_open


def test_visits_below_red_raise_no_warning(client, world, app, visit_form):
    client.login("officer")
    client.submit(
        f"/borrowers/{world.own_borrower.id}/visits/new",
        visit_form(risk_signals=["new_large_debts", "dispute_lawsuit"]),
    )
    assert only_visit(app).risk_level.value == "orange"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VisitWarning.id))) == 0
