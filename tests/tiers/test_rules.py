"""The tier rule table of docs/tiers.md, on hand-built histories."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.borrowers.models import Tier
from portal.tiers.rules import RiskHistory, TierFacts, suggest

TODAY = date(2026, 11, 1)
CLEAN = RiskHistory()


def facts(lent: int, years: float, **marks) -> TierFacts:
    first = TODAY - timedelta(days=round(years * 365.25) + 1)
    return TierFacts(
        lent_total=Decimal(lent),
        loans=max(1, lent // 100_000),
        first_disbursed=first,
        risk=marks.pop("risk", CLEAN),
        **marks,
    )


@pytest.fixture
def request_ctx(app):
    """Reasons are translated strings: Chinese, the default language."""
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (TierFacts(), Tier.POTENTIAL),
        (TierFacts(loans=0, risk=CLEAN), Tier.POTENTIAL),
        (facts(50_000, 0.5), Tier.GENERAL),
        (facts(99_999, 1), Tier.GENERAL),
        (facts(100_000, 0.5), Tier.KEY),
        (facts(60_000, 2), Tier.KEY),
        (facts(49_999, 10), Tier.GENERAL),
        (facts(300_000, 3), Tier.STRATEGIC),
        (facts(350_000, 2), Tier.KEY),
        (facts(290_000, 9), Tier.KEY),
        # A minor mark lowers the tier one step, never below general.
        (facts(350_000, 4, overdue_now=True), Tier.KEY),
        (facts(350_000, 4, max_overdue_days=15), Tier.KEY),
        (facts(350_000, 4, risk=RiskHistory(orange=1)), Tier.KEY),
        (facts(120_000, 1, overdue_now=True), Tier.GENERAL),
        (facts(50_000, 0.5, overdue_now=True), Tier.GENERAL),
        # A serious mark caps the tier at general.
        (facts(500_000, 8, written_off=True), Tier.GENERAL),
        (facts(500_000, 8, max_overdue_days=90), Tier.GENERAL),
        (facts(500_000, 8, risk=RiskHistory(red=1)), Tier.GENERAL),
        # Without visit data the loans decide alone.
        (facts(300_000, 3, risk=None), Tier.STRATEGIC),
        # Marks hold a tier down: never suggested above the tier in force (issue 20).
        (facts(50_000, 1, written_off=True, tier=Tier.POTENTIAL), Tier.POTENTIAL),
        (facts(50_000, 1, max_overdue_days=157, tier=Tier.POTENTIAL), Tier.POTENTIAL),
        (facts(50_000, 1, risk=RiskHistory(red=1), tier=Tier.POTENTIAL), Tier.POTENTIAL),
        (facts(500_000, 8, written_off=True, tier=Tier.POTENTIAL), Tier.POTENTIAL),
        (facts(500_000, 8, max_overdue_days=157, tier=Tier.STRATEGIC), Tier.GENERAL),
        (facts(500_000, 8, risk=RiskHistory(red=1), tier=Tier.KEY), Tier.GENERAL),
        (facts(50_000, 1, overdue_now=True, tier=Tier.POTENTIAL), Tier.POTENTIAL),
        (facts(350_000, 4, max_overdue_days=15, tier=Tier.GENERAL), Tier.GENERAL),
        (facts(350_000, 4, risk=RiskHistory(orange=1), tier=Tier.GENERAL), Tier.GENERAL),
        (facts(350_000, 4, overdue_now=True, tier=Tier.STRATEGIC), Tier.KEY),
        # A clean record may still be raised.
        (facts(350_000, 4, tier=Tier.POTENTIAL), Tier.STRATEGIC),
    ],
)
def test_suggestion(request_ctx, history, expected):
    assert suggest(history, TODAY).tier == expected


def test_reasons_name_the_facts_and_the_marks(request_ctx):
    suggestion = suggest(facts(350_000, 4, overdue_now=True, risk=RiskHistory(red=2)), TODAY)
    reasons = [str(reason) for reason in suggestion.reasons]
    assert reasons == [
        "3 笔贷款共放款 350,000 元",
        "合作 4.0 年",
        "近 12 个月回访有红色预警",
    ]


def test_reasons_say_when_visit_data_is_missing(request_ctx):
    reasons = [str(r) for r in suggest(facts(50_000, 1, risk=None), TODAY).reasons]
    assert "无回访风险数据" in reasons
    assert [str(r) for r in suggest(TierFacts(), TODAY).reasons] == ["尚无签约贷款"]
