"""The tier the portal suggests for a borrower: one rule table, documented in docs/tiers.md.

Pure module: facts in, suggestion out; no database, no request.
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from portal.borrowers.models import Tier

STRATEGIC_LENT = Decimal(300_000)
STRATEGIC_YEARS = 3
KEY_LENT = Decimal(100_000)
KEY_LENT_LONG_STANDING = Decimal(50_000)
KEY_YEARS = 2
SERIOUS_OVERDUE_DAYS = 90
ORDER = (Tier.POTENTIAL, Tier.GENERAL, Tier.KEY, Tier.STRATEGIC)
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class RiskHistory:
    """Orange and red visits of the last twelve months."""

    orange: int = 0
    red: int = 0
    # The first day the oldest of these visits no longer counts; not a fact the rules
    # judge by, only when their answer may change (``recheck_on``).
    lapses_on: date | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TierFacts:
    """What the rules look at, gathered for one borrower."""

    lent_total: Decimal = Decimal(0)
    loans: int = 0
    first_disbursed: date | None = None
    overdue_now: bool = False
    max_overdue_days: int = 0
    written_off: bool = False
    # None: no visit data to judge by (the rules then look at loans alone).
    risk: RiskHistory | None = None
    # The tier in force; None when unknown. A marked record never suggests above it.
    tier: Tier | None = None


@dataclass(frozen=True)
class Suggestion:
    """A tier and the reasons, in the words shown to the branch head."""

    tier: Tier
    reasons: tuple


def years_with_company(facts: TierFacts, today: date) -> float:
    """Whole and part years since the first loan was paid out."""
    if facts.first_disbursed is None:
        return 0.0
    return max((today - facts.first_disbursed).days, 0) / DAYS_PER_YEAR


def _serious_marks(facts: TierFacts) -> list:
    marks = []
    if facts.written_off:
        marks.append(_l("a loan was written off"))
    if facts.max_overdue_days >= SERIOUS_OVERDUE_DAYS:
        marks.append(
            lazy_ngettext("%(num)d day overdue", "%(num)d days overdue", facts.max_overdue_days)
        )
    if facts.risk is not None and facts.risk.red:
        marks.append(_l("a red risk warning on a visit in the last 12 months"))
    return marks


def _minor_marks(facts: TierFacts) -> list:
    marks = []
    if facts.overdue_now or 0 < facts.max_overdue_days < SERIOUS_OVERDUE_DAYS:
        marks.append(_l("repayment overdue"))
    if facts.risk is not None and facts.risk.orange:
        marks.append(_l("an orange risk warning on a visit in the last 12 months"))
    return marks


def _tier_by_size(lent: Decimal, years: float) -> Tier:
    if lent >= STRATEGIC_LENT and years >= STRATEGIC_YEARS:
        return Tier.STRATEGIC
    if lent >= KEY_LENT or (lent >= KEY_LENT_LONG_STANDING and years >= KEY_YEARS):
        return Tier.KEY
    return Tier.GENERAL


def _one_step_down(tier: Tier) -> Tier:
    return ORDER[max(ORDER.index(tier) - 1, ORDER.index(Tier.GENERAL))]


def _held(tier: Tier, facts: TierFacts) -> Tier:
    """Marks on the record hold a tier down: never suggest more than the tier in force."""
    if facts.tier is None:
        return tier
    return min(tier, facts.tier, key=ORDER.index)


def suggest(facts: TierFacts, today: date) -> Suggestion:
    """Apply the rule table of docs/tiers.md."""
    if facts.loans == 0:
        return Suggestion(Tier.POTENTIAL, (_l("no loan has reached the contract yet"),))
    years = years_with_company(facts, today)
    reasons = [
        lazy_ngettext("%(amount)s yuan lent in %(num)d loan",
                      "%(amount)s yuan lent in %(num)d loans", facts.loans,
                      amount=f"{facts.lent_total:,.0f}"),
        _l("%(years)s years with the company", years=f"{years:.1f}"),
    ]  # fmt: skip
    if facts.risk is None:
        reasons.append(_l("no visit risk data"))
    serious, minor = _serious_marks(facts), _minor_marks(facts)
    tier = _tier_by_size(facts.lent_total, years)
    if serious:
        capped = min(tier, Tier.GENERAL, key=ORDER.index)
        return Suggestion(_held(capped, facts), (*reasons, *serious))
    if minor:
        return Suggestion(_held(_one_step_down(tier), facts), (*reasons, *minor))
    return Suggestion(tier, tuple(reasons))


def recheck_on(facts: TierFacts, today: date) -> date | None:
    """The first day after ``today`` on which time alone may change the suggestion.

    Time enters the rules twice: the years with the company pass the key and strategic
    thresholds, and visits leave the 12-month risk window. None: never by time alone.
    """
    if facts.loans == 0:
        return None
    days = []
    if facts.first_disbursed is not None:
        for years in (KEY_YEARS, STRATEGIC_YEARS):
            days.append(facts.first_disbursed + timedelta(math.ceil(years * DAYS_PER_YEAR)))
    if facts.risk is not None and facts.risk.lapses_on is not None:
        days.append(facts.risk.lapses_on)
    return min((day for day in days if day > today), default=None)
