"""The supervision sweep: recompute each open ticket's light and act once per stage.

yellow -> *reminder* to the unit; red -> *urge* (督办, the core ``urge``
transition, which notifies the unit's contacts and supervisor); still red
``escalate_after_hours`` working hours after the urge -> *escalation* to the
platform's supervisors. Each stage is recorded in ``supervision_stages`` once
per ticket, reply round and handling unit (a unit that gets a ticket another
returned starts with no stages), in the same transaction as its effect (the urge
transition, or an outbox event for the notice).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hotline.db import insert_ignore
from hotline.jobs.tables import supervision_stages
from hotline.lifecycle import TransitionError
from hotline.tables import outbox, tickets
from hotline.users import SYSTEM
from hotline.views import deadlines

log = logging.getLogger(__name__)

SUPERVISED_STATES = ("dispatched", "signed")
URGE_NOTE = "系统自动督办：办理时限已到期"


def _due(ctx, row, stages: dict, light: str | None, now) -> str | None:
    """The next stage this ticket has reached, or None."""
    if light == "yellow" and "reminder" not in stages:
        return "reminder"
    if light == "red":
        if "urge" not in stages:
            return "urge"
        waited = ctx.service.calendar.between(stages["urge"], now)
        if "escalation" not in stages and waited >= ctx.jobs.escalate_after_hours * 3600:
            return "escalation"
    return None


async def _record(ctx, row, stage: str, light: str, now) -> bool:
    try:
        async with ctx.engine.begin() as conn:
            claimed = await conn.execute(insert_ignore(ctx.engine, supervision_stages).values(
                ticket_id=row.id, round=row.reopen_count, stage=stage, unit_id=row.lead_unit_id, light=light,
                at=now).on_conflict_do_nothing())
            if claimed.rowcount != 1:
                return False  # another sweep recorded it
            if stage == "urge":
                await ctx.service.transition_on(conn, row.id, "urge", SYSTEM, {"note": URGE_NOTE}, None)
            else:
                payload = {"ticket_id": row.id, "number": row.number, "action": stage, "unit_id": row.lead_unit_id,
                           "light": light, "round": row.reopen_count}
                await conn.execute(sa.insert(outbox).values(topic=f"supervision.{stage}", payload=payload,
                                                            created_at=now, attempts=0))
        return True
    except (TransitionError, IntegrityError) as exc:  # the ticket moved on meanwhile
        log.info("supervision %s for %s skipped: %s", stage, row.number, exc)
        return False


async def sweep(ctx) -> list[tuple[str, str]]:
    """One pass over the open tickets; returns the (ticket number, stage) pairs recorded."""
    now = ctx.now()
    async with ctx.engine.connect() as conn:
        rows = list(await conn.execute(sa.select(tickets).where(tickets.c.state.in_(SUPERVISED_STATES))
                                       .order_by(tickets.c.id)))
        reached: dict[tuple[int, int, int | None], dict] = {}
        if rows:
            found = await conn.execute(sa.select(supervision_stages).where(
                supervision_stages.c.ticket_id.in_([r.id for r in rows])))
            for s in found:
                reached.setdefault((s.ticket_id, s.round, s.unit_id), {})[s.stage] = s.at
    done = []
    for row in rows:
        light = deadlines(ctx.service, row, now)["light"]
        stages = reached.get((row.id, row.reopen_count, row.lead_unit_id), {})
        stage = _due(ctx, row, stages, light, now)
        if stage and await _record(ctx, row, stage, light, now):
            done.append((row.number, stage))
    return done
