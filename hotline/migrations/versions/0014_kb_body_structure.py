"""knowledge: an article's plain text keeps list bullets, table rows and link addresses (recomputed)

The plain text (``body_text``: what agents insert into replies, what the chatbot sends and what search
indexes) flattened structure: list items lost their bullets and numbers, a table row became one cell a
line, a link lost its address. It now writes list items as "• …" / "1. …" lines, a table row as one
"甲 | 乙" line and a link as "文字（https://…）" (``knowledge.sanitize.plain_text``). Data only, as 0011:
each stored article's plain text is recomputed from its stored body; the index job then rebuilds the
search index once (``knowledge.search.base.DOC_TEXT_VERSION`` 5).

Revision ID: 0014_kb_body_structure
Revises: 0013_kb_version_fields
Create Date: 2026-12-09 09:00:00
"""
import html
import re

from alembic import op
import sqlalchemy as sa

revision = '0014_kb_body_structure'
down_revision = '0013_kb_version_fields'  # the knowledge branch's head
branch_labels = None
depends_on = None

ARTICLES = sa.table('kb_articles', sa.column('id', sa.Integer), sa.column('body_html', sa.Text),
                    sa.column('body_text', sa.Text))


def upgrade() -> None:
    from knowledge.sanitize import plain_text

    _recompute(plain_text)


def downgrade() -> None:
    _recompute(_plain_text_0011)


def _recompute(plain_text) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(ARTICLES.c.id, ARTICLES.c.body_html, ARTICLES.c.body_text)).all():
        text = plain_text(row.body_html or "")
        if text != row.body_text:
            conn.execute(ARTICLES.update().where(ARTICLES.c.id == row.id).values(body_text=text))


# The plain text as 0011 made it (inline tags dropped, every other tag a line break), for the downgrade.
_INLINE_0011 = frozenset({"a", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "code"})
_TAG_0011 = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)?[^>]*>")


def _plain_text_0011(value: str) -> str:
    text = _TAG_0011.sub(lambda m: "" if (m.group(1) or "").lower() in _INLINE_0011 else "\n", value or "")
    lines = (" ".join(line.split()) for line in html.unescape(text).replace("\xa0", " ").splitlines())
    return "\n".join(line for line in lines if line)
