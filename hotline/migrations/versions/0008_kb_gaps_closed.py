"""knowledge: a knowledge gap can be closed by an editor (kb_chat_log.gap_closed_at / gap_closed_by)

Revision ID: 0008_kb_gaps_closed
Revises: 0004_knowledge
Create Date: 2026-11-23 18:40:00
"""
from alembic import op
import sqlalchemy as sa

import hotline.db

revision = "0008_kb_gaps_closed"
down_revision = "0004_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_chat_log") as batch:
        batch.add_column(sa.Column("gap_closed_at", hotline.db.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("gap_closed_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_chat_log") as batch:
        batch.drop_column("gap_closed_by")
        batch.drop_column("gap_closed_at")
