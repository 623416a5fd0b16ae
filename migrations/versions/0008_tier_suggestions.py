"""tiers: the suggested tier of each borrower, stored and kept current

The review pages read pages of these instead of judging every borrower of a branch
per view (docs/tiers.md, docs/performance.md). Empty after the upgrade: run
``flask tiers refresh`` once (and nightly); until a borrower has a row, the pages
judge their suggestion on the spot.

Revision ID: 0008_tier_suggestions
Revises: 0007_visit_amendments
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_tier_suggestions"
down_revision = "0007_visit_amendments"
branch_labels = None
depends_on = None

TIERS = ("strategic", "key", "general", "potential")


def _tier(name):
    return sa.Column(
        name, sa.Enum(*TIERS, name="tier", native_enum=False, length=16), nullable=False
    )


def upgrade():
    op.create_table(
        "tier_suggestions",
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        _tier("tier"),
        _tier("for_tier"),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recheck_on", sa.Date(), nullable=True),
        sa.Column("lent_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("first_disbursed", sa.Date(), nullable=True),
        sa.Column("overdue_now", sa.Boolean(), nullable=False),
        sa.Column("max_overdue_days", sa.Integer(), nullable=False),
        sa.Column("written_off", sa.Boolean(), nullable=False),
        sa.Column("orange_visits", sa.Integer(), nullable=False),
        sa.Column("red_visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_tier_suggestions_borrower_id_borrowers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("borrower_id", name=op.f("pk_tier_suggestions")),
    )


def downgrade():
    op.drop_table("tier_suggestions")
