"""repayment schedules: the method chosen at approval, the instalments stored at disbursement,
the repayments recorded against them

Revision ID: 0018_repayment_schedules
Revises: 0017_compliance_counts
"""

from alembic import op
import sqlalchemy as sa

revision = "0018_repayment_schedules"
down_revision = "0017_compliance_counts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "repayment_method",
                sa.String(length=24),
                nullable=False,
                server_default="equal_instalments",
            )
        )
    op.create_table(
        "loan_instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("balance_after", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
            name=op.f("fk_loan_instalments_loan_id_loans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_instalments")),
        sa.UniqueConstraint("loan_id", "number", name=op.f("uq_loan_instalments_loan_id_number")),
    )
    op.create_index("ix_loan_instalments_due_on", "loan_instalments", ["due_on"], unique=False)
    op.create_table(
        "repayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("principal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_repayments_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_repayments_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayments")),
        sa.UniqueConstraint("source", "reference", name=op.f("uq_repayments_source_reference")),
    )
    op.create_index(op.f("ix_repayments_loan_id"), "repayments", ["loan_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_repayments_loan_id"), table_name="repayments")
    op.drop_table("repayments")
    op.drop_index("ix_loan_instalments_due_on", table_name="loan_instalments")
    op.drop_table("loan_instalments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("repayment_method")
