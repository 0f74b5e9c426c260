"""Knowledge-base tables on the shared metadata (Alembic revision 0004_knowledge)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import UtcDateTime, metadata
from hotline.tables import JSON

# Article statuses: draft -> in_review -> published -> expired / archived.
kb_articles = sa.Table(
    "kb_articles", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("external_id", sa.String(200), unique=True),  # id from an import file
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),          # sanitized
    sa.Column("body_text", sa.Text, nullable=False),          # plain text for search and the chatbot
    sa.Column("category", sa.String(50)),                     # categories.code
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), index=True),
    sa.Column("keywords", JSON, nullable=False, default=list),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_to", UtcDateTime),
    sa.Column("review_due_at", UtcDateTime),
    sa.Column("review_flagged_at", UtcDateTime),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("published_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False, index=True),
)

# The fields besides title, body and keywords that a version row records (kb_article_versions.recorded).
VERSION_FIELDS = ("category", "unit", "valid_from", "valid_to", "review_due_at")

kb_article_versions = sa.Table(
    "kb_article_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("keywords", JSON, nullable=False, default=list),
    # The other editable fields as they were at this row (Alembic 0013). ``recorded`` names those of
    # ``VERSION_FIELDS`` the row knows: a null there is a real value (no category, no end date); a field
    # not named is unknown (rows written before 0013 record none, or only what could be recovered).
    sa.Column("category", sa.String(50)),
    sa.Column("unit_id", sa.Integer),  # no foreign key: a record of what was, as changed_by is
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_to", UtcDateTime),
    sa.Column("review_due_at", UtcDateTime),
    sa.Column("recorded", JSON),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),   # create | edit | submit | publish | reject | expire | archive | restore | confirm
    # | propose | publish_revision | reject_revision | withdraw_revision (kb_article_revisions)
    sa.Column("changed_by", sa.String(100), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# A member unit's (or a draft import's) edit of a published article, waiting for an editor (Alembic 0015):
# the published version stays live, unchanged, until an editor publishes the revision (which applies it as
# a new version), rejects it (``state`` rejected, ``reason`` for the unit) or its unit withdraws it. At most
# one per article; a new edit replaces it. ``base_version`` is the article version it was written against
# (it cannot be published once the article changed); ``version`` guards the revision itself, as the
# article's does.
kb_article_revisions = sa.Table(
    "kb_article_revisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id"), nullable=False, unique=True),
    sa.Column("base_version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("category", sa.String(50)),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("keywords", JSON, nullable=False, default=list),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_to", UtcDateTime),
    sa.Column("review_due_at", UtcDateTime),
    sa.Column("state", sa.String(20), nullable=False, index=True),  # pending | rejected
    sa.Column("reason", sa.Text),                                    # the editor's, when rejected
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("reviewed_by", sa.String(100)),
    sa.Column("reviewed_at", UtcDateTime),
)

kb_synonyms = sa.Table(
    "kb_synonyms", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("terms", sa.String(500), nullable=False),  # "社保,社会保险"
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # ids are never reused (SQLite AUTOINCREMENT, Alembic 0013; PostgreSQL sequences never reuse): a stale
    # console form naming a deleted group's id answers 404 instead of editing a newer group
    sqlite_autoincrement=True,
)

# The embedded index's persisted documents (tokens kept so loading needs no jieba).
kb_search_docs = sa.Table(
    "kb_search_docs", metadata,
    sa.Column("key", sa.String(60), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("ref_id", sa.String(100), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("category", sa.String(50)),
    sa.Column("unit", sa.String(50)),
    sa.Column("status", sa.String(20)),
    sa.Column("date", UtcDateTime),
    sa.Column("extra", JSON),
    sa.Column("words", sa.Text, nullable=False),  # space-joined jieba tokens
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),  # change counter, for other processes to catch up
)

# Small key/value state: index cursors, the embedded index's change counter.
kb_state = sa.Table(
    "kb_state", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Chatbot dialogue state per user when Redis is not configured.
kb_chat_sessions = sa.Table(
    "kb_chat_sessions", metadata,
    sa.Column("user_key", sa.String(250), primary_key=True),
    sa.Column("state", JSON, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Every chatbot question and its outcome: feedback and knowledge gaps.
kb_chat_log = sa.Table(
    "kb_chat_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("user_key", sa.String(250), nullable=False, index=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # answered | clarify | unanswered | ticket
    sa.Column("article_id", sa.Integer, sa.ForeignKey("kb_articles.id")),
    sa.Column("confidence", sa.Float),
    sa.Column("helpful", sa.Boolean),
    sa.Column("ticket_number", sa.String(20)),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    # An editor dealt with this knowledge gap (wrote or fixed an article); later askings open it again.
    sa.Column("gap_closed_at", UtcDateTime),
    sa.Column("gap_closed_by", sa.String(100)),
)
