"""care greetings, client tiers, business profiles and networking events

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A snapshot of portal/networking/vocabulary.py at the time of writing: migrations
# must not import the app, whose lists keep changing.
DEFAULT_TAGS = (
    ("feed", "饲料", "Feed"),
    ("hogs", "生猪", "Hogs"),
    ("piglets", "仔猪", "Piglets"),
    ("ducks", "鸭子", "Ducks"),
    ("poultry", "家禽", "Poultry"),
    ("eggs", "禽蛋", "Eggs"),
    ("vegetables", "蔬菜", "Vegetables"),
    ("fruit", "水果", "Fruit"),
    ("grain", "粮食", "Grain"),
    ("fertiliser", "化肥", "Fertiliser"),
    ("manure", "农家肥", "Manure"),
    ("seeds", "种子种苗", "Seeds and seedlings"),
    ("farm_machinery", "农机", "Farm machinery"),
    ("transport", "运输", "Transport"),
    ("cold_storage", "冷藏", "Cold storage"),
    ("veterinary", "兽医兽药", "Veterinary services"),
    ("catering", "餐饮", "Catering"),
    ("labour", "劳务", "Farm labour"),
)


def upgrade():
    op.create_table('business_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_tags')),
    sa.UniqueConstraint('code', name=op.f('uq_business_tags_code'))
    )
    op.bulk_insert(
        sa.table('business_tags', sa.column('code'), sa.column('name_zh'), sa.column('name_en'), sa.column('active', sa.Boolean())),
        [{'code': code, 'name_zh': zh, 'name_en': en, 'active': True} for code, zh, en in DEFAULT_TAGS],
    )
    op.create_table('care_occasions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('calendar', sa.String(length=16), nullable=False),
    sa.Column('month', sa.Integer(), nullable=True),
    sa.Column('day', sa.Integer(), nullable=True),
    sa.Column('term_name', sa.String(length=8), nullable=True),
    sa.Column('name_zh', sa.String(length=50), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_occasions')),
    sa.UniqueConstraint('code', name=op.f('uq_care_occasions_code'))
    )
    op.create_table('greeting_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occasion_code', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_greeting_templates_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_greeting_templates')),
    sa.UniqueConstraint('occasion_code', 'locale', name=op.f('uq_greeting_templates_occasion_code_locale'))
    )
    op.create_table('networking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_networking_events_branch_id_branches')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_networking_events_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networking_events'))
    )
    with op.batch_alter_table('networking_events', schema=None) as batch_op:
        batch_op.create_index('ix_networking_events_branch_date', ['branch_id', 'held_on'], unique=False)

    op.create_table('business_profile_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.Enum('offer', 'need', name='profileside', native_enum=False, length=8), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('free_tag', sa.String(length=40), nullable=False),
    sa.Column('match_key', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_business_profile_entries_borrower_id_borrowers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['business_tags.id'], name=op.f('fk_business_profile_entries_tag_id_business_tags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_profile_entries'))
    )
    with op.batch_alter_table('business_profile_entries', schema=None) as batch_op:
        batch_op.create_index('ix_business_profile_entries_borrower', ['borrower_id', 'side'], unique=False)
        batch_op.create_index('ix_business_profile_entries_match', ['match_key', 'side', 'borrower_id'], unique=False)

    op.create_table('care_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('occasion_code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'retrying', 'failed', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_care_outbox_borrower_id_borrowers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_care_outbox_branch_id_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_outbox')),
    sa.UniqueConstraint('borrower_id', 'occasion_code', 'year', name=op.f('uq_care_outbox_borrower_id_occasion_code_year'))
    )
    with op.batch_alter_table('care_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_care_outbox_branch_due', ['branch_id', 'due_on'], unique=False)
        batch_op.create_index('ix_care_outbox_branch_status', ['branch_id', 'status'], unique=False)
        batch_op.create_index('ix_care_outbox_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('event_introductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.Enum('open', 'deal', 'no_deal', name='outcome', native_enum=False, length=16), nullable=False),
    sa.Column('deal_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['borrowers.id'], name=op.f('fk_event_introductions_buyer_id_borrowers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['networking_events.id'], name=op.f('fk_event_introductions_event_id_networking_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_event_introductions_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['borrowers.id'], name=op.f('fk_event_introductions_supplier_id_borrowers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_introductions')),
    sa.UniqueConstraint('event_id', 'supplier_id', 'buyer_id', name=op.f('uq_event_introductions_event_id_supplier_id_buyer_id'))
    )
    with op.batch_alter_table('event_introductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_introductions_event_id'), ['event_id'], unique=False)

    op.create_table('event_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_event_invitations_borrower_id_borrowers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['networking_events.id'], name=op.f('fk_event_invitations_event_id_networking_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_event_invitations_invited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_invitations')),
    sa.UniqueConstraint('event_id', 'borrower_id', name=op.f('uq_event_invitations_event_id_borrower_id'))
    )
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_invitations_event_id'), ['event_id'], unique=False)

    op.create_table('tier_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('from_tier', sa.Enum('strategic', 'key', 'general', 'potential', name='tier', native_enum=False, length=16), nullable=False),
    sa.Column('to_tier', sa.Enum('strategic', 'key', 'general', 'potential', name='tier', native_enum=False, length=16), nullable=False),
    sa.Column('suggested_tier', sa.Enum('strategic', 'key', 'general', 'potential', name='tier', native_enum=False, length=16), nullable=False),
    sa.Column('decision', sa.Enum('confirmed', 'overridden', name='decision', native_enum=False, length=16), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_tier_changes_borrower_id_borrowers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_tier_changes_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes'))
    )
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.create_index('ix_tier_changes_borrower', ['borrower_id', 'decided_at'], unique=False)
        batch_op.create_index('ix_tier_changes_period', ['period', 'borrower_id'], unique=False)



def downgrade():
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_changes_period')
        batch_op.drop_index('ix_tier_changes_borrower')

    op.drop_table('tier_changes')
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_invitations_event_id'))

    op.drop_table('event_invitations')
    with op.batch_alter_table('event_introductions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_introductions_event_id'))

    op.drop_table('event_introductions')
    with op.batch_alter_table('care_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_care_outbox_status_next')
        batch_op.drop_index('ix_care_outbox_branch_status')
        batch_op.drop_index('ix_care_outbox_branch_due')

    op.drop_table('care_outbox')
    with op.batch_alter_table('business_profile_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_business_profile_entries_match')
        batch_op.drop_index('ix_business_profile_entries_borrower')

    op.drop_table('business_profile_entries')
    with op.batch_alter_table('networking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_networking_events_branch_date')

    op.drop_table('networking_events')
    op.drop_table('greeting_templates')
    op.drop_table('care_occasions')
    op.drop_table('business_tags')
