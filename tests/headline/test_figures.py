"""The headline figures of the hand-made company (tests/headline/dataset.py), as the pages show them."""

import re

import pytest

from portal.branches.models import Branch
from portal.extensions import db
from tests.headline import dataset
from tests.headline.helpers import english, figures, page

SUMMARY_A = {
    "lent": "¥210,000.00",
    "borrowers": "to 3 borrowers",
    "outstanding": "¥160,000.00",
    "loans": "3 loans",
    "unscheduled": "1 loan recorded before repayment schedules is not counted.",
    "bad_loans": "2",
    "bad_balance": "¥103,333.33",
    "bad_ratio_by_count": "50.00 %",
    "bad_ratio_by_balance": "44.29 %",
    "overdue": "1 loan 90 days or more overdue at the end, ¥30,000.00",
    "written_off": "1 loan written off in the period, ¥73,333.33",
    "compliance": "50 %",
    "visits": "8 of 16 monthly visits owed were made",
    "services": "3",
    "average_rating": "4.50",
    "ratings": "(2 ratings)",
    "average_satisfaction": "4.50",
    "answers": "(8 visit forms)",
}


def _rows(world) -> dict[str, str]:
    return {"A": world.branch.name, "B": world.other_branch.name, "total": "total"}


@pytest.mark.parametrize("built", ["never", "before", "after"])
def test_the_company_page_shows_each_branch_and_the_company(app, client, world, built):
    """The same figures whether the months' visit counts are kept, built later or not at all."""
    with app.app_context():
        dataset.build(world, built)
    client.login("admin")
    english(client)
    shown = figures(client.get(f"/headline/company?{dataset.PERIOD}"))
    for key, row in _rows(world).items():
        assert {name: shown[row][name] for name in dataset.EXPECTED[key]} == dataset.EXPECTED[key]


def test_the_company_summary_counts_a_borrower_of_two_branches_once(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("admin")
    english(client)
    response = client.get(f"/headline/company?{dataset.PERIOD}")
    summary = figures(response)["summary"]
    assert summary["borrowers"] == "to 5 borrowers"
    assert summary["bad_balance"] == "¥103,333.33"
    assert summary["overdue"] == "1 loan 90 days or more overdue at the end, ¥30,000.00"
    assert summary["written_off"] == "1 loan written off in the period, ¥73,333.33"
    assert summary["unscheduled"] == "2 loans recorded before repayment schedules are not counted."
    assert summary["visits"] == "10 of 26 monthly visits owed were made"
    assert summary["ratings"] == "(3 ratings)" and summary["answers"] == "(10 visit forms)"
    text = page(response)
    assert "5 borrowers lent to · ¥470,000.00 lent · 2 bad loans" in " ".join(text.split())
    assert "Jan 2026 to Jun 2026" in text


def test_the_head_sees_the_branch_as_the_company_page_counts_it(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("head")
    english(client)
    shown = figures(client.get(f"/headline/branch?{dataset.PERIOD}"))
    assert shown["summary"] == SUMMARY_A


def test_an_admin_picks_the_branch(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("admin")
    english(client)
    shown = figures(client.get(f"/headline/branch?branch={world.other_branch.id}&{dataset.PERIOD}"))
    summary = shown["summary"]
    assert summary["lent"] == "¥260,000.00" and summary["borrowers"] == "to 3 borrowers"
    assert summary["bad_loans"] == "0" and summary["bad_ratio_by_balance"] == "0.00 %"
    assert summary["overdue"] == "0 loans 90 days or more overdue at the end, ¥0.00"
    assert summary["compliance"] == "20 %" and summary["services"] == "2"
    assert summary["average_rating"] == "2.00" and summary["ratings"] == "(1 rating)"


def test_a_period_without_loans_says_so_without_dividing_by_zero(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("head")
    english(client)
    response = client.get("/headline/branch?from=2024-01&to=2024-12")
    summary = figures(response)["summary"]
    assert summary["lent"] == "¥0.00" and summary["borrowers"] == "to 0 borrowers"
    assert summary["bad_ratio_by_count"] == "—" and summary["bad_ratio_by_balance"] == "—"
    assert summary["compliance"] == "—" and summary["average_rating"] == "—"
    assert "0 borrowers lent to · ¥0.00 lent · not one bad loan" in " ".join(page(response).split())


def test_one_month_counts_only_that_month(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("admin")
    english(client)
    # June: nothing lent; outstanding and overdue as on 30 June; a1's visit at 23:30 on
    # 30 June counts; a2's request completed at 23:30 on 30 June is delivered in June.
    shown = figures(client.get("/headline/company?from=2026-06&to=2026-06"))
    a, b = shown[world.branch.name], shown[world.other_branch.name]
    assert (a["lent"], b["lent"], shown["total"]["borrowers"]) == ("¥0.00", "¥0.00", "0")
    assert a["outstanding"] == "¥160,000.00" and a["bad_loans"] == "1"  # L3 written off in April
    assert a["bad_ratio_by_balance"] == "18.75 %"  # 30,000 / 160,000
    # June owed: own, a1, a2 (A: 3, visited a1); foreign, b1, b2 (B: 3, visited foreign, b1).
    assert (a["visits"], b["visits"]) == ("(1/3)", "(2/3)")
    assert (a["services"], b["services"]) == ("1", "0")
    # May: L5 lent in B.
    may = figures(client.get("/headline/company?from=2026-05&to=2026-05"))
    assert may[world.other_branch.name]["lent"] == "¥200,000.00"
    assert may["total"]["borrowers"] == "1"


def test_satisfaction_is_the_satisfaction_pages(app, client, world):
    """Per branch, the same ratings and visit satisfaction as /services/satisfaction."""
    with app.app_context():
        dataset.build(world)
    client.login("admin")
    english(client)
    satisfaction = page(client.get("/services/satisfaction?from=2026-01-01&to=2026-06-30"))
    table = satisfaction.split('data-testid="by-branch"')[1].split("</table>")[0]
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in table.split("<tr>")[2:]]
    on_that_page = {label: (avg_rating, avg_visit) for label, _, avg_rating, _, avg_visit in cells}
    shown = figures(client.get(f"/headline/company?{dataset.PERIOD}"))
    with app.app_context():
        names = {
            ref.name: db.session.get(Branch, ref.id).name
            for ref in (world.branch, world.other_branch)
        }
    assert {
        names[code]: (shown[code]["average_rating"], shown[code]["average_satisfaction"])
        for code in names
    } == on_that_page
