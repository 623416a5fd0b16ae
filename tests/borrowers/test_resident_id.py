"""Property tests of the resident ID check (GB 11643) against generated numbers."""

import re
from datetime import date
from pathlib import Path

import pytest
import stdnum.cn
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from portal.borrowers.models import Sex
from portal.borrowers.validators import InvalidValueError, check_resident_id

TODAY = date(2026, 11, 1)


def _county_codes() -> list[tuple[str, int, int]]:
    """(code, first year, last year) of every county in stdnum's own table."""
    counties, province = [], None
    table = Path(stdnum.cn.__file__).with_name("loc.dat").read_text(encoding="utf-8")
    for line in table.splitlines():
        if match := re.match(r"(\d\d) ", line):
            province = match.group(1)
        elif match := re.match(r'  (\d{4}) county="([^"]*)"', line):
            for name in match.group(2).split(","):
                years = re.match(r"\[(\d*)-(\d*)\]", name)
                first, last = years.groups() if years else ("", "")
                first, last = int(first or 1900), int(last or TODAY.year)
                if first <= last:  # the table has a few empty ranges
                    counties.append((province + match.group(1), first, last))
    return counties


COUNTIES = _county_codes()


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@st.composite
def resident_ids(draw) -> str:
    """A valid ID: a county code with a birth date in the years the code was in use."""
    code, first, last = draw(st.sampled_from(COUNTIES))
    birth = draw(st.dates(min_value=date(first, 1, 1), max_value=min(date(last, 12, 31), TODAY)))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return _with_check(f"{code}{birth:%Y%m%d}{sequence:03d}")


def test_the_county_table_is_not_empty():
    assert len(COUNTIES) > 3000


@given(resident_ids())
def test_every_valid_generated_id_is_accepted(number):
    checked = check_resident_id(number, TODAY)
    assert checked.number == number
    assert checked.birth_date.strftime("%Y%m%d") == number[6:14]
    assert checked.sex == (Sex.MALE if int(number[16]) % 2 else Sex.FEMALE)


@given(resident_ids())
def test_a_lowercase_check_x_is_accepted(number):
    if number.endswith("X"):
        assert check_resident_id(number.lower(), TODAY).number == number


@given(resident_ids(), st.integers(min_value=0, max_value=17), st.data())
def test_any_single_character_change_is_refused(number, position, data):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from(alphabet.replace(number[position], "")))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidValueError):
        check_resident_id(changed, TODAY)


@given(resident_ids(), st.integers(min_value=0, max_value=16), st.sampled_from("AOXx -."))
def test_a_letter_among_the_first_17_digits_is_refused(number, position, letter):
    changed = number[:position] + letter + number[position + 1 :]
    with pytest.raises(InvalidValueError):
        check_resident_id(changed, TODAY)


@st.composite
def ids_born_any_year(draw) -> str:
    """A valid ID of a county code from the table, born in any year, before or after it."""
    code, _first, _last = draw(st.sampled_from(COUNTIES))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return _with_check(f"{code}{birth:%Y%m%d}{sequence:03d}")


@given(ids_born_any_year())
def test_a_code_once_in_use_is_accepted_whatever_the_birth_year(number):
    """The card carries the code in force when it was issued (issue 11), not at birth."""
    checked = check_resident_id(number, TODAY)
    assert checked.number == number


@given(st.sampled_from(["999999", "321399", "990000", "000000", "329999"]), st.data())
def test_a_code_never_in_the_table_is_refused(code, data):
    birth = data.draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    with pytest.raises(InvalidValueError):
        check_resident_id(_with_check(f"{code}{birth:%Y%m%d}123"), TODAY)
