"""The officers' evidence figures on the compliance page, and the distance plot's geometry."""

import re

import pytest

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.evidence.models import ReviewAction
from portal.evidence.plot import distance_plot
from portal.evidence.rules import distance_m
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.compliance import OfficerEvidence, evidence_by_officer
from tests.evidence.review_helpers import flag, in_month, last_month, review, signed_visit
from tests.evidence.test_review import counted
from tests.factories import make_borrower, make_loan, make_user


@pytest.fixture
def figures(app, world):
    """Last month: the officer signed four visits (two flagged, one confirmed, one asked
    then answered then asked again), a second officer two (one flagged, to check); the
    other branch one flagged visit; the month before one flagged visit."""
    with app.app_context():
        month = last_month()
        officer = db.session.get(User, world.officer.id)
        head = db.session.get(User, world.head.id)
        second = make_user("officer2", Role.OFFICER, db.session.get(Branch, world.branch.id))
        own = db.session.get(Borrower, world.own_borrower.id)
        theirs = make_borrower(second)
        make_loan(theirs, LoanStatus.ACTIVE)
        a = signed_visit(own, officer, in_month(month, 3))
        flag(a, "far_from_site", distance_m=3000, accuracy_m=10, site="visits")
        flag(a, "quick_signing", seconds=12)  # two flags, one visit
        review(a, ReviewAction.CONFIRMED, head)
        b = signed_visit(own, officer, in_month(month, 9))
        flag(b, "outside_hours", local_time="22:10")
        review(b, ReviewAction.ASKED, head, "?")
        review(b, ReviewAction.ANSWERED, officer, "!")
        review(b, ReviewAction.ASKED, head, "??")
        signed_visit(own, officer, in_month(month, 15))
        signed_visit(own, officer, in_month(month, 20))
        c = signed_visit(theirs, second, in_month(month, 4))
        flag(c, "no_fix", location_status="denied")
        signed_visit(theirs, second, in_month(month, 5))
        foreign = signed_visit(
            db.session.get(Borrower, world.foreign_borrower.id),
            db.session.get(User, world.other_officer.id),
            in_month(month, 6),
        )
        flag(foreign, "no_fix", location_status="timeout")
        before = signed_visit(own, officer, in_month(month.shift(-1), 6))
        flag(before, "no_fix", location_status="timeout")
        db.session.commit()
        return month, second.id


def test_flagged_and_confirmed_per_officer_in_one_query(app, world, figures):
    month, second = figures
    with app.app_context(), counted(app) as statements:
        rows = evidence_by_officer(world.branch.id, month)
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert rows == [
        OfficerEvidence(world.officer.id, "officer", visits=4, flagged=2, confirmed=1, asked=1),
        OfficerEvidence(second, "officer2", visits=2, flagged=1, confirmed=0, asked=0),
    ]
    assert [(r.to_check, r.flagged_percent) for r in rows] == [(0, 50), (1, 50)]
    with app.app_context():
        assert evidence_by_officer(world.branch.id, month.shift(1)) == []


def test_the_compliance_page_shows_the_evidence_figures(client, world, figures):
    month, second = figures
    client.login("head")
    page = client.get(f"/visits/compliance?month={month}").text
    table = page[page.index('data-testid="evidence"') :]
    table = table[: table.index("</table>")]
    cells = {
        officer: re.findall(r'<td class="text-end[^"]*">([^<]*)', row)
        for officer, row in re.findall(r'data-officer="(\d+)">(.*?)</tr>', table, re.S)
    }
    assert cells == {
        str(world.officer.id): ["4", "2 ", "1", "1", "0"],
        str(second): ["2", "1 ", "0", "0", "1"],
    }
    assert f'/evidence/to-check?month={month}"' in page


# --- The distance plot ----------------------------------------------------------------

SITE = (33.72, 118.68)


def test_a_fix_north_of_the_site_is_drawn_above_it_at_scale():
    fix = (33.72 + 2400 / 111_195, 118.68)  # 2.4 km north
    plot = distance_plot(SITE, fix, accuracy_m=30)
    assert plot.distance_m == pytest.approx(2400, abs=2)
    assert plot.visit.y < plot.site.y and plot.visit.x == pytest.approx(plot.site.x)
    drawn = plot.site.y - plot.visit.y
    assert plot.scale_px / plot.scale_m == pytest.approx(drawn / 2400, rel=0.01)
    assert plot.scale_m in (1000, 2000) and plot.visit.r == pytest.approx(30 * drawn / 2400, 0.05)
    for mark in (plot.site, plot.visit):
        assert 0 < mark.x < plot.size and 0 < mark.y < plot.size


def test_an_east_fix_is_to_the_right_and_the_accuracy_circle_fits():
    fix = (33.72, 118.70)
    plot = distance_plot(SITE, fix, accuracy_m=900)
    assert plot.visit.x > plot.site.x
    assert plot.distance_m == round(distance_m(*SITE, *fix))
    assert plot.visit.x + plot.visit.r <= plot.size and plot.visit.y - plot.visit.r >= 0


def test_without_a_site_the_fix_and_the_other_visits_are_drawn():
    earlier = [(33.7205, 118.6805), (33.7195, 118.6790)]
    plot = distance_plot(None, SITE, None, earlier)
    assert plot.site is None and not plot.line and plot.distance_m is None
    assert len(plot.earlier) == 2
    assert all(0 < m.x < plot.size and 0 < m.y < plot.size for m in plot.earlier)


def test_other_visits_far_outside_the_plot_are_left_out():
    plot = distance_plot(SITE, (33.7205, 118.68), 10, [(34.5, 119.5), (33.7202, 118.6801)])
    assert len(plot.earlier) == 1


def test_no_site_and_no_fix_draws_nothing():
    assert distance_plot(None, None) is None


def test_the_one_query_does_not_read_other_branches(app, world, figures):
    month, _ = figures
    with app.app_context():
        rows = evidence_by_officer(world.other_branch.id, month)
    assert [(r.officer_id, r.visits, r.flagged, r.to_check) for r in rows] == [
        (world.other_officer.id, 1, 1, 1)
    ]
