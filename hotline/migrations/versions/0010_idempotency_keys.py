"""core: Idempotency-Key of ticket creation (a double submit or a retry gets the same ticket)

Revision ID: 0010_idempotency_keys
Revises: 0001_core
Create Date: 2026-12-07 12:40:00
"""
from alembic import op
import sqlalchemy as sa

import hotline.db

revision = '0010_idempotency_keys'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
                    sa.Column('key', sa.String(length=200), nullable=False),
                    sa.Column('ticket_id', sa.Integer(), nullable=False),
                    sa.Column('created_at', hotline.db.UtcDateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                            name=op.f('fk_idempotency_keys_ticket_id_tickets')),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_keys')))


def downgrade() -> None:
    op.drop_table('idempotency_keys')
