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
    # An offer or need can say how much, when and at what price: 60 head of pigs in March,
    # 2 t of feed a month. ``months`` is a bit set (bit 0 = January); 0 means any time.
    with op.batch_alter_table("business_profile_entries") as batch:
        batch.add_column(sa.Column("quantity", sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column("unit", sa.String(20), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("per_month", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("months", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("price", sa.Numeric(12, 2), nullable=True))
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
    with op.batch_alter_table("business_profile_entries") as batch:
        for column in ("price", "months", "per_month", "unit", "quantity"):
            batch.drop_column(column)
    for table in ("service_sessions", "service_requests"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("partner_contact")
            batch.drop_column("partner_name")
