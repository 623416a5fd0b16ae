"""The benchmark's generated company carries visit evidence, and the head's pages read it by index.

A small company from the generator (as tests/performance/test_query_plans.py builds
one): its recent visits have photos whose band columns match their hashes and which
the signed record covers, a realistic share of visits is flagged, the head's checks
are on flagged visits only; and the "visits to check" pages, a visit's check and the
compliance figures read no big table once per row.
"""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.core.calendar import Month, company_tz, current_month
from portal.demo.generate import FLAG_RATE, PHOTO_MONTHS, generate
from portal.evidence.models import VisitFlag, VisitReview
from portal.evidence.rules import FlagCode
from portal.extensions import db
from portal.services.operations import ensure_catalogue
from portal.visits import counts
from portal.visits.models import Visit, VisitPhoto
from portal.visits.operations import verify
from portal.visits.photos import BAND_COLUMNS, bands, similar_photos
from tests.performance import plans


@dataclass(frozen=True)
class Company:
    branch_id: int
    flagged_visit: int
    month: Month


@pytest.fixture
def company(app) -> Company:
    """400 borrowers in 20 branches over 12 months; fresh statistics."""
    with app.app_context():
        ensure_catalogue()
        generate(400, 12, 20261122, per_officer=10, per_branch=2)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        branch = db.session.scalar(sa.select(Branch.id).where(Branch.code == "G01"))
        flagged = db.session.scalar(
            sa.select(VisitFlag.visit_id)
            .where(VisitFlag.branch_id == branch)
            .order_by(VisitFlag.visited_at.desc())
            .limit(1)
        )
        return Company(branch, flagged, current_month().shift(-1))


def test_recent_visits_have_photos_in_the_index_and_the_record(app, company):
    with app.app_context():
        photos = db.session.scalars(sa.select(VisitPhoto)).all()
        assert photos
        since = current_month().shift(1 - PHOTO_MONTHS).bounds(company_tz())[0]
        visits = {v.id: v for v in db.session.scalars(sa.select(Visit))}
        assert all(visits[p.visit_id].visited_at >= since for p in photos)
        assert all(
            tuple(getattr(p, c) for c in BAND_COLUMNS) == bands(p.phash) for p in photos[:200]
        )
        sample = {p.visit_id for p in photos[:20]}
        assert all(verify(visits[i]) for i in sample)
        found = similar_photos(photos[0].phash, 8)
        assert (photos[0].id, 0) in [(p.id, bits) for p, bits in found]


def test_a_realistic_share_is_flagged_and_only_flagged_visits_are_checked(app, company):
    with app.app_context():
        visits = db.session.scalar(sa.select(sa.func.count(Visit.id)))
        flagged = set(db.session.scalars(sa.select(VisitFlag.visit_id)))
        assert FLAG_RATE / 2 < len(flagged) / visits < FLAG_RATE * 1.5
        codes = set(db.session.scalars(sa.select(VisitFlag.code).distinct()))
        assert codes <= {code.value for code in FlagCode} and len(codes) >= 6
        reviewed = set(db.session.scalars(sa.select(VisitReview.visit_id)))
        assert reviewed and reviewed <= flagged


def test_the_heads_pages_read_by_index(app, client, company):
    with app.app_context():
        engine = db.engine
        head = db.session.scalar(
            sa.select(User.username).where(User.branch_id == company.branch_id, User.role == "head")
        )
        officer = db.session.scalar(
            sa.select(User.username)
            .join(Visit, Visit.officer_id == User.id)
            .where(Visit.id == company.flagged_visit)
        )
    pages = {
        head: [
            "/evidence/to-check",
            f"/evidence/to-check?month={company.month}&show=all",
            f"/evidence/visits/{company.flagged_visit}",
            f"/visits/compliance?month={company.month}",
        ],
        officer: ["/evidence/questions", f"/evidence/visits/{company.flagged_visit}"],
    }
    captured = []
    for username, paths in pages.items():
        client.login(username)
        for path in paths:
            with plans.capture(engine) as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            captured += statements
        client.logout()
    found = []
    with app.app_context(), engine.connect() as connection:
        for statement in {s.sql: s for s in captured}.values():
            found += [str(problem) for problem in plans.problems(connection, statement)]
    assert not found, "\n\n".join(found)


def test_the_generated_company_has_its_compliance_counts_built(app, company):
    with app.app_context():
        assert counts.build_missing() == []  # every month of its loans is built
        assert counts.differences() == []
