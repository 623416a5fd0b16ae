"""Resident IDs whose county code changed: the code in force when the card was issued counts.

Issue 11: a borrower born in 泗阳县 in 1985 carries 321323, the code the county got in 1996
when 宿迁市 was formed; onboarding refused the number as "地区代码无效" because the code
did not exist in the birth year.
"""

from datetime import date

import pytest
from stdnum.cn import ric

from portal.borrowers.models import Borrower
from tests.borrowers.helpers import counts, fetch, onboarding_data, page_text, resident_id

# (county code, what changed, birth date): both sides of each change.
CHANGED_CODES = [
    ("321323", "泗阳县 since 1996 (宿迁市)", date(1985, 3, 12)),
    ("321323", "泗阳县 since 1996 (宿迁市)", date(2001, 5, 20)),
    ("321321", "宿豫县 1996-2004", date(1978, 8, 1)),
    ("321321", "宿豫县 1996-2004", date(1999, 1, 31)),
    ("500101", "万州区 since 1997 (重庆市)", date(1962, 11, 9)),
    ("500101", "万州区 since 1997 (重庆市)", date(1998, 2, 14)),
    ("500102", "涪陵区 since 1997 (重庆市)", date(1971, 7, 7)),
    ("342127", "阜南县 until 1996 (now 341225)", date(1980, 4, 4)),
    ("342127", "阜南县 until 1996 (now 341225)", date(2003, 9, 30)),
    ("110103", "崇文区 until 2010", date(1975, 6, 15)),
    ("320802", "清河区 1983-2016", date(1979, 12, 24)),
]


def _checked(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def _onboard(client, number: str, birth: date, sex: str):
    return client.submit(
        "/borrowers/new",
        onboarding_data(resident_id=number, birth_date=birth.isoformat(), sex=sex),
    )


def test_the_number_from_the_issue_is_accepted(client, world, app):
    client.login("officer")
    response = _onboard(client, "321323198503121262", date(1985, 3, 12), "female")
    assert response.status_code == 200
    assert "地区代码无效" not in page_text(response)
    assert fetch(app, Borrower, resident_id="321323198503121262").birth_date == date(1985, 3, 12)


@pytest.mark.parametrize(
    ("county", "change", "birth"),
    CHANGED_CODES,
    ids=[f"{code}-{birth.year}" for code, _, birth in CHANGED_CODES],
)
def test_ids_of_counties_whose_code_changed_are_accepted(client, world, app, county, change, birth):
    number = resident_id(county=county, birth=birth, sequence=246)  # even: female
    client.login("officer")
    response = _onboard(client, number, birth, "female")
    page = page_text(response)
    assert "地区代码无效" not in page, change
    assert response.status_code == 200 and 'data-testid="activation-code"' in page, change
    assert fetch(app, Borrower, resident_id=number).birth_date == birth


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (resident_id(county="999999"), "地区代码无效"),  # never a county
        (resident_id(county="321399"), "地区代码无效"),  # a known prefecture, no such county
        ("321323198503121263", "校验码不符"),  # the issue's number, one off
        (_checked("32132319850230124"), "出生日期不存在"),
    ],
)
def test_other_checks_still_refuse(client, world, app, number, message):
    client.login("officer")
    before = counts(app)
    response = _onboard(client, number, date(1985, 3, 12), "male")
    assert message in page_text(response)
    assert counts(app) == before


def test_the_sex_is_still_checked_against_the_id(client, world, app):
    client.login("officer")
    number = resident_id(county="321323", birth=date(1985, 3, 12), sequence=246)
    response = _onboard(client, number, date(1985, 3, 12), "male")
    assert "性别与身份证号码" in page_text(response)
