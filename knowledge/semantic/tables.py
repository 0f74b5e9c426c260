"""The semantic stage's table on the shared metadata (Alembic revision 0016_kb_doc_vectors)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import metadata

kb_doc_vectors = sa.Table(
    "kb_doc_vectors", metadata,
    sa.Column("key", sa.String(64), primary_key=True),  # the search document's key: article:12
    sa.Column("fingerprint", sa.String(40), nullable=False),  # sha1 of the model name and the lines
    sa.Column("questions", sa.LargeBinary, nullable=False),  # float16, rows of the model's width
    sa.Column("passages", sa.LargeBinary, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
)

