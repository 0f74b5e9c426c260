"""routing tables: rules, corrections, model registry

Revision ID: 0003_routing
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import hotline.db

revision = "0003_routing"
down_revision = "0001_core"
branch_labels = ("routing",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("request_type", sa.String(length=100), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("intake_line", sa.String(length=100), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("lead_unit", sa.String(length=50), nullable=False),
        sa.Column("co_units", sa.String(length=300), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", hotline.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "routing_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("suggested_category", sa.String(length=50), nullable=True),
        sa.Column("suggested_unit", sa.String(length=50), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("request_type", sa.String(length=10), nullable=True),
        sa.Column("lead_unit", sa.String(length=50), nullable=True),
        sa.Column("co_units", JSON, nullable=True),
        sa.Column("previous_unit", sa.String(length=50), nullable=True),
        sa.Column("model_version", sa.String(length=80), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", hotline.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_routing_corrections_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_corrections")),
    )
    with op.batch_alter_table("routing_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_corrections_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_routing_corrections_created_at"), ["created_at"], unique=False)
    op.create_table(
        "routing_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("metrics", JSON, nullable=True),
        sa.Column("compared_with", JSON, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hotline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", hotline.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_models")),
        sa.UniqueConstraint("version", name=op.f("uq_routing_models_version")),
    )


def downgrade() -> None:
    op.drop_table("routing_models")
    with op.batch_alter_table("routing_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_corrections_created_at"))
        batch_op.drop_index(batch_op.f("ix_routing_corrections_ticket_id"))
    op.drop_table("routing_corrections")
    op.drop_table("routing_rules")
