"""Issue 12: the suggestions are stored, kept current in the request that changes their
facts, renewed nightly for what time changes, and the review page reads pages of them."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.borrowers.models import Borrower, Tier
from portal.core.calendar import company_tz, local_today
from portal.extensions import db
from portal.loans.models import Loan
from portal.tiers import queries, stored
from portal.tiers.models import TierSuggestion
from portal.visits.models import Visit
from tests.care.helpers import add_borrower
from tests.tiers.test_tiers import BIG, decide, give_loan, set_tier
from tests.visits.conftest import visit_form_data
from tests.visits.test_query_counts import counted

ROW = re.compile(r'name="picks" value="(\d+):(\w+)"')
RED_ANSWERS = {"funds_use": "partly_diverted", "risk_signals": ["new_large_debts"]}


def visit_answers(token: str, **overrides) -> dict:
    """The POST data of a complete visit form (green unless ``overrides`` say otherwise)."""
    return visit_form_data(token, borrower_opinions="", **overrides)


def suggestion_row(app, borrower_id) -> TierSuggestion | None:
    with app.app_context():
        row = db.session.get(TierSuggestion, borrower_id)
        if row is not None:
            db.session.expunge(row)
        return row


def live_tier(app, borrower_id) -> Tier:
    with app.app_context():
        return queries.suggestions([borrower_id], local_today())[borrower_id].tier


def assert_current(app, borrower_id, tier: Tier) -> TierSuggestion:
    """The stored suggestion is ``tier``, what the rules say now, for the tier in force."""
    row = suggestion_row(app, borrower_id)
    assert row is not None
    with app.app_context():
        in_force = db.session.get(Borrower, borrower_id).tier
    assert (row.tier, row.for_tier, row.as_of) == (tier, in_force, date_today(app))
    assert live_tier(app, borrower_id) == tier
    return row


def date_today(app) -> date:
    with app.app_context():
        return local_today()


def review(client) -> dict[int, str]:
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    return {int(borrower): tier for borrower, tier in ROW.findall(page)}


@pytest.fixture
def strategic(app, world):
    """A strategic borrower with 350,000 lent since 2020 and a clean record."""
    borrower_id = add_borrower(app, world)
    give_loan(app, borrower_id, **BIG)
    set_tier(app, borrower_id, Tier.STRATEGIC)
    return borrower_id


def only_visit_id(app, borrower_id) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Visit.id).where(Visit.borrower_id == borrower_id).order_by(Visit.id.desc())
        )


def test_a_loan_written_by_any_path_stores_the_suggestion(app, world, strategic):
    row = assert_current(app, strategic, Tier.STRATEGIC)
    assert (row.loans, row.red_visits, row.recheck_on) == (1, 0, None)


def test_signing_a_red_visit_then_amending_it_updates_the_suggestion_in_the_request(
    app, client, world, strategic
):
    client.login("officer")
    url = f"/borrowers/{strategic}/visits/new"
    assert client.submit(url, visit_answers("red", **RED_ANSWERS)).status_code == 302
    row = assert_current(app, strategic, Tier.GENERAL)
    assert row.red_visits == 1
    # The red visit counts for a year from its company day (an hour ago: yesterday, just
    # after midnight in the company's time zone).
    with app.app_context():
        visit = db.session.get(Visit, only_visit_id(app, strategic))
        visited_on = visit.visited_at.astimezone(company_tz()).date()
    assert row.recheck_on == visited_on + timedelta(days=366)
    client.logout()
    client.login("head")
    assert review(client)[strategic] == "general"
    client.logout()

    client.login("officer")
    amend = f"/visits/{only_visit_id(app, strategic)}/amend"
    assert client.submit(amend, visit_answers("amended")).status_code == 302
    row = assert_current(app, strategic, Tier.STRATEGIC)
    assert (row.red_visits, row.recheck_on) == (0, None)
    client.logout()
    client.login("head")
    assert strategic not in review(client)


def test_a_loan_going_overdue_updates_the_suggestion_in_the_request(app, client, world, strategic):
    with app.app_context():
        loan_id = db.session.scalar(sa.select(Loan.id).where(Loan.borrower_id == strategic))
    client.login("officer")
    data = {"repayment_status": "overdue", "overdue_days": "15", "outstanding_balance": "1000"}
    assert client.submit(f"/loans/{loan_id}/repayment", data).status_code == 302
    row = assert_current(app, strategic, Tier.KEY)
    assert row.overdue_now and row.max_overdue_days == 15
    client.logout()
    client.login("head")
    assert review(client)[strategic] == "key"


def test_a_decision_updates_the_suggestion_in_the_request(app, client, world):
    borrower_id = add_borrower(app, world)
    give_loan(app, borrower_id, **BIG)
    assert_current(app, borrower_id, Tier.STRATEGIC)  # for the potential tier in force
    client.login("head")
    assert review(client)[borrower_id] == "strategic"
    year = str(date_today(app).year)
    assert decide(client, borrower_id, "key", reason="先观察", period=year).status_code == 302
    row = assert_current(app, borrower_id, Tier.STRATEGIC)
    assert row.for_tier == Tier.KEY
    assert borrower_id not in review(client)  # decided in this period


def test_a_suggestion_past_its_recheck_day_is_judged_again(app, client, world, strategic):
    """Time alone made this one strategic: a stored answer from 2022 is not trusted."""
    with app.app_context():
        stored.refresh([strategic], today=date(2022, 1, 1))
        db.session.commit()
    row = suggestion_row(app, strategic)
    assert (row.tier, row.recheck_on) == (Tier.KEY, date(2022, 3, 2))  # two years with us
    set_tier(app, strategic, Tier.KEY)  # stored again, for the new tier in force
    with app.app_context():
        db.session.execute(
            sa.update(TierSuggestion)
            .where(TierSuggestion.borrower_id == strategic)
            .values(tier=Tier.KEY, as_of=date(2022, 1, 1), recheck_on=date(2022, 3, 2))
        )
        db.session.commit()
    client.login("head")
    assert review(client)[strategic] == "strategic"

    result = app.test_cli_runner().invoke(args=["tiers", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Tier suggestions:" in result.output
    assert_current(app, strategic, Tier.STRATEGIC)
    assert review(client)[strategic] == "strategic"


def test_the_three_year_mark_is_the_recheck_day(app, world):
    borrower_id = add_borrower(app, world)
    first = date_today(app) - timedelta(days=800)
    give_loan(app, borrower_id, approved_amount=BIG["approved_amount"], disbursed_on=first)
    row = assert_current(app, borrower_id, Tier.KEY)
    assert row.recheck_on == first + timedelta(days=1096)  # 3 x 365.25 days, rounded up


def test_rows_written_around_the_portal_are_judged_on_the_spot(app, client, world, strategic):
    """A tier set or a row lost outside the ORM (an import, a restore) is not trusted."""
    other = add_borrower(app, world)
    give_loan(app, other, **BIG)
    with app.app_context():
        db.session.execute(
            sa.update(Borrower).where(Borrower.id == strategic).values(tier=Tier.GENERAL)
        )
        db.session.execute(sa.delete(TierSuggestion).where(TierSuggestion.borrower_id == other))
        db.session.commit()
    client.login("head")
    listed = review(client)
    assert listed[strategic] == "strategic" and listed[other] == "strategic"


def test_a_refused_write_stores_nothing(app, client, world, strategic):
    with app.app_context():
        loan_id = db.session.scalar(sa.select(Loan.id).where(Loan.borrower_id == strategic))
    before = suggestion_row(app, strategic)
    client.login("officer")
    data = {"repayment_status": "overdue", "overdue_days": "0", "outstanding_balance": "1000"}
    client.submit(f"/loans/{loan_id}/repayment", data)
    after = suggestion_row(app, strategic)
    assert (
        (after.tier, after.overdue_now)
        == (before.tier, before.overdue_now)
        == (
            Tier.STRATEGIC,
            False,
        )
    )


def test_the_review_page_runs_a_fixed_number_of_queries(app, client, world):
    def queries_of_the_review() -> int:
        with counted(app) as statements:
            assert client.get("/tiers/review/yearly").status_code == 200
        return len(statements)

    client.login("head")
    for _ in range(3):
        give_loan(app, add_borrower(app, world), **BIG)
    few = queries_of_the_review()
    for _ in range(30):
        give_loan(app, add_borrower(app, world), **BIG)
    assert len(review(client)) == 25  # a page
    assert queries_of_the_review() == few
