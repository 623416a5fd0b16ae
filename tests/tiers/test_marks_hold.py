"""Issue 20: repayment trouble and red warnings hold a tier down, never raise it."""

from datetime import date
from decimal import Decimal

import pytest

from portal.borrowers.models import Tier
from portal.loans.models import RepaymentStatus
from tests.care.helpers import add_borrower
from tests.tiers.test_tiers import give_loan, red_visit, set_tier

SMALL = {"approved_amount": Decimal("60000.00"), "disbursed_on": date(2025, 3, 1)}


@pytest.fixture
def potential(app, world):
    """A borrower of the World's officer still at the potential tier."""
    return add_borrower(app, world)


def _marked(app, world, borrower_id, mark):
    if mark == "written_off":
        give_loan(app, borrower_id, written_off=True, **SMALL)
    elif mark == "overdue_157":
        give_loan(
            app, borrower_id, repayment_status=RepaymentStatus.OVERDUE, overdue_days=157, **SMALL
        )
    else:
        give_loan(app, borrower_id, **SMALL)
        red_visit(app, world, borrower_id)


@pytest.mark.parametrize("mark", ["written_off", "overdue_157", "red_warning"])
def test_a_marked_potential_borrower_is_not_raised(app, client, world, potential, mark):
    _marked(app, world, potential, mark)
    client.login("head")
    page = client.get(f"/tiers/borrowers/{potential}").get_data(as_text=True)
    assert '<option selected value="potential">' in page
    assert '<option selected value="general">' not in page
    review = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert f'/tiers/borrowers/{potential}"' not in review


def test_a_marked_strategic_borrower_is_still_capped_at_general(app, client, world, potential):
    _marked(app, world, potential, "overdue_157")
    set_tier(app, potential, Tier.STRATEGIC)
    client.login("head")
    page = client.get(f"/tiers/borrowers/{potential}").get_data(as_text=True)
    assert "157" in page
    assert '<option selected value="general">' in page
    review = client.get("/tiers/review/yearly").get_data(as_text=True)
    assert f'/tiers/borrowers/{potential}"' in review
