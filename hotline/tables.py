"""Core tables: citizens, units, categories, users, tickets and their history."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hotline.db import UtcDateTime, metadata

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

citizens = sa.Table(
    "citizens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("merged_into_id", sa.Integer, sa.ForeignKey("citizens.id")),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

citizen_identities = sa.Table(
    "citizen_identities", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # phone | wechat | email | telegram
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("kind", "value", name="uq_citizen_identities_kind_value"),
)

units = sa.Table(
    "units", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(50), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # department | district | street | utility | emergency | platform
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("contacts", JSON, nullable=False, default=list),
    sa.Column("notify_channels", JSON, nullable=False, default=list),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

categories = sa.Table(
    "categories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(50), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id")),
    sa.Column("level", sa.Integer, nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100)),
    sa.Column("role", sa.String(20), nullable=False),  # agent | dispatcher | unit | leader | admin
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("password_hash", sa.String(300)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(10), nullable=False),  # api | session
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime),
)

ticket_counters = sa.Table(
    "ticket_counters", metadata,
    sa.Column("day", sa.String(8), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(20), nullable=False, unique=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("intake_line", sa.String(10), nullable=False),
    sa.Column("request_type", sa.String(10), nullable=False),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id")),
    sa.Column("district", sa.String(100)),
    sa.Column("address", sa.String(300)),
    sa.Column("title", sa.String(200)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id"), index=True),
    # A phone number the citizen typed as their contact (chatbot, forms): reached for notices and the
    # callback, never one of the citizen's identities, since nobody verified it is theirs.
    sa.Column("contact_phone", sa.String(40), index=True),
    sa.Column("lead_unit_id", sa.Integer, sa.ForeignKey("units.id"), index=True),
    sa.Column("reject_reason", sa.String(30)),
    sa.Column("emergency_number", sa.String(5)),
    sa.Column("satisfaction", sa.String(10)),
    sa.Column("merged_into_id", sa.Integer, sa.ForeignKey("tickets.id")),
    sa.Column("reopen_count", sa.Integer, nullable=False, default=0),
    sa.Column("urge_count", sa.Integer, nullable=False, default=0),
    sa.Column("publishable", sa.Boolean, nullable=False, default=False),
    sa.Column("sign_due_at", UtcDateTime),
    sa.Column("reply_due_at", UtcDateTime),
    sa.Column("reply_budget_seconds", sa.Integer),
    sa.Column("paused_until", UtcDateTime),
    sa.Column("signed_at", UtcDateTime),
    sa.Column("replied_at", UtcDateTime),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("routing", JSON),
    sa.Column("extra", JSON),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

ticket_units = sa.Table(
    "ticket_units", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),  # lead | co
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("dispatched_at", UtcDateTime, nullable=False),
)

ticket_messages = sa.Table(
    "ticket_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), index=True),
    sa.Column("direction", sa.String(10), nullable=False),  # in | out | note
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("external_id", sa.String(200)),
    sa.Column("author", sa.String(200)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("attachments", JSON, nullable=False, default=list),
    sa.Column("meta", JSON),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("channel", "external_id", name="uq_ticket_messages_channel_external_id"),
)

attachments = sa.Table(
    "attachments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), index=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("ticket_messages.id")),
    sa.Column("filename", sa.String(300), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

ticket_links = sa.Table(
    "ticket_links", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("other_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # merged-into | duplicate-of | related
    sa.Column("created_at", UtcDateTime, nullable=False),
)

extensions = sa.Table(
    "extensions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # requested | approved | denied | cancelled (unit returned the ticket)
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("decided_at", UtcDateTime),
    sa.Column("starts_at", UtcDateTime),
    sa.Column("ends_at", UtcDateTime),
)

ticket_events = sa.Table(
    "ticket_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("from_state", sa.String(20)),
    sa.Column("to_state", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("data", JSON),
    sa.Column("at", UtcDateTime, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("object_type", sa.String(30), nullable=False),
    sa.Column("object_id", sa.String(50)),
    sa.Column("detail", JSON),
    sa.Column("at", UtcDateTime, nullable=False),
)

# Transactional outbox: written in the same transaction as the change it
# describes, delivered to jobs by the relay (hotline.outbox).
# A client's Idempotency-Key for a ticket it creates (POST /api/v1/tickets): the same key again, a double
# click or a retry after a lost answer, gets the same ticket.
idempotency_keys = sa.Table(
    "idempotency_keys", metadata,
    sa.Column("key", sa.String(200), primary_key=True),  # the caller's user name and the key it sent
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String(50), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("delivered_at", UtcDateTime, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
)
