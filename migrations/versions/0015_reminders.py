"""reminders: warning deadlines and escalation, event replies, officers' SMS choice

Revision ID: 0015_reminders
Revises: 0014_sms_providers
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0015_reminders"
down_revision = "0014_sms_providers"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
