"""jobs: rendered report files and reminders

Revision ID: 0011_jobs
Revises: 0010_daily_use
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0011_jobs"
down_revision = "0010_daily_use"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
