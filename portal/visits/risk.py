"""Risk level of a post-loan follow-up visit, computed from the ticked risk signals.

Pure module: no database, no request. The two tables below are the single source of
the rules; docs/risk.md lists them row for row and tests/visits/test_risk.py checks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l


class RiskSignal(StrEnum):
    """A risk signal on the visit checklist. Declared most severe first."""

    REPAYMENT_OVERDUE = "repayment_overdue"
    FUNDS_DIVERTED = "funds_diverted"
    BUSINESS_SUSPENDED = "business_suspended"
    UNREACHABLE = "unreachable"
    NEW_LARGE_DEBTS = "new_large_debts"
    DISPUTE_LAWSUIT = "dispute_lawsuit"
    FAMILY_ILLNESS = "family_illness"
    NATURAL_DISASTER = "natural_disaster"
    MARKET_COLLAPSE = "market_collapse"
    GUARANTOR_PROBLEM = "guarantor_problem"


class RiskLevel(StrEnum):
    """Risk level of a visit, declared from lowest to highest."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 for green up to 3 for red; use as a sort key."""
        return list(RiskLevel).index(self)


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True)
class SignalRule:
    severity: Severity
    critical: bool = False  # overdue, diverted, suspended, unreachable: can make a visit red


MAJOR, MINOR = Severity.MAJOR, Severity.MINOR

# Table 1: what each signal weighs. Ordered most severe first; that order is the
# order in which an assessment lists its signals.
SIGNAL_RULES: dict[RiskSignal, SignalRule] = {
    RiskSignal.REPAYMENT_OVERDUE: SignalRule(MAJOR, critical=True),
    RiskSignal.FUNDS_DIVERTED: SignalRule(MAJOR, critical=True),
    RiskSignal.BUSINESS_SUSPENDED: SignalRule(MAJOR, critical=True),
    RiskSignal.UNREACHABLE: SignalRule(MAJOR, critical=True),
    RiskSignal.NEW_LARGE_DEBTS: SignalRule(MAJOR),
    RiskSignal.DISPUTE_LAWSUIT: SignalRule(MAJOR),
    RiskSignal.FAMILY_ILLNESS: SignalRule(MINOR),
    RiskSignal.NATURAL_DISASTER: SignalRule(MINOR),
    RiskSignal.MARKET_COLLAPSE: SignalRule(MINOR),
    RiskSignal.GUARANTOR_PROBLEM: SignalRule(MINOR),
}


class SignalCounts(NamedTuple):
    critical: int
    major: int  # critical signals included
    minor: int


@dataclass(frozen=True)
class LevelRule:
    """A row of the level table: minimum counts of critical, major and minor signals.

    Critical signals are major too, so they also count towards ``min_major``.
    """

    level: RiskLevel
    min_critical: int = 0
    min_major: int = 0
    min_minor: int = 0

    def matches(self, counts: SignalCounts) -> bool:
        return (
            counts.critical >= self.min_critical
            and counts.major >= self.min_major
            and counts.minor >= self.min_minor
        )


# Table 2: evaluated top to bottom, first match wins. Every row is a lower bound on
# counts and rows go from highest to lowest level, so adding a signal never lowers
# the level.
LEVEL_RULES: tuple[LevelRule, ...] = (
    LevelRule(RiskLevel.RED, min_critical=1, min_major=2),  # critical + another major
    LevelRule(RiskLevel.ORANGE, min_major=1),  # any major signal
    LevelRule(RiskLevel.ORANGE, min_minor=2),  # two or more minor signals
    LevelRule(RiskLevel.YELLOW, min_minor=1),  # exactly one minor signal
    LevelRule(RiskLevel.GREEN),  # no signal
)

# Structured answers on the visit form that imply a signal, whatever the checklist says.
ANSWER_SIGNALS: dict[str, dict[str, RiskSignal]] = {
    "business_state": {"suspended": RiskSignal.BUSINESS_SUSPENDED},
    "repayment_status": {"overdue": RiskSignal.REPAYMENT_OVERDUE},
    # Any use outside the contract's purpose breaks the contract, however much.
    "funds_use": {
        "diverted": RiskSignal.FUNDS_DIVERTED,
        "partly_diverted": RiskSignal.FUNDS_DIVERTED,
    },
    "guarantor_status": {"problem": RiskSignal.GUARANTOR_PROBLEM},
}


@dataclass(frozen=True)
class WarningDeadline:
    """How long a red warning may wait for the action taken, in company-calendar days.

    ``act_within_days`` whole days after the day it was raised; then the branch head is
    alerted, and ``admin_after_days`` days later the admin.
    """

    act_within_days: int
    admin_after_days: int


# Table 3: the deadline of a red warning by its critical signals; the shortest applies
# (docs/visits.md, "Warning deadlines"). Every red visit has a critical signal; the
# default is there for a rule table changed later.
WARNING_DEADLINES: dict[RiskSignal, WarningDeadline] = {
    RiskSignal.FUNDS_DIVERTED: WarningDeadline(act_within_days=1, admin_after_days=2),
    RiskSignal.UNREACHABLE: WarningDeadline(act_within_days=1, admin_after_days=2),
    RiskSignal.REPAYMENT_OVERDUE: WarningDeadline(act_within_days=2, admin_after_days=3),
    RiskSignal.BUSINESS_SUSPENDED: WarningDeadline(act_within_days=3, admin_after_days=3),
}
DEFAULT_WARNING_DEADLINE = WarningDeadline(act_within_days=3, admin_after_days=3)


def warning_deadline(signals: Iterable[RiskSignal | str]) -> WarningDeadline:
    """The shortest deadline among the signals' rows of WARNING_DEADLINES."""
    rows = [WARNING_DEADLINES[s] for s in map(parse_signal, signals) if s in WARNING_DEADLINES]
    if not rows:
        return DEFAULT_WARNING_DEADLINE
    return WarningDeadline(
        min(r.act_within_days for r in rows), min(r.admin_after_days for r in rows)
    )


SIGNAL_LABELS: dict[RiskSignal, LazyString] = {
    RiskSignal.REPAYMENT_OVERDUE: _l("Repayment overdue"),
    RiskSignal.FUNDS_DIVERTED: _l("Funds used outside the contract's purpose"),
    RiskSignal.BUSINESS_SUSPENDED: _l("Business suspended or closed"),
    RiskSignal.UNREACHABLE: _l("Borrower unreachable or moved away"),
    RiskSignal.NEW_LARGE_DEBTS: _l("New large debts elsewhere"),
    RiskSignal.DISPUTE_LAWSUIT: _l("Dispute or lawsuit"),
    RiskSignal.FAMILY_ILLNESS: _l("Serious illness or accident in the family"),
    RiskSignal.NATURAL_DISASTER: _l("Natural disaster or livestock/crop disease"),
    RiskSignal.MARKET_COLLAPSE: _l("Market price of the product collapsed"),
    RiskSignal.GUARANTOR_PROBLEM: _l("Problem with the guarantor"),
}

LEVEL_LABELS: dict[RiskLevel, LazyString] = {
    RiskLevel.GREEN: _l("Green"),
    RiskLevel.YELLOW: _l("Yellow"),
    RiskLevel.ORANGE: _l("Orange"),
    RiskLevel.RED: _l("Red"),
}

_SIGNAL_ORDER = {signal: i for i, signal in enumerate(SIGNAL_RULES)}


@dataclass(frozen=True)
class RiskAssessment:
    level: RiskLevel
    signals: tuple[RiskSignal, ...]  # deduplicated, most severe first

    @property
    def reason(self) -> str:
        """Code reason, e.g. ``"red: repayment_overdue + business_suspended"``."""
        return f"{self.level}: {' + '.join(self.signals) or 'none'}"


def parse_signal(code: RiskSignal | str) -> RiskSignal:
    """Return the signal for a code; raise ValueError for an unknown one."""
    try:
        return RiskSignal(code)
    except ValueError:
        known = ", ".join(RiskSignal)
        raise ValueError(f"unknown risk signal {code!r}; known signals: {known}") from None


def assess(signals: Iterable[RiskSignal | str]) -> RiskAssessment:
    """Risk level of a visit from its signals (codes or members, in any order, repeats ok)."""
    if isinstance(signals, str):
        raise TypeError("assess() takes an iterable of signal codes, not a single string")
    unique = sorted({parse_signal(code) for code in signals}, key=_SIGNAL_ORDER.__getitem__)
    counts = count_signals(unique)
    level = next(rule.level for rule in LEVEL_RULES if rule.matches(counts))
    return RiskAssessment(level, tuple(unique))


def count_signals(signals: Iterable[RiskSignal]) -> SignalCounts:
    """Count distinct signals by weight, as the level table reads them."""
    rules = [SIGNAL_RULES[s] for s in set(signals)]
    return SignalCounts(
        critical=sum(r.critical for r in rules),
        major=sum(r.severity is MAJOR for r in rules),
        minor=sum(r.severity is MINOR for r in rules),
    )


def reason_text(assessment: RiskAssessment) -> str:
    """The reason in the current locale, e.g. "Red: Repayment overdue + Business suspended..."."""
    signals = " + ".join(str(SIGNAL_LABELS[s]) for s in assessment.signals)
    return gettext(
        "%(level)s: %(signals)s",
        level=LEVEL_LABELS[assessment.level],
        signals=signals or gettext("no risk signals"),
    )


def signals_from_answers(
    business_state: str | None,
    repayment_status: str | None,
    funds_use: str | None,
    guarantor_status: str | None = None,
) -> set[RiskSignal]:
    """Signals implied by the form's structured answers; unknown or empty answers imply none."""
    answers = {
        "business_state": business_state,
        "repayment_status": repayment_status,
        "funds_use": funds_use,
        "guarantor_status": guarantor_status,
    }
    return {
        ANSWER_SIGNALS[field][answer]
        for field, answer in answers.items()
        if answer in ANSWER_SIGNALS[field]
    }


def risk_label(level: RiskLevel) -> str:
    """A risk level's name in the reader's language."""
    return str(LEVEL_LABELS[level])


def visit_risk_reason(visit) -> str:
    """A visit's stored assessment in the reader's language, e.g. "红色：还款逾期 + ..."."""
    return reason_text(visit.assessment)
