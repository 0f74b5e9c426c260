"""knowledge: stored sentence vectors of articles for the optional semantic search stage

``kb_doc_vectors`` holds, per search document key, the vectors of an article's question lines and body
lines (float16) with a fingerprint of the lines and the model, so that every process shares what one of
them embedded and an unchanged article is never embedded again (``knowledge.semantic``). ``seq`` lets
other processes pick up new rows. The table stays empty unless ``HOTLINE_SEMANTIC`` is set; the downgrade
drops it (the vectors are computed again on the next reindex).

Revision ID: 0016_kb_doc_vectors
Revises: 0015_kb_pending_revisions
Create Date: 2026-12-08 02:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_kb_doc_vectors'
down_revision = '0015_kb_pending_revisions'  # the knowledge branch's head
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_doc_vectors",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(40), nullable=False),
        sa.Column("questions", sa.LargeBinary(), nullable=False),
        sa.Column("passages", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kb_doc_vectors")),
    )
    op.create_index(op.f("ix_kb_doc_vectors_seq"), "kb_doc_vectors", ["seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kb_doc_vectors_seq"), table_name="kb_doc_vectors")
    op.drop_table("kb_doc_vectors")
