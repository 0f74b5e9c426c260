"""knowledge: versions record every editable field; synonym group ids are never reused

``kb_article_versions`` kept only the title, body and keywords, so a version that changed the category,
the unit or a date showed no difference. It now also records the category, the unit and the validity and
review dates, and ``recorded`` names which of them a row knows: a null column is a real value (no end
date) only when the field is named there.

Backfill: a row of an article's current version gets the article's current category, unit and validity
dates (they change only by an edit, which makes a new version); its review date only when no ``confirm``
of the same version came after the row (a confirm sets the review date without a new version). Rows of
older versions record nothing: their values are not known, and the diff reports no change from unknown.

``kb_synonyms`` on SQLite is rebuilt with AUTOINCREMENT: a plain ``INTEGER PRIMARY KEY`` hands a deleted
group's id (the highest) to the next new group, and a console form still showing the deleted group would
then edit an unrelated one. PostgreSQL sequences never reuse ids; nothing changes there.

Revision ID: 0013_kb_version_fields
Revises: 0011_kb_body_lines
Create Date: 2026-12-08 10:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import hotline.db

revision = '0013_kb_version_fields'
down_revision = '0011_kb_body_lines'  # the knowledge branch's head (0012 is the core branch's)
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TS = hotline.db.UtcDateTime(timezone=True)

ARTICLES = sa.table('kb_articles', sa.column('id', sa.Integer), sa.column('version', sa.Integer),
                    sa.column('category', sa.String), sa.column('unit_id', sa.Integer),
                    sa.column('valid_from', TS), sa.column('valid_to', TS), sa.column('review_due_at', TS))
VERSIONS = sa.table('kb_article_versions', sa.column('id', sa.Integer), sa.column('article_id', sa.Integer),
                    sa.column('version', sa.Integer), sa.column('action', sa.String),
                    sa.column('category', sa.String), sa.column('unit_id', sa.Integer),
                    sa.column('valid_from', TS), sa.column('valid_to', TS), sa.column('review_due_at', TS),
                    sa.column('recorded', JSON))
KNOWN = ['category', 'unit', 'valid_from', 'valid_to']  # recorded by every row of the current version


def upgrade() -> None:
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_from', TS, nullable=True))
        batch_op.add_column(sa.Column('valid_to', TS, nullable=True))
        batch_op.add_column(sa.Column('review_due_at', TS, nullable=True))
        batch_op.add_column(sa.Column('recorded', JSON, nullable=True))
    _backfill(op.get_bind())
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_synonyms(autoincrement=True)


def _backfill(conn) -> None:
    for art in conn.execute(sa.select(ARTICLES)).all():
        rows = conn.execute(sa.select(VERSIONS.c.id, VERSIONS.c.action).where(
            VERSIONS.c.article_id == art.id, VERSIONS.c.version == art.version).order_by(VERSIONS.c.id)).all()
        if not rows:
            continue
        confirms = [r.id for r in rows if r.action == 'confirm']
        since = confirms[-1] if confirms else rows[0].id  # from here on the review date is the current one
        values = {'category': art.category, 'unit_id': art.unit_id, 'valid_from': art.valid_from,
                  'valid_to': art.valid_to}
        mine = sa.and_(VERSIONS.c.article_id == art.id, VERSIONS.c.version == art.version)
        conn.execute(VERSIONS.update().where(mine, VERSIONS.c.id >= since).values(
            **values, review_due_at=art.review_due_at, recorded=[*KNOWN, 'review_due_at']))
        conn.execute(VERSIONS.update().where(mine, VERSIONS.c.id < since).values(**values, recorded=KNOWN))


def _rebuild_synonyms(autoincrement: bool) -> None:
    # copies the rows with their ids; SQLite's sqlite_sequence then starts after the highest one
    with op.batch_alter_table('kb_synonyms', schema=None, recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_synonyms(autoincrement=False)
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.drop_column('recorded')
        batch_op.drop_column('review_due_at')
        batch_op.drop_column('valid_to')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('unit_id')
        batch_op.drop_column('category')
