"""daily use: business quantities, service partners

Revision ID: 0010_daily_use
Revises: 0009_field_kit
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0010_daily_use"
down_revision = "0009_field_kit"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
