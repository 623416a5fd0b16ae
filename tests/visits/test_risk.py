"""Tests of the pure visit risk module (portal/visits/risk.py)."""

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st

from portal.visits.risk import (
    LEVEL_LABELS,
    LEVEL_RULES,
    SIGNAL_LABELS,
    SIGNAL_RULES,
    RiskLevel,
    RiskSignal,
    Severity,
    assess,
    count_signals,
    reason_text,
    signals_from_answers,
)

S = RiskSignal

# The proposed severities, restated here so a change to the table is a deliberate one.
EXPECTED_SIGNALS = [
    ("repayment_overdue", "major", True),
    ("funds_diverted", "major", True),
    ("business_suspended", "major", True),
    ("unreachable", "major", True),
    ("new_large_debts", "major", False),
    ("dispute_lawsuit", "major", False),
    ("family_illness", "minor", False),
    ("natural_disaster", "minor", False),
    ("market_collapse", "minor", False),
    ("guarantor_problem", "minor", False),
]


@pytest.mark.parametrize(("code", "severity", "critical"), EXPECTED_SIGNALS, ids=lambda v: v)
def test_signal_table_row(code, severity, critical):
    rule = SIGNAL_RULES[RiskSignal(code)]
    assert (rule.severity, rule.critical) == (Severity(severity), critical)


def test_signal_table_covers_every_signal_most_severe_first():
    assert list(SIGNAL_RULES) == [RiskSignal(code) for code, _, _ in EXPECTED_SIGNALS]
    weights = [(not r.critical, r.severity is Severity.MINOR) for r in SIGNAL_RULES.values()]
    assert weights == sorted(weights)


# One example per row of LEVEL_RULES, in the same order; each must be decided by its row.
ROW_EXAMPLES = [
    ("red-critical+major", [S.REPAYMENT_OVERDUE, S.BUSINESS_SUSPENDED], RiskLevel.RED),
    ("orange-one-major", [S.NEW_LARGE_DEBTS], RiskLevel.ORANGE),
    ("orange-two-minor", [S.FAMILY_ILLNESS, S.NATURAL_DISASTER], RiskLevel.ORANGE),
    ("yellow-one-minor", [S.MARKET_COLLAPSE], RiskLevel.YELLOW),
    ("green-none", [], RiskLevel.GREEN),
]


def test_level_table_has_one_example_per_row_from_highest_to_lowest():
    assert [level for _, _, level in ROW_EXAMPLES] == [rule.level for rule in LEVEL_RULES]
    ranks = [rule.level.rank for rule in LEVEL_RULES]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize(
    ("row", "signals", "level"),
    [(i, signals, level) for i, (_, signals, level) in enumerate(ROW_EXAMPLES)],
    ids=[name for name, _, _ in ROW_EXAMPLES],
)
def test_level_table_row(row, signals, level):
    assert assess(signals).level is level
    matching = [i for i, rule in enumerate(LEVEL_RULES) if rule.matches(count_signals(signals))]
    assert matching[0] == row


@pytest.mark.parametrize(
    ("signals", "level"),
    [
        ([S.REPAYMENT_OVERDUE], RiskLevel.ORANGE),
        ([S.UNREACHABLE, S.FUNDS_DIVERTED], RiskLevel.RED),
        ([S.FUNDS_DIVERTED, S.DISPUTE_LAWSUIT], RiskLevel.RED),
        ([S.NEW_LARGE_DEBTS, S.DISPUTE_LAWSUIT], RiskLevel.ORANGE),
        ([S.BUSINESS_SUSPENDED, S.FAMILY_ILLNESS, S.GUARANTOR_PROBLEM], RiskLevel.ORANGE),
        (list(RiskSignal), RiskLevel.RED),
    ],
    ids=[
        "overdue-alone",
        "two-critical",
        "critical+non-critical-major",
        "two-non-critical-majors",
        "critical+minors",
        "everything",
    ],
)
def test_examples(signals, level):
    assert assess(signals).level is level


def test_reason_of_design_example():
    result = assess(["business_suspended", "repayment_overdue"])
    assert result.reason == "red: repayment_overdue + business_suspended"
    assert assess([]).reason == "green: none"


def test_signals_are_deduplicated_and_most_severe_first():
    result = assess(["guarantor_problem", S.UNREACHABLE, "unreachable", "new_large_debts"])
    assert result.signals == (S.UNREACHABLE, S.NEW_LARGE_DEBTS, S.GUARANTOR_PROBLEM)
    assert all(type(s) is RiskSignal for s in result.signals)


def test_levels_sort_by_rank():
    assert sorted(RiskLevel, key=lambda lv: lv.rank, reverse=True) == [
        RiskLevel.RED,
        RiskLevel.ORANGE,
        RiskLevel.YELLOW,
        RiskLevel.GREEN,
    ]


def test_unknown_code_raises_value_error():
    with pytest.raises(ValueError, match=r"unknown risk signal 'overdue'"):
        assess(["overdue"])


def test_single_string_is_refused():
    with pytest.raises(TypeError):
        assess("repayment_overdue")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((None, None, None), set()),
        (("normal", "on_time", "as_agreed"), set()),
        (("suspended", None, None), {S.BUSINESS_SUSPENDED}),
        ((None, "overdue", None), {S.REPAYMENT_OVERDUE}),
        ((None, None, "diverted"), {S.FUNDS_DIVERTED}),
        ((None, None, "partly_diverted"), {S.FUNDS_DIVERTED}),
        ((None, None, None, "problem"), {S.GUARANTOR_PROBLEM}),
        (("normal", "on_time", "as_contracted", "normal"), set()),
        (
            ("suspended", "overdue", "diverted"),
            {S.BUSINESS_SUSPENDED, S.REPAYMENT_OVERDUE, S.FUNDS_DIVERTED},
        ),
    ],
    ids=[
        "none",
        "all-normal",
        "suspended",
        "overdue",
        "diverted",
        "partly-diverted",
        "guarantor-problem",
        "all-normal-with-guarantor",
        "all",
    ],
)
def test_signals_from_answers(answers, expected):
    assert signals_from_answers(*answers) == expected


def test_answers_complete_the_checklist():
    ticked = {S.NEW_LARGE_DEBTS}
    assert assess(ticked).level is RiskLevel.ORANGE
    assert assess(ticked | signals_from_answers(None, "overdue", None)).level is RiskLevel.RED


@pytest.fixture
def app_ctx():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield


def test_every_signal_and_level_has_a_label():
    assert set(SIGNAL_LABELS) == set(RiskSignal)
    assert set(LEVEL_LABELS) == set(RiskLevel)


def test_reason_text(app_ctx):
    result = assess(["business_suspended", "repayment_overdue"])
    assert reason_text(result) == "Red: Repayment overdue + Business suspended or closed"
    assert reason_text(assess([])) == "Green: no risk signals"


signal_sets = st.frozensets(st.sampled_from(RiskSignal))


@given(signal_sets, st.sampled_from(RiskSignal))
def test_adding_a_signal_never_lowers_the_level(signals, extra):
    assert assess(signals | {extra}).level.rank >= assess(signals).level.rank


@given(st.lists(st.sampled_from(RiskSignal)))
def test_order_repeats_and_codes_do_not_matter(signals):
    expected = assess(set(signals))
    assert assess(reversed(signals)) == expected
    assert assess([str(s) for s in signals]) == expected
