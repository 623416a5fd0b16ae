"""visit photos: the photos of a signed visit, re-encoded, with their perceptual hashes

Revision ID: 0013_visit_photos
Revises: 0012_visit_evidence
"""

from alembic import op
import sqlalchemy as sa

revision = "0013_visit_photos"
down_revision = "0012_visit_evidence"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "visit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("band0", sa.Integer(), nullable=False),
        sa.Column("band1", sa.Integer(), nullable=False),
        sa.Column("band2", sa.Integer(), nullable=False),
        sa.Column("band3", sa.Integer(), nullable=False),
        # The images last: a row's small columns are read without them.
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("thumb_jpeg", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("position BETWEEN 0 AND 5", name=op.f("ck_visit_photos_photo_position")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_photos_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_photos")),
        sa.UniqueConstraint(
            "visit_id", "position", name=op.f("uq_visit_photos_visit_id_position")
        ),
    )
    with op.batch_alter_table("visit_photos", schema=None) as batch_op:
        for band in range(4):
            batch_op.create_index(
                f"ix_visit_photos_band{band}", [f"band{band}", "phash", "visit_id", "id"]
            )


def downgrade():
    with op.batch_alter_table("visit_photos", schema=None) as batch_op:
        for band in reversed(range(4)):
            batch_op.drop_index(f"ix_visit_photos_band{band}")
    op.drop_table("visit_photos")
