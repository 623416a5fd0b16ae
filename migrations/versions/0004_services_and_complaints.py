"""services_and_complaints

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SERVICE_STATUS = ('submitted', 'accepted', 'completed', 'rated', 'declined')
# The catalogue every installation starts with (portal/services/operations.py DEFAULT_KINDS).
DEFAULT_KINDS = [
    ("wealth_management", "理财咨询", "Wealth-management advice", 5, 1),
    ("financial_training", "财务培训", "Financial training", 10, 2),
    ("computer_training", "计算机培训", "Computer training", 10, 3),
    ("technique_training", "种养殖技术培训", "Planting / breeding technique training", 7, 4),
    ("marketing_training", "市场营销培训", "Marketing training", 10, 5),
    ("legal_services", "法律服务", "Legal services", 3, 6),
    ("other", "其他服务", "Other service", 5, 7),
]


def upgrade():
    kinds = op.create_table('service_kinds',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('response_days', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_service_kinds'))
    )
    op.create_table('service_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('kind_code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('trainer', sa.String(length=100), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_service_sessions_branch_id_branches')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_sessions_created_by_id_users')),
    sa.ForeignKeyConstraint(['kind_code'], ['service_kinds.code'], name=op.f('fk_service_sessions_kind_code_service_kinds')),
    sa.ForeignKeyConstraint(['organizer_id'], ['users.id'], name=op.f('fk_service_sessions_organizer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_sessions'))
    )
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_service_sessions_branch_held', ['branch_id', 'held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_sessions_organizer_id'), ['organizer_id'], unique=False)

    op.create_table('service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('kind_code', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('preferred_time', sa.String(length=100), nullable=False),
    sa.Column('source', sa.Enum('portal', 'visit', name='requestsource', native_enum=False, length=16), nullable=False),
    sa.Column('source_visit_id', sa.Integer(), nullable=True),
    sa.Column('source_visit_root_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum(*SERVICE_STATUS, name='servicestatus', native_enum=False, length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('respond_by', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completion_notes', sa.Text(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=False),
    sa.Column('rated_at', sa.DateTime(), nullable=True),
    sa.Column('declined_at', sa.DateTime(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_service_requests_assignee_id_users')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_service_requests_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_service_requests_branch_id_branches')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['kind_code'], ['service_kinds.code'], name=op.f('fk_service_requests_kind_code_service_kinds')),
    sa.ForeignKeyConstraint(['session_id'], ['service_sessions.id'], name=op.f('fk_service_requests_session_id_service_sessions')),
    sa.ForeignKeyConstraint(['source_visit_id'], ['visits.id'], name=op.f('fk_service_requests_source_visit_id_visits')),
    sa.ForeignKeyConstraint(['source_visit_root_id'], ['visits.id'], name=op.f('fk_service_requests_source_visit_root_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests')),
    sa.UniqueConstraint('source_visit_root_id', 'kind_code', name=op.f('uq_service_requests_source_visit_root_id_kind_code'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index('ix_service_requests_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_service_requests_borrower', ['borrower_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_service_requests_branch_status', ['branch_id', 'status', 'respond_by'], unique=False)
        batch_op.create_index('ix_service_requests_rated_at', ['rated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_source_visit_id'), ['source_visit_id'], unique=False)

    op.create_table('service_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.Enum(*SERVICE_STATUS, name='servicestatus', native_enum=False, length=16), nullable=True),
    sa.Column('to_status', sa.Enum(*SERVICE_STATUS, name='servicestatus', native_enum=False, length=16), nullable=False),
    sa.Column('happened_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_service_events_actor_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_service_events_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_events'))
    )
    with op.batch_alter_table('service_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_events_request_id'), ['request_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_notices_borrower_id_borrowers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_borrower_read', ['borrower_id', 'read_at'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('service_attitude', 'process', 'fees', 'officer_conduct', 'other', name='complaintcategory', native_enum=False, length=24), nullable=False),
    sa.Column('severity', sa.Enum('general', 'serious', 'very_serious', name='complaintseverity', native_enum=False, length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', 'closed', name='complaintstatus', native_enum=False, length=16), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('respond_by', sa.DateTime(), nullable=False),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_complaints_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_complaints_branch_id_branches')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_complaints_filed_by_id_users')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_complaints_handler_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_complaints_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_borrower', ['borrower_id', 'filed_at'], unique=False)
        batch_op.create_index('ix_complaints_branch_status', ['branch_id', 'status', 'respond_by'], unique=False)
        batch_op.create_index('ix_complaints_handler_status', ['handler_id', 'status'], unique=False)

    op.create_table('complaint_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('happened_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_complaint_events_actor_id_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_events_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_events'))
    )
    with op.batch_alter_table('complaint_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_events_complaint_id'), ['complaint_id'], unique=False)

    op.bulk_insert(kinds, [
        {"code": code, "name_zh": zh, "name_en": en, "response_days": days, "position": position, "active": True}
        for code, zh, en, days, position in DEFAULT_KINDS
    ])


def downgrade():
    with op.batch_alter_table('complaint_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_events_complaint_id'))

    op.drop_table('complaint_events')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_handler_status')
        batch_op.drop_index('ix_complaints_branch_status')
        batch_op.drop_index('ix_complaints_borrower')

    op.drop_table('complaints')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_borrower_read')

    op.drop_table('notices')
    with op.batch_alter_table('service_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_events_request_id'))

    op.drop_table('service_events')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_requests_source_visit_id'))
        batch_op.drop_index(batch_op.f('ix_service_requests_session_id'))
        batch_op.drop_index('ix_service_requests_rated_at')
        batch_op.drop_index('ix_service_requests_branch_status')
        batch_op.drop_index('ix_service_requests_borrower')
        batch_op.drop_index('ix_service_requests_assignee_status')

    op.drop_table('service_requests')
    with op.batch_alter_table('service_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_sessions_organizer_id'))
        batch_op.drop_index('ix_service_sessions_branch_held')

    op.drop_table('service_sessions')
    op.drop_table('service_kinds')
