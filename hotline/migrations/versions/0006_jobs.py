"""jobs: failed jobs, outbox claims, notifications, callback tasks, supervision stages

Revision ID: 0006_jobs
Revises: 0001_core
Create Date: 2026-11-23 12:20:00
"""
from alembic import op
import sqlalchemy as sa
import hotline.db
from sqlalchemy.dialects import postgresql

revision = '0006_jobs'
down_revision = '0001_core'
branch_labels = ('jobs',)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = hotline.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('job_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', JSON, nullable=False),
    sa.Column('backend', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('failed_at', TS, nullable=False),
    sa.Column('resolved_at', TS, nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_failures'))
    )
    op.create_index(op.f('ix_job_failures_state'), 'job_failures', ['state'], unique=False)

    op.create_table('outbox_claims',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', TS, nullable=False),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_outbox_claims_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_outbox_claims'))
    )

    op.create_table('job_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('template', sa.String(length=100), nullable=True),
    sa.Column('template_data', JSON, nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('send_after', TS, nullable=False),
    sa.Column('claimed_at', TS, nullable=True),
    sa.Column('sent_at', TS, nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_job_notifications_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_job_notifications_key'))
    )
    op.create_index(op.f('ix_job_notifications_ticket_id'), 'job_notifications', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_job_notifications_state'), 'job_notifications', ['state'], unique=False)

    op.create_table('callback_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('recipient_kind', sa.String(length=20), nullable=True),
    sa.Column('recipient', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', TS, nullable=True),
    sa.Column('satisfaction', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('answered_at', TS, nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_callback_tasks_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_callback_tasks_unit_id_units')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_callback_tasks_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_tasks')),
    sa.UniqueConstraint('ticket_id', 'round', name='uq_callback_tasks_ticket_round')
    )
    op.create_index(op.f('ix_callback_tasks_ticket_id'), 'callback_tasks', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_callback_tasks_citizen_id'), 'callback_tasks', ['citizen_id'], unique=False)
    op.create_index(op.f('ix_callback_tasks_state'), 'callback_tasks', ['state'], unique=False)

    op.create_table('supervision_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('light', sa.String(length=10), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_supervision_stages_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_supervision_stages_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_stages')),
    sa.UniqueConstraint('ticket_id', 'round', 'stage', name='uq_supervision_stages_ticket_round_stage')
    )
    op.create_index(op.f('ix_supervision_stages_ticket_id'), 'supervision_stages', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_table('supervision_stages')
    op.drop_table('callback_tasks')
    op.drop_table('job_notifications')
    op.drop_table('outbox_claims')
    op.drop_table('job_failures')
