"""portfolio quality and four eyes on money: each instalment's settling day (with an index
of the instalments paid late), the write-off's date, who recorded and who confirmed a
disbursement

Revision ID: 0019_portfolio_and_four_eyes
Revises: 0018_repayment_schedules
"""

from collections import defaultdict
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

revision = "0019_portfolio_and_four_eyes"
down_revision = "0018_repayment_schedules"
branch_labels = None
depends_on = None

LATE = "settled_on IS NULL OR settled_on > due_on"


def upgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_off_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("disbursement_recorded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disbursement_confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_loans_disbursement_recorded_by_id_users"),
            "users",
            ["disbursement_recorded_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_loans_disbursement_confirmed_by_id_users"),
            "users",
            ["disbursement_confirmed_by_id"],
            ["id"],
        )
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_on", sa.Date(), nullable=True))
    op.create_index(
        "ix_loan_instalments_late",
        "loan_instalments",
        ["due_on", "loan_id", "settled_on"],
        unique=False,
        sqlite_where=sa.text(LATE),
        postgresql_where=sa.text(LATE),
    )
    op.drop_index("ix_repayments_loan_id", table_name="repayments")
    op.create_index(
        "ix_repayments_loan_paid", "repayments", ["loan_id", "paid_on", "principal"], unique=False
    )
    _settle_existing()
    _date_write_offs()


def _settle_existing():
    """Each instalment's settling day from the payments already stored (oldest first,
    the rule of portal/loans/repayments.py)."""
    bind = op.get_bind()
    paid = defaultdict(list)
    for loan_id, paid_on, amount in bind.execute(
        sa.text("SELECT loan_id, paid_on, amount FROM repayments ORDER BY loan_id, paid_on, id")
    ):
        paid[loan_id].append((paid_on, Decimal(amount)))
    for loan_id, payments in paid.items():
        rows = bind.execute(
            sa.text(
                "SELECT id, principal + interest FROM loan_instalments"
                " WHERE loan_id = :loan ORDER BY number"
            ),
            {"loan": loan_id},
        ).all()
        pending, pool, day = iter(payments), Decimal(0), None
        for instalment_id, amount in rows:
            owed = Decimal(amount)
            while pool < owed and (payment := next(pending, None)) is not None:
                day, paid = payment
                pool += paid
            if pool < owed:
                break
            pool -= owed
            bind.execute(
                sa.text("UPDATE loan_instalments SET settled_on = :day WHERE id = :id"),
                {"day": day, "id": instalment_id},
            )


def _date_write_offs():
    """A loan written off before the date was kept: the day of its write-off event."""
    bind = op.get_bind()
    written = bind.execute(
        sa.text(
            "SELECT l.id, MIN(e.happened_at) FROM loans l JOIN loan_events e ON e.loan_id = l.id"
            " WHERE l.written_off AND e.action = 'write_off' GROUP BY l.id"
        )
    ).all()
    for loan_id, happened_at in written:
        day = str(happened_at)[:10]  # a datetime on PostgreSQL, its text on SQLite
        bind.execute(
            sa.text("UPDATE loans SET written_off_on = :day WHERE id = :id"),
            {"day": day, "id": loan_id},
        )


def downgrade():
    op.drop_index("ix_repayments_loan_paid", table_name="repayments")
    op.create_index("ix_repayments_loan_id", "repayments", ["loan_id"], unique=False)
    op.drop_index("ix_loan_instalments_late", table_name="loan_instalments")
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.drop_column("settled_on")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_loans_disbursement_confirmed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_loans_disbursement_recorded_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("disbursement_confirmed_by_id")
        batch_op.drop_column("disbursement_recorded_by_id")
        batch_op.drop_column("written_off_on")
