"""Tables of the e-mail, mayor's mailbox and Telegram channels."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import UtcDateTime, metadata

# One row per letter written on the public /mailbox form. The letter's number is
# its ticket's number; the query code is only stored as an HMAC.
mail_letters = sa.Table(
    "mail_letters", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("number", sa.String(20), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("form_nonce", sa.String(64), nullable=False, unique=True),
    sa.Column("publishable", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Form tokens: CSRF nonce (the signed form field must match the cookie) and the
# challenge answer, kept server-side; single use.
mail_form_tokens = sa.Table(
    "mail_form_tokens", metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("answer", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
)

# Rate-limit hits: one row per counted event (key like "ip:1.2.3.4").
mail_rate_hits = sa.Table(
    "mail_rate_hits", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_mail_rate_hits_key_at", "key", "at"),
)

# Publication of publishable letters after closing: redacted text, agent review.
mail_publications = sa.Table(
    "mail_publications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, unique=True),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("unit_name", sa.String(200)),
    sa.Column("state", sa.String(10), nullable=False, index=True),  # pending | published | rejected
    sa.Column("reviewer", sa.String(100)),
    sa.Column("review_note", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("reviewed_at", UtcDateTime),
)

# IMAP poller state per account/folder (observability; UIDVALIDITY change detection).
mail_imap_state = sa.Table(
    "mail_imap_state", metadata,
    sa.Column("account", sa.String(300), primary_key=True),
    sa.Column("uidvalidity", sa.String(30)),
    sa.Column("last_uid", sa.Integer),
    sa.Column("processed", sa.Integer, nullable=False, default=0),
    sa.Column("failed", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("last_poll_at", UtcDateTime),
)
