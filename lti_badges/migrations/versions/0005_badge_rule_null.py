"""Badges without a rule: SQL NULL instead of JSON null

Revision ID: 0005_badge_rule_null
Revises: 0004_backpacks
Create Date: 2026-11-23

A badge saved without a rule stored the JSON value null, which `rule IS NOT NULL`
treated as a rule, so syncs tried to evaluate it. The column now maps None to SQL NULL;
this turns the rows already written that way into SQL NULL.
"""
from alembic import op

revision = '0005_badge_rule_null'
down_revision = '0004_backpacks'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE badges SET rule = NULL WHERE rule::text = 'null'")
    else:
        op.execute("UPDATE badges SET rule = NULL WHERE rule = 'null'")


def downgrade():
    pass
