"""knowledge base tables

Revision ID: 0004_knowledge
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import hotline.db

revision = "0004_knowledge"
down_revision = "0001_core"
branch_labels = ("knowledge",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = hotline.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("valid_from", TS, nullable=True),
        sa.Column("valid_to", TS, nullable=True),
        sa.Column("review_due_at", TS, nullable=True),
        sa.Column("review_flagged_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_kb_articles_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("external_id", name=op.f("uq_kb_articles_external_id")),
    )
    op.create_index(op.f("ix_kb_articles_unit_id"), "kb_articles", ["unit_id"])
    op.create_index(op.f("ix_kb_articles_status"), "kb_articles", ["status"])
    op.create_index(op.f("ix_kb_articles_updated_at"), "kb_articles", ["updated_at"])

    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_kb_article_versions_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
    )
    op.create_index(op.f("ix_kb_article_versions_article_id"), "kb_article_versions", ["article_id"])

    op.create_table(
        "kb_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.String(500), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_synonyms")),
    )

    op.create_table(
        "kb_search_docs",
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref_id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(50), nullable=True),
        sa.Column("unit", sa.String(50), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("date", TS, nullable=True),
        sa.Column("extra", JSON, nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kb_search_docs")),
    )
    op.create_index(op.f("ix_kb_search_docs_seq"), "kb_search_docs", ["seq"])

    op.create_table(
        "kb_state",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kb_state")),
    )

    op.create_table(
        "kb_chat_sessions",
        sa.Column("user_key", sa.String(250), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_key", name=op.f("pk_kb_chat_sessions")),
    )

    op.create_table(
        "kb_chat_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_key", sa.String(250), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("ticket_number", sa.String(20), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_kb_chat_log_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_chat_log")),
    )
    op.create_index(op.f("ix_kb_chat_log_user_key"), "kb_chat_log", ["user_key"])
    op.create_index(op.f("ix_kb_chat_log_created_at"), "kb_chat_log", ["created_at"])


def downgrade() -> None:
    for name in ("kb_chat_log", "kb_chat_sessions", "kb_state", "kb_search_docs",
                 "kb_synonyms", "kb_article_versions", "kb_articles"):
        op.drop_table(name)
