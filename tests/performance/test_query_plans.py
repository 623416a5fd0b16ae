"""Query plans that do not depend on luck (issue 12).

A small company from the benchmark's generator (twenty branches, a handful of
amended visits among thousands, ``ANALYZE`` run), so the planner's statistics have
the real skew: ``amends_id`` NULL on nearly every row. Then the report and page
queries, as the pages run them, are explained (not executed) and no step may read
visits, loans or borrowers by a full or range scan once per row of something else
(``tests/performance/plans.py`` says exactly what counts).
"""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.care import queries as care_queries
from portal.core.calendar import Month, current_month, local_today
from portal.demo.generate import generate
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.networking.models import BusinessTag
from portal.networking.operations import set_profile
from portal.networking.vocabulary import ensure_default_tags
from portal.reports import data, queries
from portal.services import queries as services_queries
from portal.services.operations import ensure_catalogue
from portal.tiers import facts
from portal.visits.models import Visit
from tests.factories import make_user
from tests.performance import plans

SEED = 20261122


@dataclass(frozen=True)
class Company:
    branch_id: int
    borrower_id: int  # officer-0001's, with an active loan
    amended_visit: int
    amended_head: str
    month: Month


@pytest.fixture
def company(app) -> Company:
    """400 borrowers in 20 branches, 12 months of visits, a few amended; fresh statistics."""
    with app.app_context():
        ensure_catalogue()  # emptied with every table after the previous test
        ensure_default_tags()
        generate(400, 12, SEED, per_officer=10, per_branch=2)
        make_user("plan-admin", Role.ADMIN)
        branch = db.session.scalar(sa.select(Branch).where(Branch.code == "G01"))
        borrowers = db.session.scalars(
            sa.select(Borrower).where(Borrower.branch_id == branch.id).order_by(Borrower.id)
        ).all()
        tags = db.session.scalars(sa.select(BusinessTag.id).order_by(BusinessTag.id)).all()
        for index, borrower in enumerate(borrowers[:6]):
            offers, needs = (tags[:2], tags[2:4]) if index % 2 else (tags[2:4], tags[:2])
            set_profile(
                borrower, offer_tag_ids=offers, need_tag_ids=needs, free_offers=[], free_needs=[]
            )
        amended, amended_branch = db.session.execute(
            sa.select(Visit.amends_id, Branch.code)
            .join(Branch, Branch.id == Visit.branch_id)
            .where(Visit.amends_id.is_not(None))
            .order_by(Visit.id)
            .limit(1)
        ).one()
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        active = db.session.scalar(
            sa.select(Borrower.id)
            .join(Loan, Loan.borrower_id == Borrower.id)
            .join(User, User.id == Borrower.officer_id)
            .where(User.username == "officer-0001", Loan.status == LoanStatus.ACTIVE)
            .order_by(Borrower.id)
            .limit(1)
        )
        return Company(
            branch.id,
            active,
            amended,
            f"head-{amended_branch.lower()}",
            current_month().shift(-1),
        )


def test_the_data_set_has_the_real_skew(app, company):
    with app.app_context():
        total, amendments = db.session.execute(
            sa.select(sa.func.count(Visit.id), sa.func.count(Visit.amends_id))
        ).one()
    assert total > 2000
    assert 1 <= amendments <= total // 100  # NULL on nearly every row, as in real use


def _problems(app, statements) -> list[str]:
    seen, found = set(), []
    with app.app_context(), db.engine.connect() as connection:
        for statement in statements:
            if statement.sql in seen:
                continue
            seen.add(statement.sql)
            found += [str(problem) for problem in plans.problems(connection, statement)]
    return found


def test_the_newest_version_of_a_visit_is_one_index_probe(app, company):
    """Reports, satisfaction and tier suggestions ask it for every visit they count."""
    month = company.month
    with app.app_context(), plans.capture(db.engine) as statements:
        queries.risk_counts(company.branch_id, [month.shift(-1), month])
        queries.visit_satisfaction(company.branch_id, month)
        first, after = services_queries.period_bounds(month.first_day, month.last_day)
        services_queries.visit_satisfaction(lambda column: sa.true(), first, after)
        among = sa.select(Borrower.id).where(Borrower.branch_id == company.branch_id)
        facts.gather([company.borrower_id], local_today(), among)
    assert len(statements) >= 5
    problems = _problems(app, statements)
    assert not problems, "\n".join(problems)


def _pages(company: Company) -> dict[str, list[str]]:
    month = str(company.month)
    borrower = company.borrower_id
    pages = {
        "head-g01": [
            "/visits/compliance",
            f"/visits/compliance?month={month}",
            "/visits/warnings",
            "/services/satisfaction",
            "/services/queue",
            "/tiers/review/yearly",
            "/tiers/review/half-yearly",
            f"/tiers/borrowers/{borrower}",
            "/care/outbox",
            "/care/strategic",
            "/networking/profiles",
            "/networking/matches",
            f"/reports/branch/G01/{month}.pdf",
            "/reports/warnings",
            f"/portfolio?month={month}",
            "/headline/branch",
        ],
        "officer-0001": [
            "/visits/month",
            f"/borrowers/{borrower}",
            f"/borrowers/{borrower}/visits/new",
            f"/borrowers/{borrower}/visits",
        ],
        "plan-admin": [
            "/services/satisfaction",
            "/tiers/review/yearly",
            "/reports/branch/G02/" + month + ".pdf",
            "/reports/warnings",
            f"/portfolio?month={month}",
            "/headline/company",
        ],
    }
    # An amended original: its page lists the versions, its report prints them.
    amended = [f"/visits/{company.amended_visit}", f"/visits/{company.amended_visit}/report.pdf"]
    pages[company.amended_head] = pages.get(company.amended_head, []) + amended
    return pages


def test_no_report_or_page_reads_a_big_table_once_per_row(app, client, company):
    captured = []
    with app.app_context():
        engine = db.engine
    for username, paths in _pages(company).items():
        client.login(username)
        for path in paths:
            with plans.capture(engine) as statements:
                response = client.get(path)
                response.get_data()  # a report is streamed: its reads happen while it is sent
                response.close()
            assert response.status_code == 200, (path, response.status_code)
            captured += statements
        client.logout()
    # What the visit pack's workers and the daily greetings job read.
    with app.test_request_context(method="GET"), plans.capture(engine) as statements:
        ids = [row.id for row in queries.month_visits(company.branch_id, company.month)[:30]]
        data.visit_reports(ids)
        list(care_queries.due_on(local_today()))
    captured += statements
    problems = _problems(app, captured)
    assert not problems, "\n\n".join(problems)
