"""warning months: the figures of "Do the warnings work?" stored per complete month

Revision ID: 0021_warning_months
Revises: 0020_repayment_imports
Create Date: 2026-11-26 21:03:40.626240

The months are built afterwards by `flask reports warnings` or by the worker's hourly
run (docs/risk.md); until a month is built the page computes it as before.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_warning_months"
down_revision = "0020_repayment_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "warning_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_warning_months")),
    )
    op.create_table(
        "warning_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column(
            "risk_level",
            sa.Enum(
                "green", "yellow", "orange", "red", name="risklevel", native_enum=False, length=8
            ),
            nullable=True,
        ),
        sa.Column("borrowers", sa.Integer(), nullable=False),
        sa.Column("in_trouble", sa.Integer(), nullable=False),
        sa.Column("visited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_warning_figures_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_figures")),
    )
    with op.batch_alter_table("warning_figures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_warning_figures_month_branch", ["month", "branch_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("warning_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_warning_figures_month_branch")

    op.drop_table("warning_figures")
    op.drop_table("warning_months")
