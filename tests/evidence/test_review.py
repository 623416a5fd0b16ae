"""The head's "visits to check": the list of a branch and month, a visit's check, the answers."""

import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from markupsafe import escape

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.evidence import rules
from portal.evidence.models import BorrowerSite, ReviewAction, SiteSource, VisitFlag, VisitReview
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.evidence.review_helpers import flag, in_month, last_month, review, signed_visit
from tests.factories import make_borrower, make_loan
from tests.visits.conftest import english

FAR = {"distance_m": 2400, "accuracy_m": 20, "site": "visits"}


@contextmanager
def counted(app):
    """Every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", collect)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", collect)


def _users(world):
    return (
        db.session.get(User, world.officer.id),
        db.session.get(User, world.head.id),
        db.session.get(Borrower, world.own_borrower.id),
    )


@pytest.fixture
def month(app):
    with app.app_context():
        return last_month()


@pytest.fixture
def cast(app, world, month):
    """Last month in the head's branch: a visit to check, a confirmed one, a clean one;
    a flagged visit of the other branch and one of the month before."""
    with app.app_context():
        officer, head, own = _users(world)
        second = make_borrower(officer)
        make_loan(second, LoanStatus.ACTIVE)
        to_check = signed_visit(own, officer, in_month(month, 10))
        flag(to_check, "far_from_site", **FAR)
        flag(to_check, "quick_signing", seconds=35)
        confirmed = signed_visit(second, officer, in_month(month, 12))
        flag(confirmed, "outside_hours", local_time="21:40")
        review(confirmed, ReviewAction.CONFIRMED, head, "电话核实过")
        clean = signed_visit(second, officer, in_month(month, 14))
        earlier = signed_visit(own, officer, in_month(month.shift(-1), 10))
        flag(earlier, "no_fix", location_status="denied")
        foreign = signed_visit(
            db.session.get(Borrower, world.foreign_borrower.id),
            db.session.get(User, world.other_officer.id),
            in_month(month, 11),
        )
        flag(foreign, "quick_signing", seconds=20)
        ids = SimpleNamespace(
            to_check=to_check.id,
            confirmed=confirmed.id,
            clean=clean.id,
            earlier=earlier.id,
            foreign=foreign.id,
            second=second.id,
        )
        db.session.commit()
    with app.test_request_context():  # the reasons as a page in the default language says them
        ids.reasons = {
            f.visit_id: [str(escape(rules.describe(f)))]
            for f in db.session.scalars(sa.select(VisitFlag).order_by(VisitFlag.id))
        }
    return ids


def _listed(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-visit="(\d+)"', page)}


def _reviews(app) -> list[tuple]:
    with app.app_context():
        return [
            (r.visit_id, r.action, r.note, r.reviewed_by_id)
            for r in db.session.scalars(sa.select(VisitReview).order_by(VisitReview.id))
        ]


def test_the_list_shows_the_branchs_flagged_visits_of_the_month_still_to_check(client, cast, month):
    client.login("head")
    page = client.get(f"/evidence/to-check?month={month}").text
    assert _listed(page) == {cast.to_check}
    for text in cast.reasons[cast.to_check]:
        assert text in page
    assert 'data-flag="far_from_site"' in page and 'data-flag="quick_signing"' in page
    assert _listed(client.get(f"/evidence/to-check?month={month}&show=confirmed").text) == {
        cast.confirmed
    }
    everything = client.get(f"/evidence/to-check?month={month}&show=all").text
    assert _listed(everything) == {cast.to_check, cast.confirmed}
    assert "电话核实过" in everything  # the newest check and its note
    assert _listed(client.get(f"/evidence/to-check?month={month.shift(-1)}").text) == {cast.earlier}


def test_the_admin_chooses_the_branch(client, world, cast, month):
    client.login("admin")
    page = client.get(f"/evidence/to-check?month={month}&branch={world.other_branch.id}").text
    assert _listed(page) == {cast.foreign}
    assert 'id="check-branch"' in page


def test_nonsense_in_the_filters_shows_this_month_still_to_check(client, cast):
    client.login("head")
    page = client.get("/evidence/to-check?month=2026-13&show=everything").text
    assert _listed(page) == set()  # this month: nothing flagged yet
    assert '<option value="open" selected' in page


def test_the_head_confirms_a_visit_genuine_once(client, app, world, cast, month):
    client.login("head")
    page = client.get(f"/evidence/visits/{cast.to_check}").text
    for text in cast.reasons[cast.to_check]:
        assert text in page
    assert 'name="action"' in page and 'value="confirmed"' in page
    response = client.submit(
        f"/evidence/visits/{cast.to_check}/review",
        {"action": "confirmed", "note": "本人电话回访，确认走访属实。"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/evidence/to-check?month={month}"
    assert _reviews(app)[-1] == (
        cast.to_check,
        ReviewAction.CONFIRMED,
        "本人电话回访，确认走访属实。",
        world.head.id,
    )
    with app.app_context():
        audit = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "evidence.review_confirmed")
        ).one()
        assert f"visit={cast.to_check}" in audit.summary and audit.actor_id == world.head.id
    assert cast.to_check not in _listed(client.get(f"/evidence/to-check?month={month}").text)
    before = _reviews(app)
    again = client.submit(
        f"/evidence/visits/{cast.to_check}/review", {"action": "confirmed", "note": ""}
    )
    assert again.status_code == 200
    assert _reviews(app) == before


def test_asking_needs_a_question_then_the_officer_answers(client, app, world, cast, month):
    client.login("head")
    url = f"/evidence/visits/{cast.to_check}"
    page = client.submit(f"{url}/review", {"action": "asked", "note": "  "}, page=url)
    assert page.status_code == 200 and "is-invalid" in page.text
    assert _reviews(app) == [(cast.confirmed, ReviewAction.CONFIRMED, "电话核实过", world.head.id)]
    asked = client.submit(f"{url}/review", {"action": "asked", "note": "为什么离经营场所这么远？"})
    assert asked.status_code == 302
    assert _reviews(app)[-1][:3] == (cast.to_check, ReviewAction.ASKED, "为什么离经营场所这么远？")
    waiting = client.get(f"/evidence/to-check?month={month}").text
    assert cast.to_check not in _listed(waiting)
    assert _listed(client.get(f"/evidence/to-check?month={month}&show=asked").text) == {
        cast.to_check
    }
    client.logout()

    client.login("officer")
    questions = client.get("/evidence/questions").text
    assert _listed(questions) == {cast.to_check}
    assert "为什么离经营场所这么远？" in questions
    assert re.search(r'data-testid="question-count"[^>]*>1<', questions)
    check = client.get(url).text
    assert 'id="answer"' in check and 'name="action"' not in check
    empty = client.submit(f"{url}/answer", {"note": ""}, page=url)
    assert empty.status_code == 200 and "is-invalid" in empty.text
    answered = client.submit(f"{url}/answer", {"note": "借款人当天在集市摆摊，在集市见的面。"})
    assert answered.headers["Location"] == "/evidence/questions"
    assert _reviews(app)[-1] == (
        cast.to_check,
        ReviewAction.ANSWERED,
        "借款人当天在集市摆摊，在集市见的面。",
        world.officer.id,
    )
    assert _listed(client.get("/evidence/questions").text) == set()
    before = _reviews(app)
    client.submit(f"{url}/answer", {"note": "再答一次"})
    assert _reviews(app) == before  # nobody is waiting for an answer any more
    client.logout()

    client.login("head")
    back = client.get(f"/evidence/to-check?month={month}").text
    assert cast.to_check in _listed(back) and 'data-state="answered"' in back
    assert "借款人当天在集市摆摊" in back


def test_a_visit_without_flags_has_no_check(client, app, cast):
    client.login("head")
    assert client.get(f"/evidence/visits/{cast.clean}").status_code == 404
    response = client.submit(
        f"/evidence/visits/{cast.clean}/review",
        {"action": "confirmed"},
        page=f"/evidence/visits/{cast.to_check}",
    )
    assert response.status_code == 404
    assert len(_reviews(app)) == 1


def test_a_check_without_the_form_token_writes_nothing(client, app, cast):
    client.login("head")
    response = client.post(
        f"/evidence/visits/{cast.to_check}/review", data={"action": "confirmed", "note": ""}
    )
    assert response.status_code == 400
    assert len(_reviews(app)) == 1


def test_an_unknown_action_is_refused_beside_the_field(client, app, cast):
    client.login("head")
    url = f"/evidence/visits/{cast.to_check}"
    page = client.submit(f"{url}/review", {"action": "answered", "note": "x"})
    assert page.status_code == 200 and "is-invalid" in page.text
    assert len(_reviews(app)) == 1


def test_the_heads_menu_counts_the_visits_to_check(client, app, world, cast, month):
    client.login("head")
    page = client.get("/").text
    # This month and last: the visit to check (the one of the month before is not counted).
    assert re.search(r'data-testid="to-check-count"[^>]*>1<', page)
    client.logout()
    client.login("otherhead")
    assert re.search(r'data-testid="to-check-count"[^>]*>1<', client.get("/").text)
    client.logout()
    client.login("officer")
    assert "to-check-count" not in client.get("/").text


def test_the_check_page_plots_the_visit_against_the_site(client, app, world, month):
    with app.app_context():
        officer, _, own = _users(world)
        db.session.add(
            BorrowerSite(
                borrower_id=own.id, latitude=33.7200, longitude=118.6800, source=SiteSource.VISITS
            )
        )
        visit = signed_visit(
            own, officer, in_month(month), latitude=33.7416, longitude=118.6800, accuracy_m=30
        )
        flag(visit, "far_from_site", distance_m=2402, accuracy_m=30, site="visits")
        db.session.commit()
        visit_id = visit.id
    client.login("head")
    english(client)
    page = client.get(f"/evidence/visits/{visit_id}").text
    assert 'data-testid="distance-plot"' in page
    site = re.search(r'<rect x="([\d.]+)" y="([\d.]+)"[^>]*data-testid="plot-site"', page)
    fix = re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="6"[^>]*data-testid="plot-visit"', page)
    assert site and fix
    assert float(fix.group(2)) < float(site.group(2)) + 6  # north is up
    assert re.search(r'data-testid="distance">2\.4 km from the borrower', page)


def test_the_list_pages_and_its_queries_do_not_grow(client, app, world, month):
    def add(count: int) -> None:
        with app.app_context():
            officer, _, _ = _users(world)
            for i in range(count):
                borrower = make_borrower(officer)
                make_loan(borrower, LoanStatus.ACTIVE)
                visit = signed_visit(borrower, officer, in_month(month, 1 + i % 27, 9 + i % 8))
                flag(visit, "far_from_site", **FAR)
                flag(visit, "text_reused", other_visit_id=visit.id, similarity=0.97)
            db.session.commit()

    client.login("head")
    url = f"/evidence/to-check?month={month}"

    def measure() -> int:
        client.get(url)
        with counted(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    add(3)
    few = measure()
    add(27)
    many = measure()
    assert few == many
    first = client.get(url).text
    assert len(_listed(first)) == 25 and "page=2" in first
    assert len(_listed(client.get(url + "&page=2").text)) == 5


def test_an_admin_checks_any_branch_and_returns_to_its_list(client, app, world, cast, month):
    client.login("admin")
    response = client.submit(
        f"/evidence/visits/{cast.foreign}/review", {"action": "confirmed", "note": ""}
    )
    assert response.headers["Location"] == (
        f"/evidence/to-check?month={month}&branch={world.other_branch.id}"
    )
    assert _reviews(app)[-1][:2] == (cast.foreign, ReviewAction.CONFIRMED)
    client.logout()
    client.login("head")  # the head of the other branch may not
    assert client.get(f"/evidence/visits/{cast.foreign}").status_code == 403
