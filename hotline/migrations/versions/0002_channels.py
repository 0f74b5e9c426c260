"""channels tables: WeChat dedupe and windows, SMS outbound and parts, call records

Revision ID: 0002_channels
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

import hotline.db

revision = "0002_channels"
down_revision = "0001_core"
branch_labels = ("channels",)
depends_on = None

UTC = hotline.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_wechat_deliveries_dedupe_key")),
    )
    op.create_index(op.f("ix_wechat_deliveries_created_at"), "wechat_deliveries", ["created_at"])
    op.create_table(
        "wechat_sessions",
        sa.Column("openid", sa.String(length=100), nullable=False),
        sa.Column("last_inbound_at", UTC, nullable=False),
        sa.Column("window_sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_sessions")),
    )
    op.create_table(
        "sms_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_ref", sa.String(length=100), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("ticket_number", sa.String(length=20), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbound")),
        sa.UniqueConstraint("client_ref", name=op.f("uq_sms_outbound_client_ref")),
    )
    op.create_index(op.f("ix_sms_outbound_gateway_id"), "sms_outbound", ["gateway_id"])
    op.create_index(op.f("ix_sms_outbound_phone"), "sms_outbound", ["phone"])
    op.create_table(
        "sms_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=30), nullable=False),
        sa.Column("ref", sa.String(length=50), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_parts")),
        sa.UniqueConstraint("sender", "ref", "seq", name="uq_sms_parts_sender_ref_seq"),
    )
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("from_number", sa.String(length=30), nullable=False),
        sa.Column("to_number", sa.String(length=30), nullable=False),
        sa.Column("intake_line", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=True),
        sa.Column("cause", sa.String(length=50), nullable=True),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("recording_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
        sa.UniqueConstraint("call_id", name=op.f("uq_call_records_call_id")),
    )
    op.create_index(op.f("ix_call_records_intake_line"), "call_records", ["intake_line"])
    op.create_index(op.f("ix_call_records_started_at"), "call_records", ["started_at"])


def downgrade() -> None:
    for table in ("call_records", "sms_parts", "sms_outbound", "wechat_sessions", "wechat_deliveries"):
        op.drop_table(table)
