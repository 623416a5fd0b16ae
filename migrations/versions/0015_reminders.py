"""reminders: warning deadlines and escalation, event replies, officers' SMS choice

Revision ID: 0015_reminders
Revises: 0014_sms_providers
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_reminders"
down_revision = "0014_sms_providers"
branch_labels = None
depends_on = None

ONLY_GREETINGS = sa.text("once_key IS NULL")


def upgrade():
    # Reminders to staff (the morning's visits, a late red warning), each stored once
    # by its key, and whether a member of staff has them texted to their own mobile.
    op.create_table(
        "staff_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("once_key", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staff_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notices")),
        sa.UniqueConstraint("once_key", name=op.f("uq_staff_notices_once_key")),
    )
    with op.batch_alter_table("staff_notices") as batch:
        batch.create_index("ix_staff_notices_user_created", ["user_id", "created_at"])
    op.create_table(
        "staff_sms",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(11), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_sms_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_sms")),
    )
    # A borrower's channels per topic of notices (no row: in the portal and by SMS).
    op.create_table(
        "notice_channels",
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("portal", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_notice_channels_borrower_id_borrowers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_notice_channels_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("borrower_id", "topic", name=op.f("pk_notice_channels")),
    )
    # Notices and reminders leave through the greetings' outbox: kept once by their
    # key (greetings stay one per borrower, occasion and year), and a reminder goes to
    # a member of staff instead of a borrower.
    with op.batch_alter_table("care_outbox") as batch:
        batch.add_column(sa.Column("once_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.alter_column("borrower_id", existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint("uq_care_outbox_borrower_id_occasion_code_year", type_="unique")
        batch.create_index(
            "uq_care_outbox_greeting",
            ["borrower_id", "occasion_code", "year"],
            unique=True,
            sqlite_where=ONLY_GREETINGS,
            postgresql_where=ONLY_GREETINGS,
        )
        batch.create_unique_constraint(op.f("uq_care_outbox_once_key"), ["once_key"])
        batch.create_foreign_key(
            op.f("fk_care_outbox_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
    # A guest's answer to an invitation: coming or not, when, recorded by whom.
    with op.batch_alter_table("event_invitations") as batch:
        batch.add_column(
            sa.Column(
                "reply",
                sa.Enum("coming", "not_coming", name="reply", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("replied_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_event_invitations_replied_by_id_users"), "users", ["replied_by_id"], ["id"]
        )
    # A periodic notice to a borrower (a session's day-before reminder) is told once.
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("once_key", sa.String(120), nullable=True))
        batch.create_unique_constraint(op.f("uq_notices_once_key"), ["once_key"])
    # A red warning's deadline to act, and when the head and then the admin were alerted.
    with op.batch_alter_table("visit_warnings") as batch:
        batch.add_column(sa.Column("act_by", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("admin_by", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("head_alerted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("admin_alerted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("visit_warnings") as batch:
        for column in ("admin_alerted_at", "head_alerted_at", "admin_by", "act_by"):
            batch.drop_column(column)
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("uq_notices_once_key"), type_="unique")
        batch.drop_column("once_key")
    with op.batch_alter_table("event_invitations") as batch:
        batch.drop_constraint(op.f("fk_event_invitations_replied_by_id_users"), type_="foreignkey")
        for column in ("replied_by_id", "replied_at", "reply"):
            batch.drop_column(column)
    # The texts of notices and reminders have no place in a greetings-only outbox.
    op.execute(sa.text("DELETE FROM care_outbox WHERE once_key IS NOT NULL OR borrower_id IS NULL"))
    with op.batch_alter_table("care_outbox") as batch:
        batch.drop_constraint(op.f("fk_care_outbox_user_id_users"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_care_outbox_once_key"), type_="unique")
        batch.drop_index(
            "uq_care_outbox_greeting", sqlite_where=ONLY_GREETINGS, postgresql_where=ONLY_GREETINGS
        )
        batch.create_unique_constraint(
            "uq_care_outbox_borrower_id_occasion_code_year",
            ["borrower_id", "occasion_code", "year"],
        )
        batch.alter_column("borrower_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("user_id")
        batch.drop_column("once_key")
    op.drop_table("notice_channels")
    op.drop_table("staff_sms")
    with op.batch_alter_table("staff_notices") as batch:
        batch.drop_index("ix_staff_notices_user_created")
    op.drop_table("staff_notices")
