"""services: complaints follow the borrower's current officer; once-only service requests

A complaint no longer stores its handler: the borrower's current officer handles it
(``Complaint.visible_to``), so a reassignment hands it over. A service request sent
from the portal keeps its form's once-only token, unique, so the same form posted twice
stores one request (``portal.core.once``).

Revision ID: 0006_services
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006_services"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_handler_status")
        batch_op.drop_constraint(op.f("fk_complaints_handler_id_users"), type_="foreignkey")
        batch_op.drop_column("handler_id")

    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            op.f("uq_service_requests_idempotency_token"), ["idempotency_token"]
        )


def downgrade():
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_service_requests_idempotency_token"), type_="unique")
        batch_op.drop_column("idempotency_token")

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_complaints_handler_id_users"), "users", ["handler_id"], ["id"]
        )
        batch_op.create_index("ix_complaints_handler_status", ["handler_id", "status"])
    # The officer each borrower has now is the best answer to "who handled it".
    op.execute(
        "UPDATE complaints SET handler_id = "
        "(SELECT officer_id FROM borrowers WHERE borrowers.id = complaints.borrower_id)"
    )
