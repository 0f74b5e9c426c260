"""The supervision sweep: recompute each open ticket's light and act once per stage.

yellow -> *reminder* to the unit; red -> *urge* (督办, the core ``urge``
transition, which notifies the unit's contacts and supervisor); still red
``escalate_after_hours`` working hours after the urge -> *escalation* to the
platform's supervisors. The sign-for deadline and the reply deadline each go
through these stages. Each stage is recorded in ``supervision_stages`` once per
ticket, reply round, dispatch and deadline (a ticket dispatched again, to another
unit or after a return to the same one, starts with no stages), in the same
transaction as its effect (the urge transition, or an outbox event for the notice).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hotline.db import insert_ignore
from hotline.jobs.tables import supervision_stages
from hotline.lifecycle import TransitionError
from hotline.tables import outbox, ticket_units, tickets
from hotline.users import SYSTEM
from hotline.views import deadlines

log = logging.getLogger(__name__)

SUPERVISED_STATES = ("dispatched", "signed")
URGE_NOTES = {"sign": "系统自动督办：签收时限已到期，请立即签收", "reply": "系统自动督办：答复时限已到期"}


def _due(ctx, stages: dict, light: str | None, now) -> str | None:
    """The next stage this deadline has reached, or None."""
    if light == "yellow" and "reminder" not in stages:
        return "reminder"
    if light == "red":
        if "urge" not in stages:
            return "urge"
        waited = ctx.service.calendar.between(stages["urge"], now)
        if "escalation" not in stages and waited >= ctx.jobs.escalate_after_hours * 3600:
            return "escalation"
    return None


async def _record(ctx, row, assignment_id, deadline: str, stage: str, light: str, now) -> bool:
    try:
        async with ctx.engine.begin() as conn:
            claimed = await conn.execute(insert_ignore(ctx.engine, supervision_stages).values(
                ticket_id=row.id, round=row.reopen_count, stage=stage, unit_id=row.lead_unit_id, light=light,
                deadline=deadline, assignment_id=assignment_id, at=now).on_conflict_do_nothing())
            if claimed.rowcount != 1:
                return False  # another sweep recorded it
            if stage == "urge":
                await ctx.service.transition_on(conn, row.id, "urge", SYSTEM, {"note": URGE_NOTES[deadline]}, None)
            else:
                payload = {"ticket_id": row.id, "number": row.number, "action": stage, "unit_id": row.lead_unit_id,
                           "light": light, "round": row.reopen_count, "deadline": deadline}
                await conn.execute(sa.insert(outbox).values(topic=f"supervision.{stage}", payload=payload,
                                                            created_at=now, attempts=0))
        return True
    except (TransitionError, IntegrityError) as exc:  # the ticket moved on meanwhile
        log.info("supervision %s for %s skipped: %s", stage, row.number, exc)
        return False


async def sweep(ctx) -> list[tuple[str, str]]:
    """One pass over the open tickets; returns the (ticket number, stage) pairs recorded. The sign-for
    deadline (while dispatched) and the reply deadline each go through reminder, urge and escalation."""
    now = ctx.now()
    async with ctx.engine.connect() as conn:
        rows = list(await conn.execute(sa.select(tickets).where(tickets.c.state.in_(SUPERVISED_STATES))
                                       .order_by(tickets.c.id)))
        reached: dict[tuple, dict] = {}
        assignment: dict[int, int] = {}
        if rows:
            ids = [r.id for r in rows]
            for s in await conn.execute(sa.select(supervision_stages).where(supervision_stages.c.ticket_id.in_(ids))):
                key = (s.ticket_id, s.round, s.unit_id, s.assignment_id, s.deadline)
                reached.setdefault(key, {})[s.stage] = s.at
            assignment = dict((await conn.execute(sa.select(ticket_units.c.ticket_id, ticket_units.c.id).where(
                ticket_units.c.ticket_id.in_(ids), ticket_units.c.active.is_(True),
                ticket_units.c.role == "lead"))).all())
    done = []
    for row in rows:
        lights = deadlines(ctx.service, row, now)
        for deadline in ("sign", "reply"):
            light = lights[f"{deadline}_light"]
            if light is None:  # no sign-for deadline once signed
                continue
            key = (row.id, row.reopen_count, row.lead_unit_id, assignment.get(row.id), deadline)
            stage = _due(ctx, reached.get(key, {}), light, now)
            if stage and await _record(ctx, row, assignment.get(row.id), deadline, stage, light, now):
                done.append((row.number, stage))
                break  # one step per ticket and sweep: the next sweep sees what this one did
    return done
