"""When the tool first saw an undated fact (AGS results, some Moodle completions)

Revision ID: 0007_trust_b
Revises: 0006_award_events
Create Date: 2026-12-02 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_trust_b'
down_revision = '0007_trust_d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('facts_seen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_facts_seen_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facts_seen')),
    sa.UniqueConstraint('course_id', 'user_id', 'item_key', name=op.f('uq_facts_seen_course_id_user_id_item_key'))
    )


def downgrade():
    op.drop_table('facts_seen')
