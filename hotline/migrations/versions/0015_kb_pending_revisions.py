"""knowledge: a unit's edit of a published article waits as a pending revision; the live text stays

A member unit's edit of a published article (a phone number fixed, a fee changed) was written straight into
``kb_articles`` and sent the article back to review: until an editor published it again it left search,
agent assist and the chatbot, and citizens got no answer for days over a typo. ``hotline kb import
--draft`` did the same to every published article it edited. The edit is now stored apart, in
``kb_article_revisions`` (at most one per article: a new edit replaces it), and the published version keeps
answering until an editor publishes the revision (applied as a new version), rejects it with a reason
(kept for the unit to read) or its unit withdraws it.

A new table only: existing articles and versions are unchanged (an article a unit's edit sent back to
review before this revision stays in review, as it was). Created the same way on SQLite and PostgreSQL;
the downgrade drops it, and with it any revision still waiting.

Revision ID: 0015_kb_pending_revisions
Revises: 0014_kb_body_structure
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '0015_kb_pending_revisions'
down_revision = '0014_kb_body_structure'  # the knowledge branch's head
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = hotline.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'kb_article_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('keywords', JSON, nullable=False),
        sa.Column('valid_from', TS, nullable=True),
        sa.Column('valid_to', TS, nullable=True),
        sa.Column('review_due_at', TS, nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.Column('reviewed_by', sa.String(length=100), nullable=True),
        sa.Column('reviewed_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'],
                                name=op.f('fk_kb_article_revisions_article_id_kb_articles')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_kb_article_revisions_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_revisions')),
        sa.UniqueConstraint('article_id', name=op.f('uq_kb_article_revisions_article_id')),
    )
    op.create_index(op.f('ix_kb_article_revisions_state'), 'kb_article_revisions', ['state'])


def downgrade() -> None:
    op.drop_index(op.f('ix_kb_article_revisions_state'), table_name='kb_article_revisions')
    op.drop_table('kb_article_revisions')
