"""compliance counts: owed and done visits per branch, officer and month, kept by every write

Revision ID: 0017_compliance_counts
Revises: 0016_tier_suggestion_branch

The months are built afterwards by `flask visits counts --rebuild` or by the worker's
hourly run (docs/visits.md); until a month is built its counts are computed as before.
"""

from alembic import op
import sqlalchemy as sa

revision = "0017_compliance_counts"
down_revision = "0016_tier_suggestion_branch"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "compliance_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("owed", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_compliance_counts_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_compliance_counts_officer_id_users")
        ),
        sa.PrimaryKeyConstraint("month", "branch_id", "officer_id", name=op.f("pk_compliance_counts")),
    )
    op.create_table(
        "compliance_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_compliance_months")),
    )


def downgrade():
    op.drop_table("compliance_months")
    op.drop_table("compliance_counts")
