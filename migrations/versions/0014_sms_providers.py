"""sms providers: approved templates, delivery receipts, daily caps

Revision ID: 0014_sms_providers
Revises: 0013_visit_photos
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_sms_providers"
down_revision = "0013_visit_photos"
branch_labels = None
depends_on = None


def upgrade():
    # Greetings sent through Alibaba Cloud or Tencent Cloud SMS (docs/sms.md): the values
    # an approved template is filled with, the number the message went to (the daily
    # limit per number counts by it), the provider's id of the message and its latest
    # code (delivery receipts find the row by the id), and when it was delivered.
    # The new outbox status ``delivered`` needs no change: statuses are plain strings.
    with op.batch_alter_table("care_outbox") as batch:
        batch.add_column(sa.Column("template_values", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("mobile", sa.String(20), nullable=True))
        batch.add_column(sa.Column("provider_ref", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("provider_code", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_care_outbox_provider_ref", ["gateway", "provider_ref"])
        batch.create_index("ix_care_outbox_mobile_sent", ["mobile", "sent_at"])


def downgrade():
    with op.batch_alter_table("care_outbox") as batch:
        batch.drop_index("ix_care_outbox_mobile_sent")
        batch.drop_index("ix_care_outbox_provider_ref")
        for column in ("delivered_at", "provider_code", "provider_ref", "mobile", "template_values"):
            batch.drop_column(column)
