"""Issue 11: a borrower's pages show what is theirs, never the company's internal judgements.

The borrower's records carry every judgement the company makes about them: a tier set
by the head (with its history), red, orange and yellow visits with the officer's
remarks and an acknowledged red warning, a loan approved and one rejected with the
committee's notes, and a written-off loan. The borrower then walks every page they
may reach: every GET row of the route lists (tests/*/routes.py) allowed to the
borrower, and every link those pages lead to within the borrower's endpoints, in
Chinese and in English. None may show the internal values; staff still see them.
"""

import html
import re
from collections import deque
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal.accounts.models import Role, User
from portal.borrowers.models import TIER_LABELS, Borrower, Tier
from portal.branches.models import Branch
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, RepaymentStatus
from portal.tiers.models import DECISION_LABELS
from portal.tiers.operations import decide_tier
from portal.visits.models import VisitWarning
from portal.visits.operations import acknowledge_warning
from portal.visits.risk import LEVEL_LABELS, SIGNAL_LABELS, RiskLevel, RiskSignal
from tests.factories import make_user
from tests.loans.helpers import english
from tests.test_access_matrix import ALL_ROUTES, FEATURE_MODULES
from tests.visits.helpers import make_visit

# What staff typed: each carries a tag no page would show by chance.
COMMITTEE_NOTE = "委员会内部意见：担保人资质存疑 CN-4711"
REJECTION_REASON = "委员会拒绝理由：负债率过高 RJ-4712"
WRITE_OFF_REASON = "核销原因：借款人失联 WO-4713"
REPAYMENT_NOTE = "信贷员内部备注：已催收两次 RP-4714"
TIER_REASON = "行长调整等级理由 TR-4715"
OBSERVATIONS = "信贷员观察：疑似转移资产 OB-4716"
WARNING_ACTION = "红色预警处置：已上门核查 WA-4717"
DECIDER = "审贷委员会张主任"
TYPED = (
    COMMITTEE_NOTE,
    REJECTION_REASON,
    WRITE_OFF_REASON,
    REPAYMENT_NOTE,
    TIER_REASON,
    OBSERVATIONS,
    WARNING_ACTION,
    DECIDER,
)

# The checklist signals of the visits (none of them is also an answer's label).
RED = frozenset({RiskSignal.UNREACHABLE, RiskSignal.NEW_LARGE_DEBTS})
ORANGE = frozenset({RiskSignal.DISPUTE_LAWSUIT})
YELLOW = frozenset({RiskSignal.MARKET_COLLAPSE})
# Attributes that would carry a judgement in the page source.
MARKERS = ('data-risk="', 'data-tier="')


def _labels(app, locale: str) -> list[str]:
    """The internal values and their headings, as the pages print them in ``locale``."""
    with app.test_request_context(), force_locale(locale):
        return [
            str(TIER_LABELS[Tier.STRATEGIC]),
            *(str(label) for label in LEVEL_LABELS.values()),
            *(str(SIGNAL_LABELS[signal]) for signal in RED | ORANGE | YELLOW),
            *(str(label) for label in DECISION_LABELS.values()),
            _("Tier"),
            _("Risk level"),
            _("Risk warning signals"),
            _("Decided by"),
            _("Note or reason"),
            _("Written off"),
            _("Red warning"),
            _("Loan officer's observations"),
        ]


def forbidden(app, locale: str) -> list[str]:
    return [*TYPED, *_labels(app, locale), *MARKERS]


def found(text: str, body: str) -> bool:
    """``text`` on the page; a Latin word only as a whole word ("Red", not "Reduce")."""
    if re.fullmatch(r"[A-Za-z' ]+", text):
        return re.search(rf"(?<![A-Za-z]){re.escape(text)}(?![A-Za-z])", body) is not None
    return text in body


@pytest.fixture
def judged(app, world) -> dict:
    """The World's borrower with every internal judgement on record; ids to visit."""
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        committee = make_user(
            "committee",
            Role.HEAD,
            db.session.get(Branch, world.branch.id),
            display_name=DECIDER,
        )
        today = local_today()

        decide_tier(
            borrower,
            Tier.STRATEGIC,
            suggested=Tier.GENERAL,
            reason=TIER_REASON,
            period="",
            decided_by=committee,
        )

        approved = lifecycle.apply(
            borrower,
            officer,
            amount=Decimal("20000"),
            term_months=12,
            purpose="扩建鸭棚",
            annual_rate_percent=Decimal("8.5"),
        )
        lifecycle.approve(
            approved,
            committee,
            decided_on=today,
            amount=Decimal("15000"),
            term_months=12,
            note=COMMITTEE_NOTE,
        )
        rejected = lifecycle.apply(
            borrower,
            officer,
            amount=Decimal("90000"),
            term_months=24,
            purpose="购买农机",
            annual_rate_percent=Decimal("9"),
        )
        lifecycle.reject(rejected, committee, decided_on=today, reason=REJECTION_REASON)

        written_off = db.session.get(Loan, world.own_loan.id)
        lifecycle.update_repayment(
            written_off,
            officer,
            status=RepaymentStatus.OVERDUE,
            overdue_days=45,
            balance=Decimal("40000"),
            note=REPAYMENT_NOTE,
        )
        lifecycle.write_off(written_off, committee, reason=WRITE_OFF_REASON)

        now = utcnow()
        red = make_visit(
            borrower,
            officer,
            now - timedelta(hours=6),
            risk_signals=RED,
            officer_observations=OBSERVATIONS,
        )
        assert red.risk_level == RiskLevel.RED
        warning = db.session.scalars(
            sa.select(VisitWarning).where(VisitWarning.visit_id == red.id)
        ).one()
        acknowledge_warning(warning, committee, WARNING_ACTION)
        orange = make_visit(borrower, officer, now - timedelta(hours=5), risk_signals=ORANGE)
        amended = make_visit(
            borrower, officer, orange.visited_at, amends=orange, risk_signals=ORANGE | YELLOW
        )
        yellow = make_visit(borrower, officer, now - timedelta(hours=4), risk_signals=YELLOW)
        db.session.commit()
        return {
            "borrower": borrower.id,
            "approved": approved.id,
            "rejected": rejected.id,
            "written_off": written_off.id,
            "red": red.id,
            "orange": orange.id,
            "amended": amended.id,
            "yellow": yellow.id,
        }


@pytest.fixture
def ids(app, world, judged) -> dict:
    """Path values of the route lists: the World's records plus each feature's.

    Asks for ``judged`` so the judgements are on record before the features add theirs.
    """
    values = dict(world.__dict__)
    for module in FEATURE_MODULES:
        if hasattr(module, "objects"):
            values |= module.objects(app, world)
    return values


def borrower_endpoints(app) -> set[str]:
    """Endpoints a borrower may reach, by the route lists; the views' role gates agree."""
    listed = {
        route.endpoint for route in ALL_ROUTES if route.allowed and "borrower" in route.allowed
    }
    gated = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if Role.BORROWER in getattr(app.view_functions[rule.endpoint], "allowed_roles", ())
    }
    assert gated - listed == set(), "a view lets borrowers in that no route list says so"
    return listed


def _endpoint(app, path: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


_HREF = re.compile(r'href="(/[^"#]*)')


def walk(app, client, ids: dict) -> dict[str, str]:
    """Every page the logged-in borrower reaches: the listed rows, then their links."""
    endpoints = borrower_endpoints(app)
    queue = deque(
        route.path.format(**ids)
        for route in ALL_ROUTES
        if route.method == "GET" and route.allowed and "borrower" in route.allowed
    )
    pages, seen = {}, set()
    while queue:
        path = html.unescape(queue.popleft())
        if path in seen or len(seen) > 300:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)
        if response.status_code == 302:
            queue.append(response.headers["Location"])
            continue
        if response.mimetype != "text/html":
            response.close()  # a streamed file ends its request, as a browser's download does
            continue  # signatures; the PDFs are the reports' (see the report of issue 11)
        body = response.get_data(as_text=True)
        pages[path] = body
        queue.extend(link for link in _HREF.findall(body) if _endpoint(app, link) in endpoints)
    return pages


def leaks(app, pages: dict[str, str], locale: str) -> str:
    """One line per internal text found on a page; empty when none is."""
    texts = forbidden(app, locale)
    return "\n".join(
        f"{path}: {text}"
        for path, body in pages.items()
        for text in texts
        if found(text, html.unescape(body))
    )


def test_the_borrower_sees_no_internal_judgement_on_any_page(app, client, world, judged, ids):
    assert client.login(world.borrower.name).status_code == 302
    pages = walk(app, client, ids)
    # The walk reached the records that carry the judgements.
    for path in (
        "/me",
        "/me/visits",
        f"/loans/{judged['approved']}",
        f"/loans/{judged['rejected']}",
        f"/loans/{judged['written_off']}",
        f"/visits/{judged['red']}",
        f"/visits/{judged['amended']}",
    ):
        assert path in pages
    leaked = leaks(app, pages, "zh")
    assert not leaked, leaked

    english(client)
    pages = walk(app, client, ids)
    leaked = leaks(app, pages, "en")
    assert not leaked, leaked


def test_the_borrower_still_sees_what_is_theirs(app, client, world, judged):
    assert client.login(world.borrower.name).status_code == 302
    english(client)
    loan = client.get(f"/loans/{judged['approved']}").get_data(as_text=True)
    assert "¥15,000.00" in loan  # the approved amount: the loan's terms
    assert "Approved" in loan
    rejected = client.get(f"/loans/{judged['rejected']}").get_data(as_text=True)
    assert "Rejected" in rejected
    visit = client.get(f"/visits/{judged['red']}").get_data(as_text=True)
    for answer in ("Business state", "Borrower's signature", "Satisfaction with the company"):
        assert answer in html.unescape(visit)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_staff_still_see_the_internal_judgements(app, client, world, judged, locale):
    assert client.login("committee").status_code == 302
    if locale == "en":
        english(client)
    with app.test_request_context(), force_locale(locale):
        tier, red, written_off = (
            str(TIER_LABELS[Tier.STRATEGIC]),
            str(LEVEL_LABELS[RiskLevel.RED]),
            str(_("Written off")),
        )

    def page(path: str) -> str:
        response = client.get(path.format(**judged))
        assert response.status_code == 200, path
        return html.unescape(response.get_data(as_text=True))

    assert found(tier, page("/borrowers/{borrower}"))
    assert TIER_REASON in page("/tiers/borrowers/{borrower}")
    approved = page("/loans/{approved}")
    assert COMMITTEE_NOTE in approved and DECIDER in approved
    assert REJECTION_REASON in page("/loans/{rejected}")
    loan = page("/loans/{written_off}")
    assert found(written_off, loan) and WRITE_OFF_REASON in loan and REPAYMENT_NOTE in loan
    visit = page("/visits/{red}")
    assert found(red, visit) and OBSERVATIONS in visit and WARNING_ACTION in visit
    assert 'data-risk="red"' in page("/borrowers/{borrower}/visits")
