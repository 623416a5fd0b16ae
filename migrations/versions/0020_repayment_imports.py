"""repayment imports: an uploaded repayments file kept between its preview and its import,
and the keys a lending system pushes repayments with (stored as their SHA-256)

Revision ID: 0020_repayment_imports
Revises: 0019_portfolio_and_four_eyes
"""

from alembic import op
import sqlalchemy as sa

revision = "0020_repayment_imports"
down_revision = "0019_portfolio_and_four_eyes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_import_tokens_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_import_tokens_token_hash")),
    )
    op.create_table(
        "repayment_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_repayment_uploads_uploaded_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_uploads")),
    )
    op.create_index(
        "ix_repayment_uploads_uploaded_by_id", "repayment_uploads", ["uploaded_by_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_repayment_uploads_uploaded_by_id", table_name="repayment_uploads")
    op.drop_table("repayment_uploads")
    op.drop_table("import_tokens")
