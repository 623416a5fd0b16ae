"""Satisfaction per branch, officer and kind, from ratings and from visit forms."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.calendar import local_today
from portal.extensions import db
from portal.services.models import ServiceStatus
from portal.visits.models import ServiceNeed
from tests.services.helpers import english, text
from tests.services.records import make_request
from tests.services.records import sign_visit_of as sign


def _rated(world, rating: int, kind: str, when: datetime, borrower_id=None, assignee_id=None):
    request = make_request(
        borrower_id or world.own_borrower.id, kind, ServiceStatus.COMPLETED, assignee_id=assignee_id
    )
    request.status, request.rating, request.rated_at = ServiceStatus.RATED, rating, when
    return request


def _cells(page: str, testid: str) -> list[list[str]]:
    table = page.split(f'data-testid="{testid}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    return [
        [re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
        for r in rows
    ]


@pytest.fixture
def figures(app, world):
    march = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    with app.app_context():
        _rated(world, 5, "technique_training", march, assignee_id=world.officer.id)
        _rated(world, 3, "technique_training", march, assignee_id=world.officer.id)
        _rated(world, 4, "legal_services", march, assignee_id=world.head.id)
        _rated(world, 1, "legal_services", datetime(2026, 5, 1, tzinfo=UTC))  # outside
        _rated(world, 2, "legal_services", march, world.foreign_borrower.id)  # other branch
        original = sign(world, {ServiceNeed.OTHER}, satisfaction=2)
        sign(world, set(), amends=original, satisfaction=4)  # replaces the original's 2
        sign(world, set(), satisfaction=5)
        db.session.commit()


def test_head_sees_the_branch_figures_of_the_period(client, world, figures, app):
    client.login("head")
    english(client)
    page = text(client.get("/services/satisfaction?from=2026-03-01&to=2026-03-31"))
    assert _cells(page, "by-kind") == [
        ["Planting / breeding technique training", "2", "4.00"],
        ["Legal services", "1", "4.00"],
    ]
    [branch] = _cells(page, "by-branch")
    assert branch[1:3] == ["3", "4.00"]
    officers = {row[0]: row for row in _cells(page, "by-officer")}
    assert officers["officer"][2:4] == ["2", "4.00"]
    assert officers["head"][2:4] == ["1", "4.00"]


def test_visit_satisfaction_counts_the_latest_version_of_each_visit(client, world, figures, app):
    with app.test_request_context():
        today = local_today()
    since = (today - timedelta(days=1)).isoformat()
    client.login("head")
    page = text(client.get(f"/services/satisfaction?from={since}&to={today.isoformat()}"))
    [branch] = _cells(page, "by-branch")
    assert branch[3:5] == ["2", "4.50"]
    officers = {row[0]: row for row in _cells(page, "by-officer")}
    assert officers["officer"][4:6] == ["2", "4.50"]


def test_admin_sees_every_branch(client, world, figures):
    client.login("admin")
    page = text(client.get("/services/satisfaction?from=2026-03-01&to=2026-03-31"))
    assert len(_cells(page, "by-branch")) == 2


@pytest.mark.parametrize(
    ("query", "english_error", "chinese_error"),
    [
        (
            "from=2026-03-31&to=2026-03-01",
            "The end date must not be before the start date.",
            "截止日期不能早于起始日期。",
        ),
        ("from=yesterday&to=2026-03-01", "Not a valid date value.", "不是有效的日期值。"),
        ("from=2026-03-01", "Enter a valid date.", "请输入有效的日期。"),
    ],
)
def test_a_bad_period_is_explained(client, world, query, english_error, chinese_error):
    client.login("head")
    page = text(client.get(f"/services/satisfaction?{query}"))
    assert chinese_error in page and 'data-testid="by-branch"' not in page
    english(client)
    assert english_error in text(client.get(f"/services/satisfaction?{query}"))
