"""visits: the officer's day plan and the field kit's outbox entries

Revision ID: 0009_field_kit
Revises: 0008_tier_suggestions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_field_kit"
down_revision = "0008_tier_suggestions"
branch_labels = None
depends_on = None

OUTCOMES = ("stored", "held")
REASONS = ("reassigned", "loan_closed", "window_passed", "invalid", "hash_mismatch", "time")


def upgrade():
    op.create_table(
        "day_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("replanned_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_day_plans_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_day_plans_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_day_plans")),
        sa.UniqueConstraint("officer_id", "day", name=op.f("uq_day_plans_officer_id_day")),
    )
    op.create_index("ix_day_plans_branch_day", "day_plans", ["branch_id", "day", "officer_id"])

    op.create_table(
        "day_plan_borrowers",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["day_plans.id"],
            name=op.f("fk_day_plan_borrowers_plan_id_day_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_day_plan_borrowers_borrower_id_borrowers"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_day_plan_borrowers_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("plan_id", "borrower_id", name=op.f("pk_day_plan_borrowers")),
    )
    op.create_index("ix_day_plan_borrowers_borrower", "day_plan_borrowers", ["borrower_id"])

    op.create_table(
        "field_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*OUTCOMES, name="outcome", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="holdreason", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_field_entries_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_field_entries_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_field_entries_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_field_entries_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["users.id"], name=op.f("fk_field_entries_handled_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_entries")),
        sa.UniqueConstraint(
            "officer_id", "client_id", name=op.f("uq_field_entries_officer_id_client_id")
        ),
        sa.UniqueConstraint("visit_id", name=op.f("uq_field_entries_visit_id")),
    )
    op.create_index(
        "ix_field_entries_branch_open", "field_entries", ["branch_id", "outcome", "handled_at"]
    )


def downgrade():
    op.drop_index("ix_field_entries_branch_open", table_name="field_entries")
    op.drop_table("field_entries")
    op.drop_index("ix_day_plan_borrowers_borrower", table_name="day_plan_borrowers")
    op.drop_table("day_plan_borrowers")
    op.drop_index("ix_day_plans_branch_day", table_name="day_plans")
    op.drop_table("day_plans")
