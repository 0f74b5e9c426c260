"""jobs: supervision stages per deadline (sign-for, reply) and per dispatch

A late sign-for no longer uses up the reminder and urge of the reply deadline, and a ticket dispatched
again to the same unit after a return starts afresh.

Revision ID: 0009_supervision_per_deadline
Revises: 0007_supervision_per_unit
Create Date: 2026-12-07 12:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_supervision_per_deadline'
down_revision = '0007_supervision_per_unit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supervision_stages') as batch:
        batch.add_column(sa.Column('deadline', sa.String(10), nullable=False, server_default='reply'))
        batch.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch.drop_constraint('uq_supervision_stages_ticket_round_unit_stage', type_='unique')
        batch.create_unique_constraint('uq_supervision_stages_per_deadline',
                                       ['ticket_id', 'round', 'unit_id', 'assignment_id', 'deadline', 'stage'])


def downgrade() -> None:
    with op.batch_alter_table('supervision_stages') as batch:
        batch.drop_constraint('uq_supervision_stages_per_deadline', type_='unique')
        batch.create_unique_constraint('uq_supervision_stages_ticket_round_unit_stage',
                                       ['ticket_id', 'round', 'unit_id', 'stage'])
        batch.drop_column('assignment_id')
        batch.drop_column('deadline')
