"""visits: the officer's day plan and the field kit's outbox entries

Revision ID: 0009_field_kit
Revises: 0008_tier_suggestions
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0009_field_kit"
down_revision = "0008_tier_suggestions"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
