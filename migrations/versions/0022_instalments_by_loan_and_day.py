"""instalments by loan and due date: a branch's month of instalments without every branch's

Revision ID: 0022_instalments_by_loan_and_day
Revises: 0021_warning_months
Create Date: 2026-11-26 23:40:00

The repayment rate of one branch (portal/portfolio/quality.py) read the month's
instalments of every branch through the due-date index and only then kept its own.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_instalments_by_loan_and_day"
down_revision = "0021_warning_months"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.create_index("ix_loan_instalments_loan_due", ["loan_id", "due_on"], unique=False)


def downgrade():
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_instalments_loan_due")
