"""sms providers: approved templates, delivery receipts, daily caps

Revision ID: 0014_sms_providers
Revises: 0013_visit_photos
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0014_sms_providers"
down_revision = "0013_visit_photos"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
