"""The period in the URL: the default, and every bad input answered with a message, never a 500."""

import pytest

from tests.headline.helpers import english, errors, figures, page
from tests.loans.helpers import today

BAD = [
    ("from=2026-13&to=2026-06", ["Enter a month as year and month, for example 2026-01."]),
    ("from=abc&to=2026-06", ["Enter a month as year and month, for example 2026-01."]),
    ("from=2026-01&to=June", ["Enter a month as year and month, for example 2026-01."]),
    ("from=1999-12&to=2026-06", ["Enter a month as year and month, for example 2026-01."]),
    ("from=2026-1&to=2026-06", ["Enter a month as year and month, for example 2026-01."]),
    (
        "from=" + "9" * 5000 + "&to=2026-06",
        ["Enter a month as year and month, for example 2026-01."],
    ),
    ("from=2026-06&to=2026-01", ["The last month must not be before the first."]),
    ("from=2026-01&to=9999-12", ["The period cannot end after this month."]),
    ("from=9999-12&to=9999-12", ["The period cannot end after this month."]),
    ("from=2016-01&to=2026-01", ["Choose a period of at most ten years."]),
    ("from=x&to=y", ["Enter a month as year and month, for example 2026-01."] * 2),
]


@pytest.mark.parametrize(("query", "messages"), BAD, ids=[q[:40] for q, _ in BAD])
@pytest.mark.parametrize("path", ["/headline/company", "/headline/branch"])
def test_a_bad_period_is_refused_beside_its_field(client, world, path, query, messages):
    client.login("admin")
    english(client)
    response = client.get(f"{path}?{query}")
    assert errors(response) == messages
    assert "summary" not in figures(response)


def test_ten_years_are_allowed(client, world):
    client.login("admin")
    english(client)
    response = client.get("/headline/company?from=2016-02&to=2026-01")
    assert errors(response) == [] and "summary" in figures(response)


def test_the_text_typed_is_shown_again(client, world):
    client.login("head")
    text = page(client.get("/headline/branch?from=2026-13&to=2026-06"))
    assert 'value="2026-13"' in text and 'value="2026-06"' in text


def test_without_a_period_the_last_twelve_months_up_to_this_one(app, client, world):
    this_month = today(app).replace(day=1)
    first = this_month.replace(year=this_month.year - 1)
    first = first.replace(month=first.month % 12 + 1, year=first.year + (first.month == 12))
    client.login("head")
    english(client)
    for query in ("", "?from=&to=", "?branch="):
        text = page(client.get(f"/headline/branch{query}"))
        assert f'value="{first:%Y-%m}"' in text and f'value="{this_month:%Y-%m}"' in text
        assert f"{first:%b %Y} to {this_month:%b %Y}" in text
        # The month is not over: its visits still to be made are said to count as not made.
        assert "This month is not over" in text


def test_the_last_month_alone_keeps_the_default_first(app, client, world):
    client.login("admin")
    english(client)
    response = client.get("/headline/company?to=2026-06")
    assert errors(response) == [] and "summary" in figures(response)


@pytest.mark.parametrize("branch", ["abc", "0", "-1", "99999999", "2147483648", "1.5"])
def test_a_branch_that_is_none_answers_404(client, world, branch):
    client.login("admin")
    assert client.get(f"/headline/branch?branch={branch}").status_code == 404


def test_a_head_asking_for_another_branch_is_refused(client, world):
    client.login("head")
    assert client.get(f"/headline/branch?branch={world.other_branch.id}").status_code == 403
    assert client.get(f"/headline/branch?branch={world.branch.id}").status_code == 200
