"""visits: signed follow-up visits, their signatures and the red-warning queue

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_token', sa.String(length=64), nullable=False),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Integer(), nullable=True),
    sa.Column('business_state', sa.Enum('normal', 'growing', 'shrinking', 'suspended', name='businessstate', native_enum=False, length=16), nullable=False),
    sa.Column('revenue_trend', sa.Enum('rising', 'stable', 'falling', name='revenuetrend', native_enum=False, length=16), nullable=False),
    sa.Column('funds_use', sa.Enum('as_contracted', 'partly_diverted', 'diverted', name='fundsuse', native_enum=False, length=16), nullable=False),
    sa.Column('repayment_status', sa.Enum('on_time', 'not_yet_due', 'overdue', name='repaymentstate', native_enum=False, length=16), nullable=False),
    sa.Column('guarantor_status', sa.Enum('normal', 'problem', 'none', name='guarantorstatus', native_enum=False, length=16), nullable=False),
    sa.Column('collateral_status', sa.Enum('intact', 'diminished', 'missing', 'none', name='collateralstatus', native_enum=False, length=16), nullable=False),
    sa.Column('household_changes', sa.Text(), nullable=False),
    sa.Column('risk_signals', sa.JSON(), nullable=False),
    sa.Column('officer_observations', sa.Text(), nullable=False),
    sa.Column('borrower_opinions', sa.Text(), nullable=False),
    sa.Column('services_needed', sa.JSON(), nullable=False),
    sa.Column('services_other', sa.String(length=200), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('risk_level', sa.Enum('green', 'yellow', 'orange', 'red', name='risklevel', native_enum=False, length=8), nullable=False),
    sa.Column('risk_reason', sa.String(length=300), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_visits_satisfaction_range')),
    sa.ForeignKeyConstraint(['amends_id'], ['visits.id'], name=op.f('fk_visits_amends_id_visits')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_visits_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_visits_branch_id_branches')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_visits_loan_id_loans')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_visits_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('idempotency_token', name=op.f('uq_visits_idempotency_token'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_amends_id'), ['amends_id'], unique=False)
        batch_op.create_index('ix_visits_borrower_visited', ['borrower_id', 'visited_at'], unique=False)
        batch_op.create_index('ix_visits_branch_visited', ['branch_id', 'visited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_visits_officer_visited', ['officer_id', 'visited_at'], unique=False)

    op.create_table('visit_signatures',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_signatures_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_visit_signatures'))
    )
    op.create_table('visit_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('action_taken', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_visit_warnings_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_visit_warnings_branch_id_branches')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_warnings_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_warnings')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_visit_warnings_visit_id'))
    )
    with op.batch_alter_table('visit_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_visit_warnings_branch_open', ['branch_id', 'acknowledged_at'], unique=False)


def downgrade():
    with op.batch_alter_table('visit_warnings', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_warnings_branch_open')

    op.drop_table('visit_warnings')
    op.drop_table('visit_signatures')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_officer_visited')
        batch_op.drop_index(batch_op.f('ix_visits_loan_id'))
        batch_op.drop_index('ix_visits_branch_visited')
        batch_op.drop_index('ix_visits_borrower_visited')
        batch_op.drop_index(batch_op.f('ix_visits_amends_id'))

    op.drop_table('visits')
