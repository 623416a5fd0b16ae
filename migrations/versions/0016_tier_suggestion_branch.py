"""tier suggestions: the borrower's branch, so a branch's review reads its own suggestions

Revision ID: 0016_tier_suggestion_branch
Revises: 0015_reminders
"""

from alembic import op
import sqlalchemy as sa

revision = "0016_tier_suggestion_branch"
down_revision = "0015_reminders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tier_suggestions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE tier_suggestions SET branch_id = "
        "(SELECT borrowers.branch_id FROM borrowers WHERE borrowers.id = tier_suggestions.borrower_id)"
    )
    with op.batch_alter_table("tier_suggestions", schema=None) as batch_op:
        batch_op.alter_column("branch_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tier_suggestions_branch_id_branches"), "branches", ["branch_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_tier_suggestions_branch_id"), ["branch_id"], unique=False)


def downgrade():
    with op.batch_alter_table("tier_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tier_suggestions_branch_id"))
        batch_op.drop_constraint(batch_op.f("fk_tier_suggestions_branch_id_branches"), type_="foreignkey")
        batch_op.drop_column("branch_id")
