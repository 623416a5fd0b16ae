"""Tier pages: suggestions from real records, the head's decision, the reviews, history."""

from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower, Tier
from portal.core.calendar import local_today
from portal.extensions import db
from portal.loans.models import LoanStatus, RepaymentStatus
from portal.tiers.models import Decision, TierChange
from portal.visits.risk import RiskSignal
from tests.care.helpers import add_borrower
from tests.factories import make_loan
from tests.visits.helpers import make_visit

BIG = {"approved_amount": Decimal("350000.00"), "disbursed_on": date(2020, 3, 1)}
RED = frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})


_contracts = iter(range(10**6))


def give_loan(app, borrower_id, status=LoanStatus.ACTIVE, **overrides):
    with app.app_context():
        number = f"T-{borrower_id}-{next(_contracts)}"
        borrower = db.session.get(Borrower, borrower_id)
        make_loan(borrower, status, **({"contract_number": number} | overrides))
        db.session.commit()


def decide(client, borrower_id, tier, reason="", period="", page=None):
    """POST the decision form, whose fields carry the borrower's prefix."""
    prefix = f"b{borrower_id}-"
    token = client.csrf_token(page or f"/tiers/borrowers/{borrower_id}")
    data = {"tier": tier, "reason": reason, "period": period, "next": "", "csrf_token": token}
    return client.post(
        f"/tiers/borrowers/{borrower_id}", data={prefix + key: value for key, value in data.items()}
    )


def tier_of(app, borrower_id) -> Tier:
    with app.app_context():
        return db.session.get(Borrower, borrower_id).tier


def set_tier(app, borrower_id, tier: Tier) -> None:
    with app.app_context():
        db.session.get(Borrower, borrower_id).tier = tier
        db.session.commit()


def changes(app) -> list[TierChange]:
    with app.app_context():
        rows = db.session.scalars(sa.select(TierChange).order_by(TierChange.id)).all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def big_client(app, world):
    """A borrower of the World's officer with 350,000 lent since 2020, clean record."""
    borrower_id = add_borrower(app, world)
    give_loan(app, borrower_id, **BIG)
    return borrower_id


def test_suggestion_and_reasons_come_from_the_loans(app, client, world, big_client):
    client.login("officer")
    page = client.get(f"/tiers/borrowers/{big_client}").get_data(as_text=True)
    assert 'data-tier="strategic"' in page
    assert "1 笔贷款共放款 350,000 元" in page
    assert "设定层级" not in page  # officers see, heads decide


def test_overdue_loan_lowers_the_suggestion(app, client, world, big_client):
    give_loan(app, big_client, repayment_status=RepaymentStatus.OVERDUE, overdue_days=12, **BIG)
    set_tier(app, big_client, Tier.STRATEGIC)  # a mark never raises, so start above
    client.login("head")
    page = client.get(f"/tiers/borrowers/{big_client}").get_data(as_text=True)
    assert "还款逾期" in page
    assert f'name="b{big_client}-tier"' in page
    assert '<option selected value="key">' in page


def test_head_confirms_the_suggestion(app, client, world, big_client):
    client.login("head")
    response = decide(client, big_client, "strategic")
    assert response.status_code == 302
    assert tier_of(app, big_client) == Tier.STRATEGIC
    (change,) = changes(app)
    assert (change.from_tier, change.to_tier, change.decision) == (
        Tier.POTENTIAL,
        Tier.STRATEGIC,
        Decision.CONFIRMED,
    )
    page = client.get(f"/tiers/borrowers/{big_client}").get_data(as_text=True)
    assert "确认建议" in page


def test_override_needs_a_reason_in_both_languages(app, client, world, big_client):
    client.login("head")
    page = decide(client, big_client, "general").get_data(as_text=True)
    assert "选择与建议不同的层级时，请填写理由。" in page
    client.submit("/language", {"locale": "en"}, page="/account")
    page = decide(client, big_client, "general", reason="   ").get_data(as_text=True)
    assert "Give a reason when choosing another tier than the suggested one." in page
    assert tier_of(app, big_client) == Tier.POTENTIAL and changes(app) == []

    decide(client, big_client, "general", reason="大额贷款刚结清，观察一年")
    (change,) = changes(app)
    assert (change.to_tier, change.decision, change.reason) == (
        Tier.GENERAL,
        Decision.OVERRIDDEN,
        "大额贷款刚结清，观察一年",
    )


def test_tampered_tier_or_period_is_refused(app, client, world, big_client):
    client.login("head")
    page = decide(client, big_client, "emperor").get_data(as_text=True)
    assert "不是有效的选择。" in page
    decide(client, big_client, "strategic", period="1999")
    assert changes(app) == []


def test_officer_and_other_branch_head_cannot_decide(app, client, world, big_client):
    client.login("officer")
    assert decide(client, big_client, "strategic", page="/account").status_code == 403
    client.logout()
    client.login("otherhead")
    assert decide(client, big_client, "strategic", page="/account").status_code == 403
    assert changes(app) == []


def test_yearly_setting_lists_differences_until_decided(app, client, world, big_client):
    small = add_borrower(app, world)
    give_loan(app, small, approved_amount=Decimal("20000.00"))
    client.login("head")
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    with app.app_context():
        year = str(local_today().year)
    assert f"{year} 年度设定" in page
    assert page.count('data-testid="review-row"') == 3  # both new ones and the World's
    decide(client, big_client, "strategic", period=year, page="/tiers/review/yearly")
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert page.count('data-testid="review-row"') == 2
    assert f"/tiers/borrowers/{big_client}" not in page
    # The half-yearly review is another period: the decision does not count there,
    # but the suggestion now matches the tier, so the borrower is not listed either.
    half = client.get("/tiers/review/half-yearly").get_data(as_text=True)
    assert half.count('data-testid="review-row"') == 2


class _RowForm(HTMLParser):
    """The fields of the one form on a page whose action is ``action``, as the browser sends them."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self.select = action, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif self.inside and tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif self.inside and tag == "textarea":
            self.fields[attrs["name"]] = ""
        elif self.inside and tag == "select":
            self.select = attrs["name"]
        elif self.inside and tag == "option" and "selected" in attrs:
            self.fields[self.select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def test_a_review_rows_form_sets_the_tier_as_the_page_wrote_it(app, client, world, big_client):
    client.login("head")
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    action = f"/tiers/borrowers/{big_client}"
    form = _RowForm(action)
    form.feed(page)
    prefix = f"b{big_client}-"
    assert set(form.fields) == {
        prefix + name for name in ("csrf_token", "period", "next", "tier", "reason")
    }
    with app.app_context():
        assert form.fields[prefix + "period"] == str(local_today().year)
    suggested = form.fields[prefix + "tier"]
    other = next(tier.value for tier in Tier if tier.value != suggested)
    # Another tier than the suggested one needs a reason, as on the borrower's page.
    refused = client.post(action, data=form.fields | {prefix + "tier": other})
    assert "选择与建议不同的层级时，请填写理由。" in refused.get_data(as_text=True)
    assert tier_of(app, big_client) != Tier(other)
    answer = client.post(
        action,
        data=form.fields
        | {prefix + "tier": other, prefix + "reason": "Known to the branch for years"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/tiers/review/yearly")
    assert tier_of(app, big_client) == Tier(other)


def test_review_lists_only_the_heads_branch(app, client, world, big_client):
    client.login("otherhead")
    page = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert world.own_borrower.name not in page
    assert world.foreign_borrower.name in page


def test_tier_list_filters_by_tier(app, client, world, big_client):
    client.login("head")
    decide(client, big_client, "strategic")
    page = client.get("/tiers/?tier=strategic").get_data(as_text=True)
    assert page.count("/tiers/borrowers/") == 1
    page = client.get("/tiers/?tier=potential").get_data(as_text=True)
    assert world.own_borrower.name in page


def test_strategic_list_for_holiday_visits_shows_only_visible_borrowers(
    app, client, world, big_client
):
    with app.app_context():
        db.session.execute(
            sa.update(Borrower)
            .where(Borrower.id.in_([big_client, world.foreign_borrower.id]))
            .values(tier=Tier.STRATEGIC)
        )
        db.session.commit()
        name = db.session.get(Borrower, big_client).full_name
    client.login("officer")
    page = client.get("/care/strategic").get_data(as_text=True)
    assert name in page and world.foreign_borrower.name not in page
    client.logout()
    client.login("admin")
    page = client.get("/care/strategic").get_data(as_text=True)
    assert name in page and world.foreign_borrower.name in page


def red_visit(app, world, borrower_id) -> None:
    with app.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        officer = db.session.get(User, world.officer.id)
        when = datetime.combine(local_today(), datetime.min.time(), tzinfo=UTC)
        make_visit(borrower, officer, when, risk_signals=RED)
        db.session.commit()


def test_red_visit_caps_a_strategic_borrower_at_general(app, client, world, big_client):
    red_visit(app, world, big_client)
    set_tier(app, big_client, Tier.STRATEGIC)
    client.login("head")
    page = client.get(f"/tiers/borrowers/{big_client}").get_data(as_text=True)
    assert "近 12 个月回访有红色预警" in page
    assert '<option selected value="general">' in page


def test_red_visit_on_record_caps_the_suggestion(app, client, world, big_client):
    red_visit(app, world, big_client)
    client.login("head")
    page = client.get(f"/tiers/borrowers/{big_client}").get_data(as_text=True)
    assert "近 12 个月回访有红色预警" in page
    assert "无回访风险数据" not in page
