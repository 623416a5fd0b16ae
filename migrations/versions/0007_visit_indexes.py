"""visits: indexes that answer the reports whatever the statistics say

- A partial index of the amendments replaces the index on amends_id. Nearly every
  visit has amends_id NULL, so the full index looked useless to SQLite once
  statistics existed, and "is there a newer version of this visit" read every later
  visit instead (docs/performance.md). An equality on amends_id implies IS NOT NULL,
  so both databases use the partial index, with or without statistics.
- The borrower and branch indexes carry the columns the monthly rule, the reports,
  the satisfaction figures and the tier suggestions read, so those are answered from
  the index without reading the wide visit rows.

Revision ID: 0007_visit_amendments
Revises: 0006_services
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_visit_amendments"
down_revision = "0006_services"
branch_labels = None
depends_on = None

AMENDMENTS_ONLY = sa.text("amends_id IS NOT NULL")
BRANCH_FIGURES = [
    "branch_id", "visited_at", "officer_id", "risk_level", "satisfaction", "amends_id", "id",
]
BORROWER_VISITED = ["borrower_id", "visited_at", "risk_level", "amends_id"]


def upgrade():
    op.create_index(
        "ix_visits_amendments",
        "visits",
        ["amends_id", "id"],
        unique=False,
        sqlite_where=AMENDMENTS_ONLY,
        postgresql_where=AMENDMENTS_ONLY,
    )
    op.drop_index("ix_visits_amends_id", table_name="visits")
    op.create_index("ix_visits_branch_figures", "visits", BRANCH_FIGURES, unique=False)
    op.drop_index("ix_visits_branch_visited", table_name="visits")
    op.drop_index("ix_visits_borrower_visited", table_name="visits")
    op.create_index("ix_visits_borrower_visited", "visits", BORROWER_VISITED, unique=False)


def downgrade():
    op.drop_index("ix_visits_borrower_visited", table_name="visits")
    op.create_index(
        "ix_visits_borrower_visited", "visits", ["borrower_id", "visited_at"], unique=False
    )
    op.create_index(
        "ix_visits_branch_visited", "visits", ["branch_id", "visited_at"], unique=False
    )
    op.drop_index("ix_visits_branch_figures", table_name="visits")
    op.create_index("ix_visits_amends_id", "visits", ["amends_id"], unique=False)
    op.drop_index("ix_visits_amendments", table_name="visits")
