"""visits: a partial index of the amendments replaces the index on amends_id

Nearly every visit has amends_id NULL, so the full index looked useless to both
planners once statistics existed, and "is there a newer version of this visit" read
every later visit instead (docs/performance.md). The partial index holds only the
amendments; an equality on amends_id implies IS NOT NULL, so both databases use it.

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


def downgrade():
    op.create_index("ix_visits_amends_id", "visits", ["amends_id"], unique=False)
    op.drop_index("ix_visits_amendments", table_name="visits")
