"""Tables of the jobs package: failed jobs, outbox claims, notifications, callback tasks, supervision stages."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import UtcDateTime, metadata
from hotline.tables import JSON

# A job that exhausted its retries, on either backend; admins list, retry or discard it.
job_failures = sa.Table(
    "job_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.String(100), nullable=False),
    sa.Column("func", sa.String(200), nullable=False),
    sa.Column("args", JSON, nullable=False),
    sa.Column("backend", sa.String(20), nullable=False),   # inprocess | rq
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),  # failed | retried | discarded
    sa.Column("failed_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime),
    sa.Column("resolved_by", sa.String(100)),
)

# Which relay handed which outbox row to the queue, and when (a lease: re-sent if never delivered).
outbox_claims = sa.Table(
    "outbox_claims", metadata,
    sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), primary_key=True),
    sa.Column("claimed_at", UtcDateTime, nullable=False),
    sa.Column("sends", sa.Integer, nullable=False, default=1),
)

# Every message to a citizen or a unit contact: recorded once per key, sent by a job.
notifications = sa.Table(
    "job_notifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), index=True),
    sa.Column("audience", sa.String(20), nullable=False),   # citizen | unit | supervisor | platform
    sa.Column("kind", sa.String(30), nullable=False),       # created | dispatched | reminder | urge | ...
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("recipient_kind", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("template", sa.String(100)),
    sa.Column("template_data", JSON),
    sa.Column("state", sa.String(20), nullable=False, index=True),  # pending | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("send_after", UtcDateTime, nullable=False),
    sa.Column("claimed_at", UtcDateTime),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("external_id", sa.String(200)),
    sa.Column("error", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# A satisfaction callback (回访) after a unit replied: automatic by message, or by an agent phoning.
callback_tasks = sa.Table(
    "callback_tasks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("round", sa.Integer, nullable=False),          # the ticket's reopen_count when created
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id"), index=True),
    sa.Column("mode", sa.String(10), nullable=False),        # auto | phone
    sa.Column("channel", sa.String(20)),
    sa.Column("recipient_kind", sa.String(20)),
    sa.Column("recipient", sa.String(200)),
    sa.Column("state", sa.String(20), nullable=False, index=True),  # pending | asked | answered | unreachable
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("satisfaction", sa.String(10)),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("answered_at", UtcDateTime),
    sa.UniqueConstraint("ticket_id", "round", name="uq_callback_tasks_ticket_round"),
)

# Supervision stages reached by a ticket, once each per round (reopen_count).
supervision_stages = sa.Table(
    "supervision_stages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),       # reminder | urge | escalation
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
    sa.Column("light", sa.String(10), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("deadline", sa.String(10), nullable=False, server_default="reply"),  # sign | reply
    sa.Column("assignment_id", sa.Integer),  # the dispatch (ticket_units row of the lead unit) it belongs to
    # Once per reply round, dispatch and deadline: a late sign-for does not use up the reply deadline's stages,
    # and a ticket dispatched again (to another unit, or the same one after a return) starts afresh.
    sa.UniqueConstraint("ticket_id", "round", "unit_id", "assignment_id", "deadline", "stage",
                        name="uq_supervision_stages_per_deadline"),
)
