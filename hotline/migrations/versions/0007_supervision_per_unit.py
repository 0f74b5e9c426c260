"""jobs: supervision stages are recorded per handling unit (a returned ticket's next unit starts afresh)

Revision ID: 0007_supervision_per_unit
Revises: 0006_jobs
Create Date: 2026-11-23 16:30:00
"""
from alembic import op

revision = '0007_supervision_per_unit'
down_revision = '0006_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supervision_stages') as batch:
        batch.drop_constraint('uq_supervision_stages_ticket_round_stage', type_='unique')
        batch.create_unique_constraint('uq_supervision_stages_ticket_round_unit_stage',
                                       ['ticket_id', 'round', 'unit_id', 'stage'])


def downgrade() -> None:
    with op.batch_alter_table('supervision_stages') as batch:
        batch.drop_constraint('uq_supervision_stages_ticket_round_unit_stage', type_='unique')
        batch.create_unique_constraint('uq_supervision_stages_ticket_round_stage', ['ticket_id', 'round', 'stage'])
