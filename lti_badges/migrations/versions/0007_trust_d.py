"""One sync per course at a time: sync run scope, lease and single-flight indexes

Revision ID: 0007_trust_d
Revises: 0006_award_events
Create Date: 2026-12-02 07:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_trust_d'
down_revision = '0006_award_events'
branch_labels = None
depends_on = None

STATES = ("queued", "running")


def upgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_sub', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
    # Runs left queued or running by the code before this one may be several per course,
    # and nothing runs them any more once the tool is stopped to upgrade: close them.
    op.execute("UPDATE sync_runs SET status = 'failed', finished_at = CURRENT_TIMESTAMP "
               "WHERE status IN ('queued', 'running')")
    for state in STATES:
        op.create_index(f'ix_sync_runs_one_{state}', 'sync_runs', ['course_id'], unique=True,
                        sqlite_where=sa.text(f"status = '{state}'"),
                        postgresql_where=sa.text(f"status = '{state}'"))


def downgrade():
    for state in STATES:
        op.drop_index(f'ix_sync_runs_one_{state}', table_name='sync_runs')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('person_sub')
