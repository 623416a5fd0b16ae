"""Issue 20: the head confirms many suggestions at once, audited per borrower."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.borrowers.models import Tier
from portal.core.calendar import local_today
from portal.extensions import db
from portal.tiers.models import Decision
from tests.care.helpers import add_borrower
from tests.tiers.test_tiers import BIG, changes, give_loan, set_tier, tier_of

PICK = re.compile(r'form="bulk-confirm" name="picks" value="(\d+):(\w+)"')
URL = "/tiers/review/yearly/confirm"


@pytest.fixture
def two(app, world):
    """Two potential borrowers of the head's branch the rules would raise."""
    big = add_borrower(app, world)
    give_loan(app, big, **BIG)
    small = add_borrower(app, world)
    give_loan(app, small, approved_amount=Decimal("20000.00"))
    return big, small


def picks(client) -> dict[int, str]:
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    return {int(borrower): tier for borrower, tier in PICK.findall(page)}


def confirm(client, values, note="", **extra):
    data = {"picks": values, "note": note, "next": "/tiers/review/yearly", **extra}
    return client.submit(URL, data, page="/tiers/review/yearly")


def audits(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "tier.decide")
        ).all()
        db.session.expunge_all()
        return rows


def test_head_confirms_the_picked_suggestions_with_one_note(app, client, world, two):
    big, small = two
    client.login("head")
    shown = picks(client)
    assert shown[big] == "strategic" and shown[small] == "general"
    response = confirm(client, [f"{big}:strategic", f"{small}:general"], note="年度设定，已核对")
    assert response.status_code == 302
    assert tier_of(app, big) == Tier.STRATEGIC and tier_of(app, small) == Tier.GENERAL
    with app.app_context():
        year = str(local_today().year)
    decided = changes(app)
    assert {(c.borrower_id, c.to_tier, c.decision, c.reason, c.period) for c in decided} == {
        (big, Tier.STRATEGIC, Decision.CONFIRMED, "年度设定，已核对", year),
        (small, Tier.GENERAL, Decision.CONFIRMED, "年度设定，已核对", year),
    }
    assert sorted(int(a.object_id) for a in audits(app)) == sorted([big, small])
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert "已确认 2 条建议。" in page
    assert f"{big}:" not in page and f"{small}:" not in page


def test_the_review_page_offers_one_bulk_form(app, client, world, two):
    client.login("head")
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert page.count('data-testid="bulk-confirm"') == 1
    assert len(PICK.findall(page)) == page.count('data-testid="review-row"')


def test_without_csrf_nothing_is_confirmed(app, client, world, two):
    big, _small = two
    client.login("head")
    response = client.post(URL, data={"picks": [f"{big}:strategic"]})
    assert response.status_code == 400
    assert changes(app) == []


def test_a_borrower_of_another_branch_refuses_the_whole_batch(app, client, world, two):
    big, _small = two
    client.login("head")
    foreign = world.foreign_borrower.id
    response = confirm(client, [f"{big}:strategic", f"{foreign}:general"])
    assert response.status_code == 404
    response = confirm(client, [f"{big}:strategic", "999999:general"])
    assert response.status_code == 404
    assert changes(app) == [] and tier_of(app, big) == Tier.POTENTIAL


def test_the_admin_confirms_in_any_branch_the_officer_not_at_all(app, client, world, two):
    big, _small = two
    client.login("officer")
    assert confirm(client, [f"{big}:strategic"]).status_code == 403
    client.logout()
    client.login("admin")
    assert confirm(client, [f"{big}:strategic"]).status_code == 302
    assert tier_of(app, big) == Tier.STRATEGIC


def test_a_changed_suggestion_or_a_second_submit_confirms_nothing(app, client, world, two):
    big, small = two
    client.login("head")
    set_tier(app, big, Tier.KEY)  # unrelated to the suggestion; still strategic
    give_loan(app, small, **BIG)  # the small one's suggestion is now strategic
    confirm(client, [f"{big}:strategic", f"{small}:general"])
    assert changes(app) == []
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert "页面显示后有建议发生了变化，未确认任何建议。" in page
    assert confirm(client, [f"{big}:strategic"]).status_code == 302
    assert len(changes(app)) == 1
    confirm(client, [f"{big}:strategic"])  # the same page submitted again
    assert len(changes(app)) == 1
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert "其中部分借款人本期已经定级。" in page


@pytest.mark.parametrize("values", [[], ["x:strategic"], ["1:emperor"], ["99999999999:key"]])
def test_an_empty_or_tampered_selection_is_refused(app, client, world, two, values):
    client.login("head")
    assert confirm(client, values).status_code == 302
    assert changes(app) == []
