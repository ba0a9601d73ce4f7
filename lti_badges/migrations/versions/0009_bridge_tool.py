"""The Moodle bridge: pairing codes, accepted notice ids, the connector's read mode

Revision ID: 0007_bridge_tool
Revises: 0006_award_events
Create Date: 2026-12-02 07:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_bridge_tool'
down_revision = '0007_trust_b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moodle_pairing_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_moodle_pairing_codes_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moodle_pairing_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_moodle_pairing_codes_code_hash'))
    )
    with op.batch_alter_table('moodle_pairing_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moodle_pairing_codes_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_used_notice_ids',
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('jti', sa.String(length=100), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_lti_used_notice_ids_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', 'jti', name=op.f('pk_lti_used_notice_ids'))
    )
    with op.batch_alter_table('lti_used_notice_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_used_notice_ids_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('moodle_connectors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('moodle_connectors', schema=None) as batch_op:
        batch_op.drop_column('mode')
    with op.batch_alter_table('lti_used_notice_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_used_notice_ids_expires_at'))
    op.drop_table('lti_used_notice_ids')
    with op.batch_alter_table('moodle_pairing_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moodle_pairing_codes_platform_id'))
    op.drop_table('moodle_pairing_codes')
