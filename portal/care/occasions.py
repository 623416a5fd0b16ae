"""Dates of care-greeting occasions: built-in holidays, admin-defined rules and birthdays.

Every public function answers "on which Gregorian date is the greeting due in Gregorian
year ``year``?"; docs/care.md explains the lunar-calendar edge cases.
"""

from calendar import isleap
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

from flask_babel import lazy_gettext as _l
from lunar_python import Lunar, LunarMonth, LunarYear, Solar

CalendarKind = Literal["gregorian", "lunar", "solar_term", "lunar_year_end"]
BirthCalendar = Literal["gregorian", "lunar"]

CALENDAR_KINDS: tuple[CalendarKind, ...] = ("gregorian", "lunar", "solar_term", "lunar_year_end")
# The 24 solar-term names as lunar-python spells them, starting with 冬至.
SOLAR_TERMS: tuple[str, ...] = tuple(Lunar.JIE_QI)
# What a reader sees: the name in their language (the stored value stays the Chinese name).
SOLAR_TERM_LABELS = {
    "冬至": _l("Winter Solstice (Dongzhi)"),
    "小寒": _l("Minor Cold (Xiaohan)"),
    "大寒": _l("Major Cold (Dahan)"),
    "立春": _l("Start of Spring (Lichun)"),
    "雨水": _l("Rain Water (Yushui)"),
    "惊蛰": _l("Awakening of Insects (Jingzhe)"),
    "春分": _l("Spring Equinox (Chunfen)"),
    "清明": _l("Pure Brightness (Qingming)"),
    "谷雨": _l("Grain Rain (Guyu)"),
    "立夏": _l("Start of Summer (Lixia)"),
    "小满": _l("Grain Buds (Xiaoman)"),
    "芒种": _l("Grain in Ear (Mangzhong)"),
    "夏至": _l("Summer Solstice (Xiazhi)"),
    "小暑": _l("Minor Heat (Xiaoshu)"),
    "大暑": _l("Major Heat (Dashu)"),
    "立秋": _l("Start of Autumn (Liqiu)"),
    "处暑": _l("End of Heat (Chushu)"),
    "白露": _l("White Dew (Bailu)"),
    "秋分": _l("Autumn Equinox (Qiufen)"),
    "寒露": _l("Cold Dew (Hanlu)"),
    "霜降": _l("Frost's Descent (Shuangjiang)"),
    "立冬": _l("Start of Winter (Lidong)"),
    "小雪": _l("Minor Snow (Xiaoxue)"),
    "大雪": _l("Major Snow (Daxue)"),
}


def solar_term_label(name: str | None) -> str:
    """A solar term's name in the reader's language ("Pure Brightness (Qingming)", "清明")."""
    return str(SOLAR_TERM_LABELS.get(name, name or ""))


class LunarDate(NamedTuple):
    """A date in the Chinese lunar calendar."""

    year: int
    month: int
    day: int
    is_leap_month: bool


@dataclass(frozen=True)
class OccasionRule:
    """How to find the date of a yearly occasion, for built-ins and admin-added rules alike."""

    code: str
    calendar: CalendarKind
    month: int | None = None
    day: int | None = None
    term_name: str | None = None
    # Display names are presentation only, so they stay out of equality and hashing.
    names: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Reject rules that could never produce a date."""
        _validate_rule(self)


def _validate_rule(rule: OccasionRule) -> None:
    """Raise ValueError when the rule's fields do not fit its calendar."""
    if rule.calendar not in CALENDAR_KINDS:
        raise ValueError(f"unknown calendar {rule.calendar!r} for occasion {rule.code!r}")
    if rule.calendar == "gregorian":
        # 2000 is a leap year, so Feb 29 is accepted and later falls back to Feb 28.
        date(2000, _required(rule.month, rule), _required(rule.day, rule))
    elif rule.calendar == "lunar":
        if _required(rule.month, rule) not in range(1, 13):
            raise ValueError(f"lunar month must be 1-12 for occasion {rule.code!r}")
        if _required(rule.day, rule) not in range(1, 31):
            raise ValueError(f"lunar day must be 1-30 for occasion {rule.code!r}")
    elif rule.calendar == "solar_term":
        _required_term(rule)


def _required(value: int | None, rule: OccasionRule) -> int:
    """Return a month/day field, raising ValueError when the rule left it out."""
    if value is None:
        raise ValueError(f"occasion {rule.code!r} needs a month and a day")
    return value


def _required_term(rule: OccasionRule) -> str:
    """Return the rule's solar-term name, raising ValueError when it is missing or unknown."""
    if rule.term_name is None or rule.term_name not in SOLAR_TERMS:
        raise ValueError(f"unknown solar term {rule.term_name!r} for occasion {rule.code!r}")
    return rule.term_name


BUILT_IN_OCCASIONS: tuple[OccasionRule, ...] = (
    OccasionRule("new_year", "gregorian", 1, 1, names={"zh": "元旦", "en": "New Year's Day"}),
    OccasionRule(
        "spring_festival_eve", "lunar_year_end", names={"zh": "除夕", "en": "Spring Festival Eve"}
    ),
    OccasionRule("spring_festival", "lunar", 1, 1, names={"zh": "春节", "en": "Spring Festival"}),
    OccasionRule("lantern", "lunar", 1, 15, names={"zh": "元宵节", "en": "Lantern Festival"}),
    OccasionRule(
        "qingming",
        "solar_term",
        term_name="清明",
        names={"zh": "清明节", "en": "Qingming Festival"},
    ),
    OccasionRule("labour_day", "gregorian", 5, 1, names={"zh": "劳动节", "en": "Labour Day"}),
    OccasionRule(
        "dragon_boat", "lunar", 5, 5, names={"zh": "端午节", "en": "Dragon Boat Festival"}
    ),
    OccasionRule("mid_autumn", "lunar", 8, 15, names={"zh": "中秋节", "en": "Mid-Autumn Festival"}),
    OccasionRule(
        "double_ninth", "lunar", 9, 9, names={"zh": "重阳节", "en": "Double Ninth Festival"}
    ),
    OccasionRule("national_day", "gregorian", 10, 1, names={"zh": "国庆节", "en": "National Day"}),
)
BUILT_IN_BY_CODE: dict[str, OccasionRule] = {rule.code: rule for rule in BUILT_IN_OCCASIONS}


def occurrence_in_year(rule: OccasionRule, year: int) -> date | None:
    """Return the rule's date inside Gregorian ``year``, or None if it has none that year."""
    match rule.calendar:
        case "gregorian":
            return _gregorian_date(year, _required(rule.month, rule), _required(rule.day, rule))
        case "lunar":
            return _lunar_in_gregorian_year(
                _required(rule.month, rule), _required(rule.day, rule), year
            )
        case "solar_term":
            return _solar_terms_in_year(year)[_required_term(rule)]
        case "lunar_year_end":
            return _lunar_new_years_eve(year)
    raise ValueError(f"unknown calendar {rule.calendar!r}")


def holidays_in_year(year: int) -> dict[str, date]:
    """Map each built-in occasion code to its date in Gregorian ``year``."""
    # Built-ins all occur every year, so nothing is dropped here in practice.
    occurrences = {rule.code: occurrence_in_year(rule, year) for rule in BUILT_IN_OCCASIONS}
    return {code: day for code, day in occurrences.items() if day is not None}


def occasions_on(day: date) -> list[str]:
    """Return the built-in occasion codes falling on ``day``, in catalogue order."""
    return [code for code, when in holidays_in_year(day.year).items() if when == day]


def birthday_in_year(birth_date: date, calendar: BirthCalendar, year: int) -> date | None:
    """Return the date in Gregorian ``year`` on which the birthday greeting is due, if any."""
    due = _birthday_candidate(birth_date, calendar, year)
    # A leap-month birth would otherwise be "greeted" in its own year before it happened.
    if due is None or due < birth_date:
        return None
    return due


def _birthday_candidate(birth_date: date, calendar: BirthCalendar, year: int) -> date | None:
    """Return the birthday's date in ``year`` without checking it against the birth."""
    if calendar == "gregorian":
        return _gregorian_date(year, birth_date.month, birth_date.day)
    if calendar == "lunar":
        lunar_birth = to_lunar(birth_date)
        # A leap-month birthday is kept in the ordinary month of the same number (see docs).
        return _lunar_in_gregorian_year(lunar_birth.month, lunar_birth.day, year)
    raise ValueError(f"unknown birthday calendar {calendar!r}")


def to_lunar(day: date) -> LunarDate:
    """Convert a Gregorian date to its lunar year, month, day and leap-month flag."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    # lunar-python marks a leap month with a negative month number.
    return LunarDate(lunar.getYear(), abs(lunar.getMonth()), lunar.getDay(), lunar.getMonth() < 0)


def _gregorian_date(year: int, month: int, day: int) -> date:
    """Return month/day in ``year``, moving Feb 29 to Feb 28 in common years."""
    # Feb 28 keeps the greeting in February, before the real anniversary has passed.
    if (month, day) == (2, 29) and not isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _lunar_in_gregorian_year(month: int, day: int, year: int) -> date | None:
    """Return the occurrence of lunar month/day that lies in Gregorian ``year``, if any."""
    # The lunar year that begins in ``year`` wins; only when its date spills into next
    # January (lunar months 10-12) does last lunar year's occurrence get a chance.
    for lunar_year in (year, year - 1):
        candidate = _lunar_date(lunar_year, month, day)
        if candidate.year == year:
            return candidate
    return None


@lru_cache(maxsize=4096)
def _lunar_date(lunar_year: int, month: int, day: int) -> date:
    """Return the Gregorian date of an ordinary lunar month/day, capping the day at month end."""
    lunar_month = LunarMonth.fromYm(lunar_year, month)
    # Lunar months have 29 or 30 days; a 30th in a short month is greeted on its 29th.
    offset = min(day, lunar_month.getDayCount()) - 1
    return _to_date(Solar.fromJulianDay(lunar_month.getFirstJulianDay() + offset))


def _lunar_new_years_eve(year: int) -> date:
    """Return 除夕, the last day of the lunar year that ends in Gregorian ``year``."""
    # The day before 1-1 is the 29th or 30th of month 12 (or of a leap 12th month)
    # without having to know which.
    return _lunar_date(year, 1, 1) - timedelta(days=1)


@lru_cache(maxsize=256)
def _solar_terms_in_year(year: int) -> dict[str, date]:
    """Map each solar-term name to its date inside Gregorian ``year``."""
    # The library's table runs from the previous 大雪 to the next 惊蛰 and spells the
    # out-of-year terms in pinyin; position i always holds JIE_QI[(i - 1) % 24].
    terms: dict[str, date] = {}
    for index, julian_day in enumerate(LunarYear.fromYear(year).getJieQiJulianDays()):
        when = _to_date(Solar.fromJulianDay(julian_day))
        if when.year == year:
            terms[SOLAR_TERMS[(index - 1) % len(SOLAR_TERMS)]] = when
    return terms


def _to_date(solar: Solar) -> date:
    """Convert a lunar-python Solar to a datetime.date."""
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
