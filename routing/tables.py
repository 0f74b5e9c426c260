"""Routing tables: the rule table, dispatcher corrections and the model registry."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hotline.db import UtcDateTime, metadata

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

routing_rules = sa.Table(
    "routing_rules", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("category", sa.String(200), nullable=False, default=""),
    sa.Column("request_type", sa.String(100), nullable=False, default=""),
    sa.Column("area", sa.String(200), nullable=False, default=""),
    sa.Column("intake_line", sa.String(100), nullable=False, default=""),
    sa.Column("keywords", sa.Text, nullable=False, default=""),
    sa.Column("lead_unit", sa.String(50), nullable=False),
    sa.Column("co_units", sa.String(300), nullable=False, default=""),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("note", sa.String(300), nullable=False, default=""),
    sa.Column("updated_by", sa.String(100)),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Labelled examples from dispatchers: what the router suggested and what a person decided.
routing_corrections = sa.Table(
    "routing_corrections", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # dispatch | redispatch
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("suggested_category", sa.String(50)),
    sa.Column("suggested_unit", sa.String(50)),
    sa.Column("category", sa.String(50)),
    sa.Column("request_type", sa.String(10)),
    sa.Column("lead_unit", sa.String(50)),
    sa.Column("co_units", JSON),
    sa.Column("previous_unit", sa.String(50)),
    sa.Column("model_version", sa.String(80)),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)

routing_models = sa.Table(
    "routing_models", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.String(80), nullable=False, unique=True),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("metrics", JSON),
    sa.Column("compared_with", JSON),
    sa.Column("active", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("activated_at", UtcDateTime),
)
