"""visit photos: the photos of a signed visit, re-encoded, with their perceptual hashes

Revision ID: 0013_visit_photos
Revises: 0012_visit_evidence
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0013_visit_photos"
down_revision = "0012_visit_evidence"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
