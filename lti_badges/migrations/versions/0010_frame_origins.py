"""Origins a platform's pages frame the tool from (Content-Security-Policy frame-ancestors)

Revision ID: 0010_frame_origins
Revises: 0007_bridge_tool
Create Date: 2026-12-02 18:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_frame_origins'
down_revision = '0007_bridge_tool'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('platforms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_origins', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('platforms', schema=None) as batch_op:
        batch_op.drop_column('frame_origins')
