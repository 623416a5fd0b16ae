"""daily use: business quantities, service partners

Revision ID: 0010_daily_use
Revises: 0009_field_kit
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_daily_use"
down_revision = "0009_field_kit"
branch_labels = None
depends_on = None


def upgrade():
    # A service delivered by an outside partner (a lawyer, the county livestock station):
    # its organisation and contact, shown to the borrower.
    for table in ("service_requests", "service_sessions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("partner_name", sa.String(100), nullable=False, server_default="")
            )
            batch.add_column(
                sa.Column("partner_contact", sa.String(100), nullable=False, server_default="")
            )


def downgrade():
    for table in ("service_sessions", "service_requests"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("partner_contact")
            batch.drop_column("partner_name")
