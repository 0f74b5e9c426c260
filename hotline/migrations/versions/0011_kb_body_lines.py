"""knowledge: an article's plain text keeps its paragraphs as lines (recomputed from the stored body)

The plain text (``body_text``) used to be one line; it now keeps paragraphs, list items and line breaks
as lines, so an FAQ kept as "问题？答案" paragraphs is ranked by every question it holds. Data only: the
index job rebuilds the search index afterwards (``knowledge.search.base.DOC_TEXT_VERSION``).

Revision ID: 0011_kb_body_lines
Revises: 0008_kb_gaps_closed
Create Date: 2026-12-07 16:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_kb_body_lines'
down_revision = '0008_kb_gaps_closed'
branch_labels = None
depends_on = None

ARTICLES = sa.table('kb_articles', sa.column('id', sa.Integer), sa.column('body_html', sa.Text),
                    sa.column('body_text', sa.Text))


def upgrade() -> None:
    from knowledge.sanitize import plain_text

    conn = op.get_bind()
    for row in conn.execute(sa.select(ARTICLES.c.id, ARTICLES.c.body_html)).all():
        conn.execute(ARTICLES.update().where(ARTICLES.c.id == row.id).values(body_text=plain_text(row.body_html or "")))


def downgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(ARTICLES.c.id, ARTICLES.c.body_text)).all():
        conn.execute(ARTICLES.update().where(ARTICLES.c.id == row.id)
                     .values(body_text=" ".join((row.body_text or "").split())))
