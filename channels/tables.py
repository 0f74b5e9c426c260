"""Tables of the WeChat, SMS and phone channels."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import UtcDateTime, metadata

# WeChat retries (MsgId, or FromUserName+CreateTime for events) seen by any process; the reply
# given is kept so a retry that arrives after the answer gets the same answer.
wechat_deliveries = sa.Table(
    "wechat_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Column("reply", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)

# The 48-hour customer-service window per citizen, and how much of its quota is used.
wechat_sessions = sa.Table(
    "wechat_sessions", metadata,
    sa.Column("openid", sa.String(100), primary_key=True),
    sa.Column("last_inbound_at", UtcDateTime, nullable=False),
    sa.Column("window_sent", sa.Integer, nullable=False, default=0),
)

sms_outbound = sa.Table(
    "sms_outbound", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_ref", sa.String(100), nullable=False, unique=True),
    sa.Column("gateway_id", sa.String(100), index=True),
    sa.Column("phone", sa.String(30), nullable=False, index=True),
    sa.Column("ticket_number", sa.String(20)),
    sa.Column("kind", sa.String(20), nullable=False),     # notice | callback
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("segments", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),   # pending | sent | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.String(200)),
    sa.Column("answered_at", UtcDateTime),                # the citizen's satisfaction reply, for callbacks
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Parts of a concatenated inbound SMS until all have arrived.
sms_parts = sa.Table(
    "sms_parts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender", sa.String(30), nullable=False),
    sa.Column("ref", sa.String(50), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("sender", "ref", "seq", name="uq_sms_parts_sender_ref_seq"),
)

call_records = sa.Table(
    "call_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("call_id", sa.String(100), nullable=False, unique=True),
    sa.Column("source", sa.String(10), nullable=False),        # cti | ari
    sa.Column("direction", sa.String(3), nullable=False),      # in | out
    sa.Column("from_number", sa.String(30), nullable=False),
    sa.Column("to_number", sa.String(30), nullable=False),
    sa.Column("intake_line", sa.String(10), nullable=False, index=True),
    sa.Column("state", sa.String(10), nullable=False),         # ringing | answered | ended
    sa.Column("started_at", UtcDateTime, nullable=False, index=True),
    sa.Column("answered_at", UtcDateTime),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("answered_by", sa.String(100)),
    sa.Column("wait_seconds", sa.Float),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("abandoned", sa.Boolean),
    sa.Column("cause", sa.String(50)),
    sa.Column("recording_url", sa.String(500)),
    sa.Column("recording_seconds", sa.Float),
)
