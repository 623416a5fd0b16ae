"""Tests for the care-greeting date logic in portal.care.occasions."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunar_python import Solar

from portal.care.occasions import (
    BUILT_IN_BY_CODE,
    BUILT_IN_OCCASIONS,
    SOLAR_TERMS,
    LunarDate,
    OccasionRule,
    birthday_in_year,
    holidays_in_year,
    occasions_on,
    occurrence_in_year,
    to_lunar,
)

# Checked against the published 中国农历 / 国务院节假日 calendars for these years.
PUBLISHED_HOLIDAYS = {
    2026: {
        "new_year": date(2026, 1, 1),
        "spring_festival_eve": date(2026, 2, 16),
        "spring_festival": date(2026, 2, 17),
        "lantern": date(2026, 3, 3),
        "qingming": date(2026, 4, 5),
        "labour_day": date(2026, 5, 1),
        "dragon_boat": date(2026, 6, 19),
        "mid_autumn": date(2026, 9, 25),
        "double_ninth": date(2026, 10, 18),
        "national_day": date(2026, 10, 1),
    },
    2027: {
        "new_year": date(2027, 1, 1),
        "spring_festival_eve": date(2027, 2, 5),
        "spring_festival": date(2027, 2, 6),
        "lantern": date(2027, 2, 20),
        "qingming": date(2027, 4, 5),
        "labour_day": date(2027, 5, 1),
        "dragon_boat": date(2027, 6, 9),
        "mid_autumn": date(2027, 9, 15),
        "double_ninth": date(2027, 10, 8),
        "national_day": date(2027, 10, 1),
    },
    2028: {
        "new_year": date(2028, 1, 1),
        "spring_festival_eve": date(2028, 1, 25),
        "spring_festival": date(2028, 1, 26),
        "lantern": date(2028, 2, 9),
        "qingming": date(2028, 4, 4),
        "labour_day": date(2028, 5, 1),
        "dragon_boat": date(2028, 5, 28),
        "mid_autumn": date(2028, 10, 3),
        "double_ninth": date(2028, 10, 26),
        "national_day": date(2028, 10, 1),
    },
}


@pytest.mark.parametrize(
    ("year", "code", "expected"),
    [
        (year, code, when)
        for year, holidays in PUBLISHED_HOLIDAYS.items()
        for code, when in holidays.items()
    ],
)
def test_built_in_holiday_matches_published_calendar(year, code, expected):
    assert occurrence_in_year(BUILT_IN_BY_CODE[code], year) == expected


@pytest.mark.parametrize("year", sorted(PUBLISHED_HOLIDAYS))
def test_holidays_in_year_covers_the_whole_catalogue(year):
    assert holidays_in_year(year) == PUBLISHED_HOLIDAYS[year]


def test_catalogue_codes_are_unique_and_named_in_both_languages():
    codes = [rule.code for rule in BUILT_IN_OCCASIONS]
    assert len(codes) == len(set(codes)) == 10
    for rule in BUILT_IN_OCCASIONS:
        assert set(rule.names) == {"zh", "en"}
        assert all(rule.names.values())


@pytest.mark.parametrize("year", range(1950, 2061))
def test_every_built_in_falls_inside_its_gregorian_year(year):
    holidays = holidays_in_year(year)
    assert set(holidays) == set(BUILT_IN_BY_CODE)
    assert all(when.year == year for when in holidays.values())
    assert holidays["spring_festival_eve"] + timedelta(days=1) == holidays["spring_festival"]


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_spring_festival_eve_on_the_29th_when_month_12_is_short(year):
    eve = holidays_in_year(year)["spring_festival_eve"]
    assert to_lunar(eve) == LunarDate(year - 1, 12, 29, is_leap_month=False)


@pytest.mark.parametrize(("year", "expected"), [(2024, date(2024, 2, 9)), (2030, date(2030, 2, 2))])
def test_spring_festival_eve_on_the_30th_when_month_12_is_long(year, expected):
    assert holidays_in_year(year)["spring_festival_eve"] == expected
    assert to_lunar(expected) == LunarDate(year - 1, 12, 30, is_leap_month=False)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 17), ["spring_festival"]),
        (date(2027, 2, 5), ["spring_festival_eve"]),
        (date(2028, 4, 4), ["qingming"]),
        (date(2026, 10, 1), ["national_day"]),
        # Mid-Autumn fell on National Day in 2020.
        (date(2020, 10, 1), ["mid_autumn", "national_day"]),
        (date(2026, 7, 1), []),
    ],
)
def test_occasions_on(day, expected):
    assert occasions_on(day) == expected


def test_admin_gregorian_rule_on_feb_29_falls_back_to_feb_28():
    rule = OccasionRule("leap_day", "gregorian", 2, 29)
    assert occurrence_in_year(rule, 2027) == date(2027, 2, 28)
    assert occurrence_in_year(rule, 2028) == date(2028, 2, 29)


def test_admin_solar_term_rule():
    winter_solstice = OccasionRule("dongzhi", "solar_term", term_name="冬至")
    assert occurrence_in_year(winter_solstice, 2026) == date(2026, 12, 22)
    assert occurrence_in_year(winter_solstice, 2028) == date(2028, 12, 21)


@pytest.mark.parametrize("year", [1950, 2000, 2026, 2027, 2028, 2049])
def test_every_solar_term_matches_the_library_day_lookup(year):
    for term in SOLAR_TERMS:
        when = occurrence_in_year(OccasionRule(term, "solar_term", term_name=term), year)
        assert when.year == year
        assert Solar.fromYmd(when.year, when.month, when.day).getLunar().getJieQi() == term


def test_admin_late_lunar_rule_picks_the_occurrence_inside_the_year():
    laba = OccasionRule("laba", "lunar", 12, 8)
    # Lunar 2022's 腊八 came on 2022-12-30, so 2022 holds two and 2023 none.
    assert occurrence_in_year(laba, 2022) == date(2022, 12, 30)
    assert occurrence_in_year(laba, 2023) is None
    assert occurrence_in_year(laba, 2024) == date(2024, 1, 18)


@pytest.mark.parametrize(
    "fields",
    [
        {"calendar": "gregorian", "month": 2, "day": 30},
        {"calendar": "gregorian", "month": 5},
        {"calendar": "lunar", "month": 13, "day": 1},
        {"calendar": "lunar", "month": 1, "day": 31},
        {"calendar": "solar_term", "term_name": "Qingming"},
        {"calendar": "islamic", "month": 1, "day": 1},
    ],
)
def test_invalid_rules_are_rejected(fields):
    with pytest.raises(ValueError):
        OccasionRule("bad", **fields)


def test_names_do_not_affect_rule_identity():
    plain = OccasionRule("laba", "lunar", 12, 8)
    named = OccasionRule("laba", "lunar", 12, 8, names={"zh": "腊八节", "en": "Laba Festival"})
    assert plain == named
    assert hash(plain) == hash(named)


def test_gregorian_birthday_on_feb_29():
    born = date(2000, 2, 29)
    assert birthday_in_year(born, "gregorian", 2027) == date(2027, 2, 28)
    assert birthday_in_year(born, "gregorian", 2028) == date(2028, 2, 29)


def test_ordinary_gregorian_and_lunar_birthdays():
    born = date(1988, 12, 13)  # lunar 1988-11-05
    assert birthday_in_year(born, "gregorian", 2026) == date(2026, 12, 13)
    assert birthday_in_year(born, "lunar", 2026) == date(2026, 12, 13)
    assert to_lunar(born) == LunarDate(1988, 11, 5, is_leap_month=False)


def test_lunar_30th_is_greeted_on_the_29th_of_a_short_month():
    born = date(1990, 3, 26)  # lunar 1990-02-30
    assert to_lunar(born) == LunarDate(1990, 2, 30, is_leap_month=False)
    # Lunar month 2 has 29 days in 2026 but 30 in 2027.
    assert birthday_in_year(born, "lunar", 2026) == date(2026, 4, 16)
    assert to_lunar(date(2026, 4, 16)) == LunarDate(2026, 2, 29, is_leap_month=False)
    assert birthday_in_year(born, "lunar", 2027) == date(2027, 4, 6)
    assert to_lunar(date(2027, 4, 6)) == LunarDate(2027, 2, 30, is_leap_month=False)


def test_born_on_a_30th_spring_festival_eve_is_greeted_on_the_eve():
    born = date(1990, 1, 26)  # lunar 1989-12-30
    assert birthday_in_year(born, "lunar", 2026) == PUBLISHED_HOLIDAYS[2026]["spring_festival_eve"]
    assert birthday_in_year(born, "lunar", 2030) == date(2030, 2, 2)


def test_leap_month_birth_is_greeted_in_the_ordinary_month():
    born = date(2025, 7, 25)  # lunar 2025 闰六月初一
    assert to_lunar(born) == LunarDate(2025, 6, 1, is_leap_month=True)
    assert birthday_in_year(born, "lunar", 2026) == date(2026, 7, 14)
    assert to_lunar(date(2026, 7, 14)) == LunarDate(2026, 6, 1, is_leap_month=False)


def test_leap_month_birth_stays_in_the_ordinary_month_when_the_leap_month_recurs():
    born = date(2025, 7, 25)  # lunar 2025 闰六月初一
    # 2036 has a 闰六月 again (its 1st is 2036-07-23); we still greet on the ordinary 6-1.
    assert to_lunar(date(2036, 7, 23)) == LunarDate(2036, 6, 1, is_leap_month=True)
    assert birthday_in_year(born, "lunar", 2036) == date(2036, 6, 24)
    assert to_lunar(date(2036, 6, 24)) == LunarDate(2036, 6, 1, is_leap_month=False)


def test_no_greeting_before_the_birth():
    # The ordinary 6-1 of 2025 came a month before this 闰六月 baby was born.
    assert birthday_in_year(date(2025, 7, 25), "lunar", 2025) is None
    assert birthday_in_year(date(1990, 3, 26), "gregorian", 1989) is None


def test_late_lunar_year_birthday_falls_in_january():
    born = date(1960, 1, 3)  # lunar 1959-12-05
    assert birthday_in_year(born, "lunar", 2026) == date(2026, 1, 23)
    assert to_lunar(date(2026, 1, 23)) == LunarDate(2025, 12, 5, is_leap_month=False)
    assert birthday_in_year(born, "lunar", 2027) == date(2027, 1, 12)


def test_late_lunar_year_birthday_with_two_or_no_occurrences():
    born = date(2022, 1, 10)  # lunar 2021-12-08
    assert birthday_in_year(born, "lunar", 2022) == date(2022, 12, 30)
    assert birthday_in_year(born, "lunar", 2023) is None
    assert birthday_in_year(born, "lunar", 2024) == date(2024, 1, 18)


def test_unknown_birthday_calendar_is_rejected():
    with pytest.raises(ValueError):
        birthday_in_year(date(1990, 1, 1), "islamic", 2026)


def _is_last_day_of_lunar_month(day: date) -> bool:
    return to_lunar(day + timedelta(days=1)).day == 1


# No deadline: lunar-python's first look at a year is slow on a busy machine, and
# the suite has no timed tests.
@settings(deadline=None)
@given(
    born=st.dates(min_value=date(1950, 1, 1), max_value=date(2049, 12, 31)),
    year=st.integers(min_value=1950, max_value=2060),
)
def test_lunar_birthday_lands_in_the_year_on_the_same_lunar_month_and_day(born, year):
    due = birthday_in_year(born, "lunar", year)
    if due is None:
        return
    assert due.year == year
    assert due >= born
    lunar_born, lunar_due = to_lunar(born), to_lunar(due)
    assert lunar_due.month == lunar_born.month
    assert not lunar_due.is_leap_month
    if lunar_due.day != lunar_born.day:
        # The only allowed drift: a 30th greeted on the 29th of a short month.
        assert (lunar_born.day, lunar_due.day) == (30, 29)
        assert _is_last_day_of_lunar_month(due)
