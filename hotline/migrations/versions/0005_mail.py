"""mail, mayor's mailbox and telegram channel tables

Revision ID: 0005_mail
Revises: 0001_core
Create Date: 2026-11-23 12:10:00
"""
from alembic import op
import sqlalchemy as sa
import hotline.db

revision = '0005_mail'
down_revision = '0001_core'
branch_labels = ('mail',)
depends_on = None


def upgrade() -> None:
    op.create_table('mail_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('form_nonce', sa.String(length=64), nullable=False),
    sa.Column('publishable', sa.Boolean(), nullable=False),
    sa.Column('created_at', hotline.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_mail_letters_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_letters')),
    sa.UniqueConstraint('form_nonce', name=op.f('uq_mail_letters_form_nonce'))
    )
    with op.batch_alter_table('mail_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_letters_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_letters_number'), ['number'], unique=False)

    op.create_table('mail_form_tokens',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.String(length=20), nullable=False),
    sa.Column('created_at', hotline.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', hotline.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_mail_form_tokens'))
    )
    op.create_table('mail_rate_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', hotline.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_rate_hits'))
    )
    with op.batch_alter_table('mail_rate_hits', schema=None) as batch_op:
        batch_op.create_index('ix_mail_rate_hits_key_at', ['key', 'at'], unique=False)

    op.create_table('mail_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('unit_name', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('created_at', hotline.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', hotline.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_mail_publications_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_publications')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_mail_publications_ticket_id'))
    )
    with op.batch_alter_table('mail_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_publications_state'), ['state'], unique=False)

    op.create_table('mail_imap_state',
    sa.Column('account', sa.String(length=300), nullable=False),
    sa.Column('uidvalidity', sa.String(length=30), nullable=True),
    sa.Column('last_uid', sa.Integer(), nullable=True),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_poll_at', hotline.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_mail_imap_state'))
    )


def downgrade() -> None:
    op.drop_table('mail_imap_state')
    with op.batch_alter_table('mail_publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_publications_state'))
    op.drop_table('mail_publications')
    with op.batch_alter_table('mail_rate_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_rate_hits_key_at')
    op.drop_table('mail_rate_hits')
    op.drop_table('mail_form_tokens')
    with op.batch_alter_table('mail_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_letters_number'))
        batch_op.drop_index(batch_op.f('ix_mail_letters_ticket_id'))
    op.drop_table('mail_letters')
